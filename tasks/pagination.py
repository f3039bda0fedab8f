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

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from tasks import selectors
from tasks.models import MAX_TASK_ID, Priority

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

    def order_by_sql(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        # Tasks without a due date come last in either direction; ties go by id.
        nulls = " NULLS LAST" if self.nullable else ""
        return f"{self.column} {direction}{nulls}, id {direction}"

    def after_sql(self, value: Any, task_id: int) -> tuple[str, list[Any]]:
        """SQL for the tasks strictly after (`value`, `task_id`) in this order."""
        beyond = "<" if self.descending else ">"
        column = self.column
        if value is None:
            return f"({column} IS NULL AND id {beyond} %s)", [task_id]
        # The redundant bound (>= or <=) lets the database seek into the index.
        sql = f"{column} {beyond}= %s AND ({column} {beyond} %s OR id {beyond} %s)"
        if self.nullable:
            sql = f"({sql} OR {column} IS NULL)"
        return f"({sql})", [value, value, task_id]

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


def encode_cursor(sort: str, keyset: Keyset, task: dict[str, Any]) -> str:
    """A cursor pointing after this task (a row from the selectors)."""
    position = task[keyset.column]
    if isinstance(position, datetime):
        position = position.isoformat()
    # UTF-8 rather than \u escapes: a title of 200 emoji stays a 1 KB cursor, not 3 KB.
    payload = json.dumps([sort, position, task["id"]], separators=(",", ":"), ensure_ascii=False)
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
    tasks: list[dict[str, Any]]
    total: int
    next_cursor: str | None

    def headers(self, request: Request) -> dict[str, str]:
        headers = {"X-Total-Count": str(self.total)}
        if self.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", self.next_cursor)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return headers


def paginate(*, user_id: str, query: dict[str, Any]) -> Page:
    """The page a validated TaskListQuery asks for: one query, two if it is empty
    after a cursor (the count can't ride along with no rows)."""
    sort, limit, cursor = query["sort"], query["limit"], query.get("cursor")
    keyset = Keyset.for_sort(sort)
    position = keyset.after_sql(*decode_cursor(cursor, sort, keyset)) if cursor else None
    rows, total = selectors.task_page(
        user_id=user_id,
        query=query,
        order_by=keyset.order_by_sql(),
        position=position,
        size=limit + 1,
    )
    if total is None:
        total = selectors.task_count(user_id=user_id, query=query) if cursor else 0
    next_cursor = encode_cursor(sort, keyset, rows[limit - 1]) if len(rows) > limit else None
    return Page(rows[:limit], total, next_cursor)
