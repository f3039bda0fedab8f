"""Keyset (cursor) paging of the task list: the body stays a plain array.

The next page is in `Link: <url>; rel="next"`, the number of matching tasks in
`X-Total-Count`. A cursor names the sort and the last task's sort value and id;
the next page starts strictly after that pair, so its cost does not depend on how
deep it is, and tasks created or deleted during a walk never shift the others.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, OrderBy, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from tasks.models import MAX_TASK_ID, Priority, Task

# The model field behind each `sort` value, and whether it can be null.
SORT_COLUMNS: dict[str, tuple[str, bool]] = {
    "created": ("created_at", False),
    "updated": ("updated_at", False),
    "title": ("title", False),
    "due_date": ("due_date", True),
    "priority": ("priority", False),
}
INVALID_CURSOR = "This cursor is not one this list handed out, or was made for another sort."


@dataclass(frozen=True)
class Keyset:
    """One sort order of the list: column, direction, and whether it holds nulls."""

    column: str
    descending: bool
    nullable: bool

    @classmethod
    def for_sort(cls, sort: str) -> "Keyset":
        column, nullable = SORT_COLUMNS[sort.lstrip("-")]
        return cls(column, sort.startswith("-"), nullable)

    def ordering(self) -> list[OrderBy]:
        # Tasks without a due date come last in either direction.
        nulls_last = True if self.nullable else None
        if self.descending:
            return [F(self.column).desc(nulls_last=nulls_last), F("id").desc()]
        return [F(self.column).asc(nulls_last=nulls_last), F("id").asc()]

    def after(self, value: Any, task_id: int) -> Q:
        """Tasks that come strictly after (`value`, `task_id`) in this order."""
        beyond = "lt" if self.descending else "gt"
        if value is None:
            return Q(**{f"{self.column}__isnull": True, f"id__{beyond}": task_id})
        # The redundant bound (>= or <=) lets the database seek into the index.
        bound = "lte" if self.descending else "gte"
        condition = Q(**{f"{self.column}__{bound}": value}) & (
            Q(**{f"{self.column}__{beyond}": value})
            | Q(**{self.column: value, f"id__{beyond}": task_id})
        )
        if self.nullable:
            condition |= Q(**{f"{self.column}__isnull": True})
        return condition

    def encode_value(self, task: Task) -> Any:
        value = getattr(task, self.column)
        return value.isoformat() if isinstance(value, datetime) else value

    def decode_value(self, raw: Any) -> Any:
        """The cursor's sort value as the column holds it; ValueError if it can't be."""
        if raw is None and self.nullable:
            return None
        if self.column in ("created_at", "updated_at", "due_date"):
            value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
            if value is None or value.tzinfo is None:
                raise ValueError
            return value
        valid = raw in Priority.values if self.column == "priority" else isinstance(raw, str)
        if not valid or isinstance(raw, bool):
            raise ValueError
        return raw


def encode_cursor(sort: str, keyset: Keyset, task: Task) -> str:
    payload = json.dumps([sort, keyset.encode_value(task), task.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keyset: Keyset) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; a 400 naming `cursor` if it is bad."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_sort, raw_value, task_id = json.loads(base64.urlsafe_b64decode(padded))
        if cursor_sort != sort or type(task_id) is not int or not 0 < task_id <= MAX_TASK_ID:
            raise ValueError
        return keyset.decode_value(raw_value), task_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    total: int
    next_cursor: str | None

    def headers(self, request: Request) -> dict[str, str]:
        headers = {"X-Total-Count": str(self.total)}
        if self.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", self.next_cursor)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return headers


def paginate(tasks: QuerySet[Task], *, sort: str, limit: int, cursor: str | None) -> Page:
    """One page of `tasks` in `sort` order: two queries, the count and the page."""
    keyset = Keyset.for_sort(sort)
    ordered = tasks.order_by(*keyset.ordering())
    if cursor:
        value, task_id = decode_cursor(cursor, sort, keyset)
        ordered = ordered.filter(keyset.after(value, task_id))
    total = tasks.count()
    page = list(ordered[: limit + 1])
    next_cursor = encode_cursor(sort, keyset, page[limit - 1]) if len(page) > limit else None
    return Page(page[:limit], total, next_cursor)
