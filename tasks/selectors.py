"""Reads of tasks, always scoped to their owner.

These two reads serve nearly every request, so their SQL is written here, once,
rather than built by the ORM per request: building the query cost several times
what the database spends answering it. The SQL is plain enough for PostgreSQL
and SQLite alike. Rows come back as dicts of TASK_FIELDS, ready for `task_json`.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg.types.datetime import TimestamptzLoader

from tasks.models import Task, tag_key
from tasks.serializers import TASK_FIELDS

_TABLE = Task._meta.db_table
COLUMNS = ", ".join(TASK_FIELDS)
_GET = f"SELECT {COLUMNS} FROM {_TABLE} WHERE id = %s AND user_id = %s"  # noqa: S608


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _adapted(params: list[Any]) -> list[Any]:
    """Parameters as their columns take them: tags as JSON, date-times as the
    database stores them (SQLite keeps them as text)."""
    adapt = connection.ops.adapt_datetimefield_value
    return [
        json.dumps(value)
        if isinstance(value, list)
        else adapt(value)
        if isinstance(value, datetime)
        else value
        for value in params
    ]


def _aware(value: datetime | str | None) -> datetime | None:
    # PostgreSQL returns aware date-times; SQLite naive ones (or text), in UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@contextmanager
def _cursor() -> Iterator[Any]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's own timestamptz loader is pure Python: on a page of tasks it
            # costs more than the query. psycopg's compiled one gives the same UTC
            # date-times (the connection's time zone is UTC).
            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        yield cursor


def task_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A row of COLUMNS as a task: JSON decoded, booleans and date-times typed."""
    (
        id_,
        user_id,
        title,
        description,
        completed,
        completed_at,
        priority,
        due,
        tags,
        created,
        updated,
    ) = row
    return {
        "id": id_,
        "user_id": user_id,
        "title": title,
        "description": description,
        "completed": bool(completed),
        "completed_at": _aware(completed_at),
        "priority": priority,
        "due_date": _aware(due),
        "tags": json.loads(tags),
        "created_at": _aware(created),
        "updated_at": _aware(updated),
    }


def fetch_task(sql: str, params: list[Any]) -> dict[str, Any] | None:
    """The one task row of COLUMNS that `sql` returns (a SELECT, or a write with
    RETURNING), or None."""
    with _cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        row = cursor.fetchone()
    return task_from_row(row) if row else None


def task_get(*, user_id: str, task_id: int) -> dict[str, Any] | None:
    """The owner's task with this id, or None (another user's task is None too)."""
    return fetch_task(_GET, [task_id, user_id])


def task_filters(*, user_id: str, query: dict[str, Any]) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of a validated TaskListQuery."""
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    conditions = ["user_id = %s"]
    params: list[Any] = [user_id]
    if query["status"] != "all":
        conditions.append("completed = %s")
        params.append(query["status"] == "completed")
    if search := query.get("search"):
        conditions.append(f"(title {like} %s ESCAPE '\\' OR description {like} %s ESCAPE '\\')")
        params += [_like_pattern(search)] * 2
    if "priority" in query:
        conditions.append("priority = %s")
        params.append(query["priority"])
    if tag := query.get("tag"):
        conditions.append("tag_keys LIKE %s ESCAPE '\\'")
        params.append(_like_pattern(tag_key(tag)))
    if "due_before" in query:
        conditions.append("due_date < %s")
        params.append(query["due_before"])
    if "due_after" in query:
        conditions.append("due_date > %s")
        params.append(query["due_after"])
    if query["overdue"]:
        conditions.append("completed = %s AND due_date < %s")
        params += [False, timezone.now()]
    return " AND ".join(conditions), params


def page_sql(
    *,
    user_id: str,
    query: dict[str, Any],
    order_by: str,
    position: tuple[str, list[Any]] | None,
    size: int,
) -> tuple[str, list[Any]]:
    """The SQL of `task_page` and its parameters."""
    where, params = task_filters(user_id=user_id, query=query)
    page_where, page_params = where, list(params)
    if position is not None:
        page_where = f"{where} AND {position[0]}"
        page_params += position[1]
    sql = (
        f"SELECT {COLUMNS}, (SELECT COUNT(*) FROM {_TABLE} WHERE {where}) "  # noqa: S608
        f"FROM {_TABLE} WHERE {page_where} ORDER BY {order_by} LIMIT %s"
    )
    return sql, _adapted([*params, *page_params, size])


def task_page(
    *,
    user_id: str,
    query: dict[str, Any],
    order_by: str,
    position: tuple[str, list[Any]] | None,
    size: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to `size` matching tasks in `order_by` order past `position` (a condition
    and its parameters), and the number of all matching tasks, in one round trip.

    The count rides along with the rows, so it is None when no row came back.
    """
    sql, params = page_sql(
        user_id=user_id, query=query, order_by=order_by, position=position, size=size
    )
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = rows[0][-1] if rows else None
    return [task_from_row(row[:-1]) for row in rows], total


def task_count(*, user_id: str, query: dict[str, Any]) -> int:
    """How many tasks match a validated TaskListQuery."""
    where, params = task_filters(user_id=user_id, query=query)
    with _cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_TABLE} WHERE {where}", _adapted(params))  # noqa: S608
        (count,) = cursor.fetchone()
    return int(count)
