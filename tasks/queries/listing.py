"""Reads: one task, a page of the list (or of the trash) with its count, in any sort.

The hot statements are SQL written here once per shape, not built by the ORM per
request: building a query cost more than the database spends answering it.
"""

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from tasks.models import TaskCompletion, tag_key
from tasks.queries.owned import Owned, select_one
from tasks.queries.rows import (
    COLUMN,
    COUNT_TABLE,
    FIELDS,
    LIST_TABLE,
    RETURNING,
    TABLE,
    TaskRow,
    cursor,
    db_value,
    rows,
)

# The `sort` values of the list, and the field each orders by.
SORT_FIELDS = {
    "created": "created_at",
    "updated": "updated_at",
    "title": "title",
    "due_date": "due_date",
    "priority": "priority",
    "position": "position",
}
# The trash's one order (most recently deleted first), as the list's sorts are named.
TRASH_SORT = "-deleted"
_ORDER_FIELDS = SORT_FIELDS | {"deleted": "deleted_at"}
# The orders whose rows may lack a value (no due date); every task in the trash has a
# `deleted_at`, so its order needs no NULLS clause that would miss its index.
_NULLABLE_ORDERS = {name for name, column in SORT_FIELDS.items() if FIELDS[column].null}


def task_get(*, user_id: str, task_id: int) -> TaskRow | None:
    """The owner's live task with this id, or None (another user's task, or one in
    the trash, is None too)."""
    return select_one(Owned(user_id).task(task_id))


def task_completions(*, user_id: str, task_id: int) -> list[TaskCompletion] | None:
    """The owner's live task's recorded completions, newest first; None if there is
    no such task."""
    if task_get(user_id=user_id, task_id=task_id) is None:
        return None
    return list(TaskCompletion.objects.filter(task_id=task_id).order_by("-completed_at", "-id"))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(user_id: str, query: Mapping[str, Any]) -> Owned:
    """The owner's tasks a validated TaskListQuery (or the trash's query, `trash: True`)
    matches. Its parameters are named apart from the columns, so that an UPDATE can
    take them with a SET clause's."""
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    scope = Owned(user_id, "trashed" if query.get("trash") else "live")
    if query["status"] != "all":
        scope = scope.narrow(
            "completed = %(where_completed)s", {"where_completed": query["status"] == "completed"}
        )
    if "list_id" in query:
        scope = scope.narrow("list_id = %(where_list)s", {"where_list": query["list_id"]})
    if "parent_id" in query:
        parent = query["parent_id"]
        scope = scope.narrow(
            "parent_id IS NULL" if parent is None else "parent_id = %(where_parent)s",
            {} if parent is None else {"where_parent": parent},
        )
    if search := query.get("search"):
        scope = scope.narrow(
            f"title {like} %(search)s ESCAPE '\\' OR description {like} %(search)s ESCAPE '\\'",
            {"search": _like_pattern(search)},
        )
    if "priority" in query:
        scope = scope.narrow("priority = %(where_priority)s", {"where_priority": query["priority"]})
    if tag := query.get("tag"):
        scope = scope.narrow(
            "tag_keys LIKE %(tag)s ESCAPE '\\'", {"tag": _like_pattern(tag_key(tag))}
        )
    if "due_before" in query:
        scope = scope.narrow(
            "due_date < %(due_before)s", {"due_before": db_value("due_date", query["due_before"])}
        )
    if "due_after" in query:
        scope = scope.narrow(
            "due_date > %(due_after)s", {"due_after": db_value("due_date", query["due_after"])}
        )
    if query["overdue"]:
        scope = scope.narrow(
            "NOT completed AND due_date < %(where_now)s",
            {"where_now": db_value("due_date", timezone.now())},
        )
    return scope


def sort_field(sort: str) -> Field:
    """The model field a `sort` value (or TRASH_SORT) orders by."""
    return FIELDS[_ORDER_FIELDS[sort.lstrip("-")]]


def _order_by(sort: str) -> str:
    field = sort_field(sort)
    direction = "DESC" if sort.startswith("-") else "ASC"
    # Tasks without a due date come last in either direction; ties go by id.
    nulls = " NULLS LAST" if sort.lstrip("-") in _NULLABLE_ORDERS else ""
    return f"{COLUMN[field.attname]} {direction}{nulls}, id {direction}"


def _after(sort: str, value: Any, task_id: int) -> tuple[str, dict[str, Any]]:
    """The condition for tasks strictly after (`value`, `task_id`) in this order."""
    field = sort_field(sort)
    column = COLUMN[field.attname]
    beyond = "<" if sort.startswith("-") else ">"
    params: dict[str, Any] = {"after_id": task_id}
    if value is None:
        return f"{column} IS NULL AND id {beyond} %(after_id)s", params
    params["after"] = db_value(field.attname, value)
    # The redundant bound (>= or <=) lets the database seek into the index.
    sql = (
        f"{column} {beyond}= %(after)s "
        f"AND ({column} {beyond} %(after)s OR id {beyond} %(after_id)s)"
    )
    if sort.lstrip("-") in _NULLABLE_ORDERS:
        sql = f"({sql}) OR {column} IS NULL"
    return sql, params


def page_statement(
    *, user_id: str, query: Mapping[str, Any], after: tuple[Any, int] | None, size: int
) -> tuple[str, dict[str, Any]]:
    """The SQL of `task_page` and its parameters (bench/explain.py shows its plans)."""
    scope = matching(user_id, query)
    page = scope if after is None else scope.narrow(*_after(query["sort"], *after))
    sql = (
        f"SELECT {RETURNING}, ({_count_select(query, scope)}) "  # noqa: S608
        f"FROM {TABLE} WHERE {page.where} ORDER BY {_order_by(query['sort'])} LIMIT %(size)s"
    )
    return sql, page.params | {"size": size}


# A list filtered by status alone (or by one list and status), and the trash, read
# the counts the triggers keep (TaskCount, TaskList); any other filter counts its
# matches, which only a caller's own filter can make many.
_COUNTED = {
    "all": "pending + completed",
    "pending": "pending",
    "completed": "completed",
}
_LIST_COUNTED = {
    "all": "task_count",
    "pending": "open_count",
    "completed": "task_count - open_count",
}
_STATUS_ONLY = {"status", "sort", "limit", "cursor", "overdue", "trash"}


def _count_select(query: Mapping[str, Any], scope: Owned) -> str:
    """The SELECT that counts every task of `scope`, matched by a validated query."""
    # MAX: 0 for a user without a count row (no task yet), or no such list; never NULL.
    if query.keys() <= _STATUS_ONLY and not query["overdue"]:
        counted = "trashed" if query.get("trash") else _COUNTED[query["status"]]
        return (
            f"SELECT COALESCE(MAX({counted}), 0) "  # noqa: S608
            f"FROM {COUNT_TABLE} WHERE user_id = %(user_id)s"
        )
    if query.keys() <= _STATUS_ONLY | {"list_id"} and not query["overdue"]:
        return (
            f"SELECT COALESCE(MAX({_LIST_COUNTED[query['status']]}), 0) "  # noqa: S608
            f"FROM {LIST_TABLE} WHERE id = %(where_list)s AND user_id = %(user_id)s"
        )
    return f"SELECT COUNT(*) FROM {TABLE} WHERE {scope.where}"  # noqa: S608


def task_page(
    *, user_id: str, query: Mapping[str, Any], after: tuple[Any, int] | None, size: int
) -> tuple[list[TaskRow], int | None]:
    """Up to `size` tasks matching a validated TaskListQuery, in its `sort` order,
    strictly after `after` (a sort value and an id), and the number of all matching
    tasks, in one round trip. The count rides along with the rows, so it is None
    when no row came back."""
    sql, params = page_statement(user_id=user_id, query=query, after=after, size=size)
    with cursor() as opened:
        opened.execute(sql, params)
        raw = opened.fetchall()
    total = raw[0][-1] if raw else None
    return rows(values[:-1] for values in raw), total


def task_count(*, user_id: str, query: Mapping[str, Any]) -> int:
    """How many tasks match a validated TaskListQuery."""
    scope = matching(user_id, query)
    with cursor() as opened:
        opened.execute(_count_select(query, scope), scope.params)
        (count,) = opened.fetchone()
    return int(count)
