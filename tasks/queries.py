"""How tasks are stored: the one module that reads and writes the task table.

Security invariant: every statement the API runs here is scoped to one owner (its
WHERE names `user_id`, or it inserts with the caller's id), so no request reaches
another user's task; the admin's bulk action, the one door across users, names its
tasks by id. No identifier in a statement comes from a caller: the columns a write
names are the model's, for the keys of WRITABLE_FIELDS alone (checked before any SQL
exists), and the rest are written here. Values are always parameters.

The rules a write keeps are written once, in `_new_task` (inserts) and `_set_clause`
(updates), and every write path goes through them: the API, the admin, the test
factories and the bench seeder.
- `completed_at` is set when `completed` turns true, kept while it stays true,
  cleared when it turns false;
- `updated_at` moves, and `version` steps by one, only when a value really changes;
- `tag_keys` mirrors `tags`.

A write given `versions` (the If-Match of a request) happens only while the task's
version is one of them, decided by the write statement itself.

A deleted task goes to the trash (`deleted_at` set); the reads and writes of live
tasks never see it, those of the trash see nothing else. Deleting for good removes
the row, and a trigger buries it for the changes feed (`tasks.changes`).

The hot statements are SQL written here once per shape, not built by the ORM per
request: building a query cost more than the database spends answering it. The ORM
does what costs no extra round trip and isn't on a hot path (deletes, bulk loads).
The SQL is plain enough for PostgreSQL and SQLite alike.
"""

import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypedDict, cast

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Field, JSONField
from django.utils import timezone
from psycopg.types.datetime import TimestamptzLoader
from rest_framework.exceptions import ValidationError

from accounts.selectors import user_time_zone
from accounts.services import user_restore
from tasks import ordering
from tasks.exceptions import TaskLimitReached
from tasks.models import Task, TaskCompletion, TaskCount, TaskTombstone, tag_key, tag_keys
from tasks.schedule import (
    DERIVED_FIELDS,
    SCHEDULED_FIELDS,
    next_remind_at,
    read_in_zone,
    schedule,
)


class TaskRow(TypedDict):
    """A task as every read and write here returns it: the model's columns but
    `tag_keys`, typed as the model's fields are in Python."""

    id: int
    user_id: str
    title: str
    description: str
    completed: bool
    completed_at: datetime | None
    priority: int
    due_date: datetime | None
    due_day: date | None
    tags: list[str]
    time_zone: str | None
    recurrence: str | None
    repeat_from: str
    series_start: str | None
    series_done: int
    reminders: list[dict[str, Any]]
    next_remind_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    position: str
    deleted_at: datetime | None


_META = Task._meta
_FIELDS: dict[str, Field] = {field.attname: field for field in _META.concrete_fields}
_ROW_NAMES = tuple(TaskRow.__annotations__)
_ROW_FIELDS = tuple(_FIELDS[name] for name in _ROW_NAMES)
# What a caller may write: the model's editable fields but the id and the owner. The
# server-managed ones (`completed_at`, the timestamps, `tag_keys`) are not editable.
WRITABLE_FIELDS: tuple[str, ...] = tuple(
    field.attname
    for field in _META.concrete_fields
    if field.editable and not field.primary_key and not field.is_relation
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
_NULLABLE_ORDERS = {name for name, column in SORT_FIELDS.items() if _FIELDS[column].null}

_quote = connection.ops.quote_name
_TABLE = _quote(_META.db_table)
_COLUMN = {name: _quote(cast(str, field.column)) for name, field in _FIELDS.items()}
_RETURNING = ", ".join(_COLUMN[field.attname] for field in _ROW_FIELDS)
_COUNT_TABLE = _quote(TaskCount._meta.db_table)
_OWNER_TABLE = _quote(_META.get_field("user").related_model._meta.db_table)
# Null-safe inequality: SQLite before 3.39 has only its own spelling of it.
_DISTINCT = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
_OWNED = "id = %(id)s AND user_id = %(user_id)s"
_LIVE = f"{_OWNED} AND deleted_at IS NULL"
_TRASHED = f"{_OWNED} AND deleted_at IS NOT NULL"
_GET = f"SELECT {_RETURNING} FROM {_TABLE} WHERE {_LIVE}"  # noqa: S608 (names from the model)
# Admin bulk writes go in chunks, within every database's limit of parameters.
_IDS_PER_STATEMENT = 500


# --- Reading rows ---------------------------------------------------------------


@functools.cache
def _converters(vendor: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """For each row field that needs one, what the ORM would apply to its raw value
    (SQLite's booleans and date-times, JSON): Django's own converters, per backend,
    but for JSON."""
    converters: list[tuple[str, Callable[[Any], Any]]] = []
    for field in _ROW_FIELDS:
        if isinstance(field, JSONField):
            # The JSON columns (tags, reminders) hold what the model's encoder wrote:
            # orjson reads it as Django's json.loads would, several times faster.
            converters.append((field.attname, _json))
            continue
        column = field.get_col(_META.db_table)
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            converters.append((field.attname, functools.partial(_convert, convert, column=column)))
    return tuple(converters)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _convert(convert: Callable[..., Any], value: Any, *, column: Any) -> Any:
    return convert(value, column, connection)


def _rows(rows: Iterable[Iterable[Any]]) -> list[TaskRow]:
    """Raw rows as the ORM would give them, the converters looked up once: through
    Django's connection proxy, each lookup costs about what converting a row does."""
    converters = _converters(connection.vendor)
    tasks = []
    for values in rows:
        row = dict(zip(_ROW_NAMES, values, strict=True))
        for name, convert in converters:
            row[name] = convert(row[name])
        tasks.append(row)
    return tasks  # type: ignore[return-value]  # keys are TaskRow's, typed by the converters


def _row(values: Iterable[Any]) -> TaskRow:
    return _rows((values,))[0]


@contextmanager
def _cursor() -> Iterator[Any]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's own timestamptz loader is pure Python: on a page of tasks it
            # costs more than the query. psycopg's compiled one gives the same UTC
            # date-times (the connection's time zone is UTC).
            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        yield cursor


def _fetch_one(sql: str, params: Mapping[str, Any]) -> TaskRow | None:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
    return _row(values) if values else None


BULK_LOCAL_TIME = (
    "A bulk update reads a local date-time or a date in the time_zone it sends: send both."
)


# Fields whose Python value is what their column takes, on either database: a write
# passes them as they are (a create writes 20-odd columns, and preparing each through
# its field cost more than the INSERT's own work in the app).
_AS_THEY_ARE = frozenset(
    name
    for name, field in _FIELDS.items()
    if not field.is_relation
    and isinstance(field, models.CharField | models.TextField | models.IntegerField)
)


def _db_value(name: str, value: Any) -> Any:
    """A field's value as its column takes it (JSON, SQLite's date-time text)."""
    if value is None or name in _AS_THEY_ARE:
        return value
    return _FIELDS[name].get_db_prep_save(value, connection)


def _writable(fields: Mapping[str, Any], *, derived: bool = False) -> None:
    """Refuse a key that is not a writable field (or, with `derived`, one that
    tasks.schedule derives) before any SQL exists."""
    allowed = set(WRITABLE_FIELDS) | (DERIVED_FIELDS if derived else set())
    if unknown := fields.keys() - allowed:
        raise ValueError(f"Not writable task fields: {sorted(unknown)}")


# --- Reads ----------------------------------------------------------------------


def task_get(*, user_id: str, task_id: int) -> TaskRow | None:
    """The owner's live task with this id, or None (another user's task, or one in
    the trash, is None too)."""
    return _fetch_one(_GET, {"id": task_id, "user_id": user_id})


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _list_filter(user_id: str, query: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (and its parameters) of a validated TaskListQuery, or of the
    trash's query (`trash: True`). Its parameters are named apart from the columns, so
    that an UPDATE can take them with a SET clause's."""
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    in_trash = "IS NOT NULL" if query.get("trash") else "IS NULL"
    conditions = ["user_id = %(user_id)s", f"deleted_at {in_trash}"]
    params: dict[str, Any] = {"user_id": user_id}
    if query["status"] != "all":
        conditions.append("completed = %(where_completed)s")
        params["where_completed"] = query["status"] == "completed"
    if search := query.get("search"):
        conditions.append(
            f"(title {like} %(search)s ESCAPE '\\' OR description {like} %(search)s ESCAPE '\\')"
        )
        params["search"] = _like_pattern(search)
    if "priority" in query:
        conditions.append("priority = %(where_priority)s")
        params["where_priority"] = query["priority"]
    if tag := query.get("tag"):
        conditions.append("tag_keys LIKE %(tag)s ESCAPE '\\'")
        params["tag"] = _like_pattern(tag_key(tag))
    if "due_before" in query:
        conditions.append("due_date < %(due_before)s")
        params["due_before"] = _db_value("due_date", query["due_before"])
    if "due_after" in query:
        conditions.append("due_date > %(due_after)s")
        params["due_after"] = _db_value("due_date", query["due_after"])
    if query["overdue"]:
        conditions.append("NOT completed AND due_date < %(where_now)s")
        params["where_now"] = _db_value("due_date", timezone.now())
    return " AND ".join(conditions), params


def sort_field(sort: str) -> Field:
    """The model field a `sort` value (or TRASH_SORT) orders by."""
    return _FIELDS[_ORDER_FIELDS[sort.lstrip("-")]]


def _order_by(sort: str) -> str:
    field = sort_field(sort)
    direction = "DESC" if sort.startswith("-") else "ASC"
    # Tasks without a due date come last in either direction; ties go by id.
    nulls = " NULLS LAST" if sort.lstrip("-") in _NULLABLE_ORDERS else ""
    return f"{_COLUMN[field.attname]} {direction}{nulls}, id {direction}"


def _after(sort: str, value: Any, task_id: int) -> tuple[str, dict[str, Any]]:
    """The condition for tasks strictly after (`value`, `task_id`) in this order."""
    field = sort_field(sort)
    column = _COLUMN[field.attname]
    beyond = "<" if sort.startswith("-") else ">"
    params: dict[str, Any] = {"after_id": task_id}
    if value is None:
        return f"({column} IS NULL AND id {beyond} %(after_id)s)", params
    params["after"] = _db_value(field.attname, value)
    # The redundant bound (>= or <=) lets the database seek into the index.
    sql = (
        f"{column} {beyond}= %(after)s "
        f"AND ({column} {beyond} %(after)s OR id {beyond} %(after_id)s)"
    )
    if sort.lstrip("-") in _NULLABLE_ORDERS:
        sql = f"({sql} OR {column} IS NULL)"
    return f"({sql})", params


def page_statement(
    *, user_id: str, query: Mapping[str, Any], after: tuple[Any, int] | None, size: int
) -> tuple[str, dict[str, Any]]:
    """The SQL of `task_page` and its parameters (bench/explain.py shows its plans)."""
    where, params = _list_filter(user_id, query)
    page_where = where
    if after is not None:
        condition, after_params = _after(query["sort"], *after)
        page_where = f"{where} AND {condition}"
        params |= after_params
    sql = (
        f"SELECT {_RETURNING}, ({_count_select(query, where)}) "  # noqa: S608
        f"FROM {_TABLE} WHERE {page_where} ORDER BY {_order_by(query['sort'])} LIMIT %(size)s"
    )
    return sql, params | {"size": size}


# A list filtered by status alone, and the trash, read the count the triggers keep
# (TaskCount); any other filter counts its matches, which only a caller's own filter
# can make many.
_COUNTED = {
    "all": "pending + completed",
    "pending": "pending",
    "completed": "completed",
}
_STATUS_ONLY = {"status", "sort", "limit", "cursor", "overdue", "trash"}


def _count_select(query: Mapping[str, Any], where: str) -> str:
    """The SELECT that counts every task `where` matches, for a validated query."""
    if query.keys() <= _STATUS_ONLY and not query["overdue"]:
        # MAX: 0 for a user without a count row (no task yet), never NULL.
        counted = "trashed" if query.get("trash") else _COUNTED[query["status"]]
        return (
            f"SELECT COALESCE(MAX({counted}), 0) "  # noqa: S608
            f"FROM {_COUNT_TABLE} WHERE user_id = %(user_id)s"
        )
    return f"SELECT COUNT(*) FROM {_TABLE} WHERE {where}"  # noqa: S608


def task_page(
    *, user_id: str, query: Mapping[str, Any], after: tuple[Any, int] | None, size: int
) -> tuple[list[TaskRow], int | None]:
    """Up to `size` tasks matching a validated TaskListQuery, in its `sort` order,
    strictly after `after` (a sort value and an id), and the number of all matching
    tasks, in one round trip. The count rides along with the rows, so it is None
    when no row came back."""
    sql, params = page_statement(user_id=user_id, query=query, after=after, size=size)
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = rows[0][-1] if rows else None
    return _rows(values[:-1] for values in rows), total


def task_count(*, user_id: str, query: Mapping[str, Any]) -> int:
    """How many tasks match a validated TaskListQuery."""
    where, params = _list_filter(user_id, query)
    with _cursor() as cursor:
        cursor.execute(_count_select(query, where), params)
        (count,) = cursor.fetchone()
    return int(count)


# --- The changes feed ----------------------------------------------------------------

_TOMBSTONE_TABLE = _quote(TaskTombstone._meta.db_table)
# On PostgreSQL a change is handed out only once no transaction that could still write
# an earlier one is running: its id is below the statement snapshot's xmin (see
# tasks.changes). SQLite's writers commit in change-id order, so all it sees is settled.
_SETTLED = (
    " AND change_id < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"
    if connection.vendor == "postgresql"
    else ""
)
# After (change_id, id), written so that the database seeks into the index.
_CHANGED_AFTER = (
    "change_id >= %(after_change)s AND (change_id > %(after_change)s OR {id} > %(after_id)s)"
)


class Change(TypedDict):
    """One entry of the feed: where it stands, the task's id, and the task if it is live."""

    change_id: int
    task_id: int
    task: TaskRow | None


def task_changes(*, user_id: str, after: tuple[int, int] | None, size: int) -> list[Change]:
    """Up to `size` settled changes of the owner's tasks strictly after `after` (a
    change id and a task id), in that order, in one statement: each task once, live
    (with its row) or not (trashed, or deleted for good). Without `after`, the live
    tasks alone (a full sync)."""
    change, task_id = after or (-1, 0)
    params = {"user_id": user_id, "after_change": change, "after_id": task_id, "size": size}
    live_only = "" if after else " AND deleted_at IS NULL"
    tasks = (
        f"SELECT change_id, id, {_RETURNING} FROM {_TABLE} "  # noqa: S608
        f"WHERE user_id = %(user_id)s AND {_CHANGED_AFTER.format(id='id')}{_SETTLED}{live_only} "
        "ORDER BY change_id, id LIMIT %(size)s"
    )
    if after is None:
        sql = tasks
    else:
        # Typed, for PostgreSQL to match the live rows' columns.
        nothing = ", ".join(f"CAST(NULL AS {field.db_type(connection)})" for field in _ROW_FIELDS)
        buried = (
            f"SELECT change_id, task_id, {nothing} FROM {_TOMBSTONE_TABLE} "  # noqa: S608
            f"WHERE user_id = %(user_id)s AND {_CHANGED_AFTER.format(id='task_id')}{_SETTLED} "
            "ORDER BY change_id, task_id LIMIT %(size)s"
        )
        sql = (
            f"SELECT * FROM ({tasks}) AS live UNION ALL SELECT * FROM ({buried}) AS buried "  # noqa: S608
            "ORDER BY 1, 2 LIMIT %(size)s"
        )
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    changes: list[Change] = []
    for change_id, changed_id, *values in rows:
        task = _row(values) if values[0] is not None else None
        live = task is not None and task["deleted_at"] is None
        changes.append(
            {"change_id": change_id, "task_id": changed_id, "task": task if live else None}
        )
    return changes


# --- Inserts ----------------------------------------------------------------------


def _new_task(user_id: str, fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Every column of a new task: `fields` with what tasks.schedule derives from them,
    the model's defaults for the writable fields they leave out, and the
    server-managed ones by the rules."""
    _writable(fields)
    scheduled = schedule(None, fields, owner_zone=lambda: user_time_zone(user_id), now=now).fields
    values = {
        name: scheduled[name] if name in scheduled else _FIELDS[name].get_default()
        for name in (*WRITABLE_FIELDS, *DERIVED_FIELDS)
    }
    return values | {
        "user_id": user_id,
        "completed_at": now if values["completed"] else None,
        "tag_keys": tag_keys(values["tags"]),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "position": ordering.stamp(now),  # last in the manual order
        "deleted_at": None,
        "change_id": 0,  # a trigger writes the real one
    }


def task_insert(*, user_id: str, fields: Mapping[str, Any]) -> TaskRow:
    """Insert a task of `user_id` in one statement and return it as written; raise
    TaskLimitReached if the owner holds MAX_TASKS_PER_USER tasks already (the trash
    included).

    The statement inserts only while the owner's mirror row exists and they are below
    the cap (their kept count, one row read). When it inserts nothing below the cap,
    the row was gone (deleted through another worker, whose cache of recent mirror
    writes isn't this one's): it is restored and the insert runs once more. No error
    is part of that, so it is as safe inside a transaction as outside.
    """
    values = _new_task(user_id, fields, timezone.now())
    sql = _insert_sql(tuple(values))
    params = {name: _db_value(name, value) for name, value in values.items()}
    params["cap"] = settings.MAX_TASKS_PER_USER
    row = _fetch_one(sql, params)
    if row is None and tasks_held(user_id) < settings.MAX_TASKS_PER_USER:
        user_restore(user_id)
        row = _fetch_one(sql, params)
    if row is None:
        raise TaskLimitReached()
    return row


# A new task without a zone of its own takes its owner's setting.
_INSERTED = {
    "time_zone": f"COALESCE(%(time_zone)s, (SELECT time_zone FROM {_OWNER_TABLE} "  # noqa: S608
    "WHERE id = %(user_id)s))"
}


@functools.cache
def _insert_sql(names: tuple[str, ...]) -> str:
    # Creates racing at the cap read the count before either commits, so they can pass
    # it together: a bound (overshot by at most the creates in flight), not a quota.
    return (
        f"INSERT INTO {_TABLE} ({', '.join(_COLUMN[name] for name in names)}) "  # noqa: S608
        f"SELECT {', '.join(_INSERTED.get(name, f'%({name})s') for name in names)} "
        f"WHERE EXISTS (SELECT 1 FROM {_OWNER_TABLE} WHERE id = %(user_id)s) "
        f"AND NOT EXISTS (SELECT 1 FROM {_COUNT_TABLE} WHERE user_id = %(user_id)s "
        f"AND pending + completed + trashed >= %(cap)s) RETURNING {_RETURNING}"
    )


def tasks_held(user_id: str) -> int:
    """How many tasks `user_id` holds, the trash included (the kept count)."""
    held = (
        TaskCount.objects.filter(user_id=user_id)
        .values_list("pending", "completed", "trashed")
        .first()
    )
    return sum(held or ())


def tasks_load(tasks: Iterable[tuple[str, Mapping[str, Any], datetime]]) -> list[Task]:
    """Bulk-insert (owner, fields, creation time) triples with the server-managed
    fields by the same rules (`_new_task`), in batches, for factories and seeders: the
    owners must exist, and the per-user cap is not checked."""
    return Task.objects.bulk_create(
        (Task(**_new_task(user_id, fields, now)) for user_id, fields, now in tasks),
        batch_size=5000,
    )


# --- Updates ----------------------------------------------------------------------


def _set_clause(
    new: Mapping[str, str], *, tags: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The SET clause giving each column in `new` the SQL expression mapped to it,
    the server-managed columns following by the rules, and the parameters those add.
    `tags` is the list being written, when `new` sets them."""
    params = {"now": _db_value("updated_at", timezone.now())}
    assignments = [f"{_COLUMN[name]} = {expression}" for name, expression in new.items()]
    if "completed" in new:
        assignments.append(
            f"completed_at = CASE WHEN {new['completed']} "
            "THEN COALESCE(completed_at, %(now)s) ELSE NULL END"
        )
    if tags is not None:
        assignments.append("tag_keys = %(tag_keys)s")
        params["tag_keys"] = tag_keys(tags)
    changed = " OR ".join(
        f"{_COLUMN[name]} {_DISTINCT} {expression}" for name, expression in new.items()
    )
    assignments.append(f"updated_at = CASE WHEN {changed} THEN %(now)s ELSE updated_at END")
    assignments.append(f"version = CASE WHEN {changed} THEN version + 1 ELSE version END")
    return ", ".join(assignments), params


def _assignments(fields: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SET clause writing allow-listed `fields` (and derived ones), one parameter
    each, and its parameters."""
    _writable(fields, derived=True)
    set_clause, params = _set_clause(
        {name: f"%({name})s" for name in fields}, tags=fields.get("tags")
    )
    return set_clause, params | {name: _db_value(name, value) for name, value in fields.items()}


def _parameter_list(prefix: str, values: Iterable[int]) -> tuple[str, dict[str, int]]:
    """A parameter list `%(prefix_0)s, %(prefix_1)s, …` for `values`, and its parameters."""
    params = {f"{prefix}_{index}": value for index, value in enumerate(values)}
    return ", ".join(f"%({name})s" for name in params), params


def _version_in(versions: Collection[int] | None) -> tuple[str, dict[str, int]]:
    """The condition (after `_OWNED`) that the task is at one of `versions`, if given."""
    if versions is None:
        return "", {}
    listed, params = _parameter_list("version", versions)
    return (f" AND version IN ({listed})" if params else " AND 1 = 0"), params


def _update_owned(
    set_clause: str,
    params: Mapping[str, Any],
    *,
    user_id: str,
    task_id: int,
    versions: Collection[int] | None,
    where: str = _LIVE,
) -> TaskRow | None:
    condition, version_params = _version_in(versions)
    sql = (
        f"UPDATE {_TABLE} SET {set_clause} "  # noqa: S608
        f"WHERE {where}{condition} RETURNING {_RETURNING}"
    )
    return _fetch_one(sql, {**params, **version_params, "id": task_id, "user_id": user_id})


# A write of these alone needs no look at the task: no series or reminder to follow.
_NO_SERIES = "recurrence IS NULL"
_NO_REMINDERS = "reminders = '[]'" + ("::jsonb" if connection.vendor == "postgresql" else "")
# Completing a task that repeats moves it to its next occurrence instead.
_COMPLETES_PLAINLY = "(recurrence IS NULL OR completed)"


def _guard(fields: Mapping[str, Any]) -> str | None:
    """The condition under which one UPDATE of `fields` keeps the rules of tasks.schedule
    (None: it always does), or raise LookupError when `schedule` must see the task."""
    scheduled = fields.keys() & SCHEDULED_FIELDS
    if scheduled - {"due_date"} or read_in_zone(fields.get("due_date")):
        raise LookupError
    conditions = []
    if scheduled:  # a due date with its offset, or none
        conditions += [_NO_SERIES, _NO_REMINDERS]
    if fields.get("completed") is True:
        conditions.append(_COMPLETES_PLAINLY)
    return " AND ".join(conditions) or None


def _plain_write(fields: Mapping[str, Any]) -> tuple[str | None, str, dict[str, Any]]:
    """The `_guard` of one UPDATE of `fields`, its SET clause and parameters; raise
    LookupError as `_guard` does."""
    guard = _guard(fields)
    # A due date with its offset is no longer all-day.
    written = {**fields, "due_day": None} if "due_date" in fields else fields
    return guard, *_assignments(written)


def task_update(
    *,
    user_id: str,
    task_id: int,
    fields: Mapping[str, Any],
    versions: Collection[int] | None = None,
) -> TaskRow | None:
    """Write `fields` to the owner's task; the task as written, or None if the owner has
    no such task (at one of `versions`, when given). Fields not given keep their
    values; a write that changes nothing leaves `updated_at` and `version` as they
    were. Most writes are one UPDATE; one that tasks.schedule must see the task for
    (its time zone, series or reminders) reads it first, locked."""
    _writable(fields)
    if not fields:
        task = task_get(user_id=user_id, task_id=task_id)
        return task if task and (versions is None or task["version"] in versions) else None
    try:
        guard, set_clause, params = _plain_write(fields)
    except LookupError:
        return _write_scheduled(user_id, task_id, fields, versions)
    where = _LIVE if guard is None else f"{_LIVE} AND {guard}"
    task = _update_owned(
        set_clause, params, user_id=user_id, task_id=task_id, versions=versions, where=where
    )
    if task is None and guard is not None:
        return _write_scheduled(user_id, task_id, fields, versions)
    return task


def _write_scheduled(
    user_id: str,
    task_id: int,
    fields: Mapping[str, Any],
    versions: Collection[int] | None,
    *,
    toggle: bool = False,
) -> TaskRow | None:
    """Write `fields` (with `toggle`, the opposite of the task's completion) to the
    owner's live task by the rules of tasks.schedule, reading it first, locked until
    the write; record the occurrence it completes, if it completes one.

    A write the rules refuse raises its ValidationError once the transaction is over,
    having written nothing: inside a caller's transaction, that one stays usable."""
    refused = None
    # On SQLite the transaction holds the write lock from its start (IMMEDIATE,
    # todo_project.database), so what it reads stays true until it writes.
    with transaction.atomic(savepoint=False), _cursor() as cursor:
        lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
        cursor.execute(_GET + lock, {"id": task_id, "user_id": user_id})
        values = cursor.fetchone()
        task = _row(values) if values else None
        if task is None or (versions is not None and task["version"] not in versions):
            return None
        if toggle:
            fields = {**fields, "completed": not task["completed"]}
        try:
            scheduled = schedule(task, fields, owner_zone=lambda: None, now=timezone.now())
        except ValidationError as error:
            refused = error
        else:
            if scheduled.completion is not None:
                TaskCompletion.objects.create(task_id=task_id, **scheduled.completion)
            set_clause, params = _assignments(scheduled.fields)
            return _update_owned(
                set_clause, params, user_id=user_id, task_id=task_id, versions=None
            )
    raise refused


def task_reminders_spent(
    *, user_id: str, task_id: int, reminders: list[dict[str, Any]]
) -> TaskRow | None:
    """Write the task's reminders as the worker left them (those fired or skipped with
    a null `remind_at`), live or in the trash: a change, so its version steps."""
    set_clause, params = _assignments(
        {"reminders": reminders, "next_remind_at": next_remind_at(reminders)}
    )
    return _update_owned(
        set_clause, params, user_id=user_id, task_id=task_id, versions=None, where=_OWNED
    )


def task_check_write(*, user_id: str, task_id: int | None, fields: Mapping[str, Any]) -> None:
    """Raise the ValidationError that writing `fields` to the owner's task (None: a new
    one) would, by the rules of tasks.schedule, writing nothing: for the admin's form."""
    _writable(fields)
    current = None if task_id is None else task_get(user_id=user_id, task_id=task_id)
    schedule(current, fields, owner_zone=lambda: user_time_zone(user_id), now=timezone.now())


def task_completions(*, user_id: str, task_id: int) -> list[TaskCompletion] | None:
    """The owner's live task's recorded completions, newest first; None if there is
    no such task."""
    if task_get(user_id=user_id, task_id=task_id) is None:
        return None
    return list(TaskCompletion.objects.filter(task_id=task_id).order_by("-completed_at", "-id"))


def task_set_completed(
    *,
    user_id: str,
    task_id: int,
    completed: bool | None,
    versions: Collection[int] | None = None,
) -> TaskRow | None:
    """Toggle (`completed=None`, atomically in the database) or set completion of the
    owner's task; the task as written, or None as `task_update` says. Completing a
    recurring task moves it to its next occurrence (tasks.schedule)."""
    if completed is not None:
        return task_update(
            user_id=user_id, task_id=task_id, fields={"completed": completed}, versions=versions
        )
    set_clause, params = _set_clause({"completed": "NOT completed"})
    task = _update_owned(
        set_clause,
        params,
        user_id=user_id,
        task_id=task_id,
        versions=versions,
        where=f"{_LIVE} AND {_COMPLETES_PLAINLY}",
    )
    if task is None:
        return _write_scheduled(user_id, task_id, {}, versions, toggle=True)
    return task


def _trashed_clause(trashed: bool) -> tuple[str, dict[str, Any]]:
    """The SET clause moving a task to the trash (or out of it), by `_set_clause`'s rules."""
    return _set_clause({"deleted_at": "%(now)s" if trashed else "NULL"})


def _lock_in_id_order(cursor: Any, where: str, params: Mapping[str, Any]) -> None:
    """On PostgreSQL, lock the tasks `where` matches in id order, as every write of
    many tasks takes them before it writes: a write that took an owner's count row
    (by a trigger) before a later task would deadlock with an API write of that task."""
    if connection.vendor == "postgresql":
        cursor.execute(
            f"SELECT id FROM {_TABLE} WHERE {where} ORDER BY id FOR UPDATE",  # noqa: S608
            params,
        )


def task_trash(
    *, user_id: str, task_id: int, versions: Collection[int] | None = None
) -> TaskRow | None:
    """Move the owner's live task to the trash (a change: its version steps); the task
    as trashed, or None as `task_update` says."""
    set_clause, params = _trashed_clause(True)
    return _update_owned(set_clause, params, user_id=user_id, task_id=task_id, versions=versions)


def task_restore(*, user_id: str, task_id: int) -> TaskRow | None:
    """Bring the owner's task back from the trash (a change: its version steps); the
    task as restored, or None if the owner has no such task in the trash."""
    set_clause, params = _trashed_clause(False)
    return _update_owned(
        set_clause, params, user_id=user_id, task_id=task_id, versions=None, where=_TRASHED
    )


# --- The manual order -----------------------------------------------------------

Place = tuple[str, int]  # a task's (position, id): its place in the manual order


def _lock_order(cursor: Any, user_id: str) -> None:
    """Make the owner's moves take turns until this transaction ends: an advisory lock
    on PostgreSQL (no row lock, so no deadlock with other writes); on SQLite the
    transaction holds the write lock from its start (IMMEDIATE, todo_project.database)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tasks.order:{user_id}"])


def _neighbours(
    cursor: Any, user_id: str, moved: int, start: Place | None, *, upward: bool, count: int
) -> list[Place]:
    """Up to `count` places of the owner's tasks but `moved`, nearest first, from
    `start` on (itself included) upward or downward; from an end without a start.
    The trash is included: a restored task must not come back onto a moved one's place."""
    beyond, direction = (">", "ASC") if upward else ("<", "DESC")
    condition = ""
    params: dict[str, Any] = {"user_id": user_id, "moved": moved, "count": count}
    if start is not None:
        condition = (
            f"AND position {beyond}= %(start)s "
            f"AND (position {beyond} %(start)s OR id {beyond}= %(start_id)s)"
        )
        params |= {"start": start[0], "start_id": start[1]}
    cursor.execute(
        f"SELECT position, id FROM {_TABLE} WHERE user_id = %(user_id)s "  # noqa: S608
        f"AND id <> %(moved)s {condition} "
        f"ORDER BY position {direction}, id {direction} LIMIT %(count)s",
        params,
    )
    return [(position, task_id) for position, task_id in cursor.fetchall()]


def _side(
    cursor: Any, user_id: str, moved: int, nearest: Place | None, *, upward: bool, width: int
) -> tuple[list[Place], str | None]:
    """Up to `width` places on one side of a gap, nearest first, and the position just
    beyond them (None: the order ends there)."""
    if nearest is None:
        return [], None
    places = _neighbours(cursor, user_id, moved, nearest, upward=upward, count=width + 1)
    bound = places.pop()[0] if len(places) > width else None
    return places, bound


def _placed(
    cursor: Any, user_id: str, moved: int, low: Place | None, high: Place | None
) -> dict[int, str]:
    """New positions putting `moved` between the places `low` and `high` (None: an
    end): its own alone while a short one fits between them, else also theirs,
    spread out over a window of neighbours that doubles until it fits."""
    now = timezone.now()
    if low is None or high is None or low[0] != high[0]:
        ceiling = high[0] if high else ordering.end_of_order(low and low[0], now)
        position = ordering.between(low and low[0], ceiling)
        if len(position) <= ordering.MAX_LENGTH:
            return {moved: position}
    width = 8
    while True:
        below, low_bound = _side(cursor, user_id, moved, low, upward=False, width=width)
        above, high_bound = _side(cursor, user_id, moved, high, upward=True, width=width)
        if not above:
            high_bound = ordering.end_of_order(below[0][0] if below else None, now)
        window = [task for _, task in reversed(below)] + [moved] + [task for _, task in above]
        try:
            positions = ordering.spread(low_bound, high_bound, len(window))
        except ValueError:  # the bounds tie: widen the window past them
            positions = []
        if positions and max(map(len, positions)) <= ordering.MAX_LENGTH:
            return dict(zip(window, positions, strict=True))
        width *= 2


def task_move(
    *,
    user_id: str,
    task_id: int,
    before: int | None = None,
    after: int | None = None,
    to: str | None = None,
    versions: Collection[int] | None = None,
) -> TaskRow | None:
    """Move the owner's live task right before (or after) another of their live tasks,
    or to the "top" or "bottom" of their manual order; the task as moved, or None as
    `task_update` says. Raise LookupError if the other task is not another of theirs.

    Moves of one owner take turns (`_lock_order`), so none reads the order while
    another changes it: a move never gives two tasks one position, trash included.
    Usually only the moved task is written; when the gap is spent, a few neighbours
    are spread out too (each a change: its version steps)."""
    with transaction.atomic(), _cursor() as cursor:
        _lock_order(cursor, user_id)
        anchor_id = before if before is not None else after
        if anchor_id is not None:
            cursor.execute(
                f"SELECT position, id FROM {_TABLE} WHERE {_LIVE}",  # noqa: S608
                {"id": anchor_id, "user_id": user_id},
            )
            found = cursor.fetchone()
            if found is None or anchor_id == task_id:
                raise LookupError(anchor_id)
            anchor: Place = (found[0], found[1])
            beside = _neighbours(
                cursor, user_id, task_id, anchor, upward=after is not None, count=2
            )
            other = beside[1] if len(beside) > 1 else None  # beside[0] is the anchor
            low, high = (anchor, other) if after is not None else (other, anchor)
        else:
            upward = to == "top"
            end = _neighbours(cursor, user_id, task_id, None, upward=upward, count=1)
            nearest = end[0] if end else None
            low, high = (None, nearest) if upward else (nearest, None)
        placed = _placed(cursor, user_id, task_id, low, high)
        moved = _write_position(user_id, task_id, placed.pop(task_id), versions)
        if moved is not None and placed:
            # The spread neighbours, as every write of many tasks takes its tasks.
            listed, id_params = _parameter_list("id", sorted(placed))
            _lock_in_id_order(cursor, f"id IN ({listed})", id_params)
            for other_id in sorted(placed):
                _write_position(user_id, other_id, placed[other_id], None, where=_OWNED)
    return moved


def _write_position(
    user_id: str,
    task_id: int,
    position: str,
    versions: Collection[int] | None,
    *,
    where: str = _LIVE,
) -> TaskRow | None:
    set_clause, params = _set_clause({"position": "%(position)s"})
    return _update_owned(
        set_clause,
        {**params, "position": position},
        user_id=user_id,
        task_id=task_id,
        versions=versions,
        where=where,
    )


def tasks_update_owned(
    *,
    user_id: str,
    task_ids: Collection[int] | None = None,
    query: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    trash: bool = False,
) -> list[TaskRow]:
    """Write `fields` to (or, with `trash`, move to the trash) the owner's live tasks
    named by `task_ids`, or else matching a validated TaskListQuery `query`, by the
    rules of `task_update`; the tasks as written, in id order. Call it in a
    transaction to take back the write (the caller's all or nothing).

    One UPDATE writes the tasks it can (`_guard`); each of the others (a series to
    follow, reminders to move) is written on its own by the rules of tasks.schedule."""
    fields = fields or {}
    guard: str | None = None
    one_by_one = False
    set_clause, params = "", dict[str, Any]()
    if trash:
        set_clause, params = _trashed_clause(True)
    else:
        _writable(fields)
        if read_in_zone(fields.get("due_date")) and "time_zone" not in fields:
            # Each task would read it in its own zone: all alike only in the one sent.
            raise ValidationError({"due_date": [BULK_LOCAL_TIME]})
        try:
            guard, set_clause, params = _plain_write(fields)
        except LookupError:
            one_by_one = True
    if task_ids is not None:
        listed, id_params = _parameter_list("id", sorted(set(task_ids)))
        where = f"user_id = %(user_id)s AND deleted_at IS NULL AND id IN ({listed})"
        where_params: dict[str, Any] = {"user_id": user_id, **id_params}
    else:
        where, where_params = _list_filter(user_id, query or {"status": "all", "overdue": False})
    params = {**params, **where_params}
    # No savepoint: the caller's transaction is all or nothing anyway.
    with transaction.atomic(savepoint=False), _cursor() as cursor:
        _lock_in_id_order(cursor, where, params)
        rows: list[TaskRow] = []
        if not one_by_one:
            plain = where if guard is None else f"{where} AND {guard}"
            cursor.execute(
                f"UPDATE {_TABLE} SET {set_clause} WHERE {plain} RETURNING {_RETURNING}",  # noqa: S608
                params,
            )
            rows = _rows(cursor.fetchall())
        rest: list[int] = []
        if task_ids is not None and (one_by_one or guard is not None):
            # Those the UPDATE did not write, if any is the caller's.
            rest = sorted(set(task_ids) - {row["id"] for row in rows})
        elif one_by_one or guard is not None:
            unwritten = where if one_by_one else f"{where} AND NOT ({guard})"
            cursor.execute(f"SELECT id FROM {_TABLE} WHERE {unwritten} ORDER BY id", params)  # noqa: S608
            rest = [task_id for (task_id,) in cursor.fetchall()]
        for task_id in rest:
            if task := _write_scheduled(user_id, task_id, fields, None):
                rows.append(task)
    return sorted(rows, key=lambda row: row["id"])


def tasks_set_completed(*, task_ids: Iterable[int], completed: bool) -> int:
    """Set completion of these tasks, of any owners (the admin's bulk action), by the
    rules of `task_set_completed`; how many tasks there were."""
    if not completed:
        return _tasks_write(task_ids, *_assignments({"completed": False}))
    ids = list(task_ids)
    with transaction.atomic():
        count = _tasks_write(ids, *_assignments({"completed": True}), where=_COMPLETES_PLAINLY)
        # Those that repeat move to their next occurrence, one by one.
        recurring = Task.objects.filter(id__in=ids, deleted_at__isnull=True, completed=False)
        for task_id, user_id in recurring.values_list("id", "user_id"):
            count += _write_scheduled(user_id, task_id, {"completed": True}, None) is not None
    return count


def tasks_set_trashed(*, task_ids: Iterable[int], trashed: bool) -> int:
    """Move these tasks, of any owners, to the trash or back (the admin's bulk
    actions), by the rules of `task_trash` and `task_restore`; how many moved."""
    in_trash = "IS NULL" if trashed else "IS NOT NULL"
    set_clause, params = _trashed_clause(trashed)
    return _tasks_write(task_ids, set_clause, params, where=f"deleted_at {in_trash}")


def _tasks_write(
    task_ids: Iterable[int], set_clause: str, params: Mapping[str, Any], *, where: str = "1 = 1"
) -> int:
    """Write `set_clause` to these tasks (those `where` matches), of any owners, in one
    transaction; how many were written."""
    ids = sorted(task_ids)
    batches = [
        _parameter_list("id", ids[start : start + _IDS_PER_STATEMENT])
        for start in range(0, len(ids), _IDS_PER_STATEMENT)
    ]
    count = 0
    with transaction.atomic(), _cursor() as cursor:  # every batch, or none
        for in_list, chunk in batches:  # every task before any write
            _lock_in_id_order(cursor, f"id IN ({in_list})", chunk)
        for in_list, chunk in batches:
            cursor.execute(
                f"UPDATE {_TABLE} SET {set_clause} WHERE id IN ({in_list}) AND {where}",  # noqa: S608
                {**params, **chunk},
            )
            count += cursor.rowcount
    return count


# --- Deletes for good ------------------------------------------------------------


def task_purge(*, user_id: str, task_id: int) -> bool:
    """Delete the owner's task in the trash for good; False if there is no such task."""
    deleted, _ = Task.objects.filter(id=task_id, user_id=user_id, deleted_at__isnull=False).delete()
    return deleted > 0


def trash_empty(*, user_id: str) -> int:
    """Delete every task in the owner's trash for good; how many there were."""
    deleted, _ = Task.objects.filter(user_id=user_id, deleted_at__isnull=False).delete()
    return deleted


def trash_purge(*, deleted_before: datetime, buried_before: datetime) -> tuple[int, int]:
    """Delete for good every user's tasks trashed before `deleted_before`, and forget
    the tombstones of those deleted before `buried_before`; how many of each."""
    purged, _ = Task.objects.filter(deleted_at__lt=deleted_before).delete()
    forgotten, _ = TaskTombstone.objects.filter(deleted_at__lt=buried_before).delete()
    return purged, forgotten
