"""Keyset (cursor) paging of the task list: the body stays a plain array.

The next page is in `Link: <url>; rel="next"`, the number of matching tasks in
`X-Total-Count`. A cursor names the sort and the last task's sort value and id;
the next page starts strictly after that pair, so its cost does not depend on how
deep it is, and tasks created or deleted during a walk never shift the others.
"""

import base64
import binascii
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import models
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from tasks import queries
from tasks.models import MAX_TASK_ID, Notification, Priority
from tasks.queries import TaskRow

Row = TypeVar("Row")
INVALID_CURSOR = "This cursor is not one this list handed out, or was made for another sort."
# Longer than any cursor this list hands out (after a title of 200 characters that
# JSON escapes, about 1,650).
MAX_CURSOR_LENGTH = 2048


def _decode_value(field: models.Field, raw: Any) -> Any:
    """A cursor's sort value as `field` holds it; ValueError if it can't be one (an
    instant no database date-time holds is an OverflowError)."""
    if raw is None and field.null:
        return None
    if isinstance(field, models.DateTimeField):
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        if value is None or value.tzinfo is None:
            raise ValueError
        return value.astimezone(UTC)
    if field.choices:
        if raw not in Priority.values or isinstance(raw, bool):
            raise ValueError
        return raw
    if not isinstance(raw, str) or "\x00" in raw:
        raise ValueError
    raw.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
    return raw


def _cursor(order: str, value: Any, row_id: int) -> str:
    """A cursor pointing after the row (`value` in the `order`, then `row_id`)."""
    # UTF-8 rather than \u escapes: a title of 200 emoji stays a 1 KB cursor, not 3 KB.
    payload = json.dumps([order, value, row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _pointed(cursor: str, order: str, decode: Callable[[Any], Any]) -> tuple[Any, int]:
    """The (value, id) a cursor of this `order` points after, the value as `decode`
    reads it; a 400 naming `cursor` if it is bad."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_order, raw_value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if cursor_order != order or type(row_id) is not int or not 0 < row_id <= MAX_TASK_ID:
            raise ValueError
        return decode(raw_value), row_id
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None


def encode_cursor(sort: str, task: TaskRow) -> str:
    """A cursor pointing after this task in the `sort` order."""
    position = task[queries.sort_field(sort).attname]  # type: ignore[literal-required]
    if isinstance(position, datetime):
        position = position.isoformat()
    return _cursor(sort, position, task["id"])


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; a 400 naming `cursor` if it is bad."""
    return _pointed(cursor, sort, functools.partial(_decode_value, queries.sort_field(sort)))


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    total: int
    next_cursor: str | None

    def headers(self, request: Request) -> dict[str, str]:
        headers = {"X-Total-Count": str(self.total)}
        if self.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", self.next_cursor)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return headers


def paginate(*, user_id: str, query: dict[str, Any]) -> Page[TaskRow]:
    """The page a validated TaskListQuery asks for: one query, two if it is empty
    after a cursor (the count can't ride along with no rows)."""
    sort, limit, cursor = query["sort"], query["limit"], query.get("cursor")
    after = decode_cursor(cursor, sort) if cursor else None
    rows, total = queries.task_page(user_id=user_id, query=query, after=after, size=limit + 1)
    if total is None:
        total = queries.task_count(user_id=user_id, query=query) if cursor else 0
    next_cursor = encode_cursor(sort, rows[limit - 1]) if len(rows) > limit else None
    return Page(rows[:limit], total, next_cursor)


# The notifications' one order: newest first, by id (they are numbered as they fire).
NOTIFICATION_ORDER = "-id"

IdRow = TypeVar("IdRow", bound=models.Model)


def _nothing(raw: Any) -> None:
    if raw is not None:
        raise ValueError


def paginate_by_id(
    rows: models.QuerySet[IdRow], query: dict[str, Any], order: str, *, newest_first: bool
) -> Page[IdRow]:
    """A page of `rows` in id order (descending if `newest_first`) after the cursor's,
    which must have been made for `order` (a name of this list, so that one list
    refuses another's cursors): two queries, the count and the rows."""
    limit, cursor = query["limit"], query.get("cursor")
    rows = rows.order_by("-id" if newest_first else "id")
    total = rows.count()
    if cursor:
        _, last_id = _pointed(cursor, order, _nothing)
        rows = rows.filter(id__lt=last_id) if newest_first else rows.filter(id__gt=last_id)
    found = list(rows[: limit + 1])
    next_cursor = _cursor(order, None, found[limit - 1].pk) if len(found) > limit else None
    return Page(found[:limit], total, next_cursor)


def paginate_notifications(*, user_id: str, query: dict[str, Any]) -> Page[Notification]:
    """A page of the user's notifications, newest first, after the cursor's."""
    notifications = Notification.objects.filter(user_id=user_id)
    return paginate_by_id(notifications, query, NOTIFICATION_ORDER, newest_first=True)
