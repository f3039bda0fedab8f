"""Rows and columns: the task table's names, a row as the ORM would read it, and values
as their columns take them. The store's other modules build their SQL from these.

No identifier in a statement comes from a caller: the columns a write names are the
model's, for the keys of WRITABLE_FIELDS alone (`writable` checks them before any
SQL exists). Values are always parameters.
"""

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypedDict, cast

import orjson
from django.db import connection, models
from django.db.models import Field, JSONField
from psycopg.types.datetime import TimestamptzLoader

from tasks.models import Task, TaskCount, TaskList
from tasks.schedule import DERIVED_FIELDS


class TaskRow(TypedDict):
    """A task as every read and write of the store returns it: the model's columns but
    `tag_keys`, typed as the model's fields are in Python."""

    id: int
    user_id: str
    list_id: int
    parent_id: int | None
    children: int
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


META = Task._meta
FIELDS: dict[str, Field] = {field.attname: field for field in META.concrete_fields}
ROW_NAMES = tuple(TaskRow.__annotations__)
ROW_FIELDS = tuple(FIELDS[name] for name in ROW_NAMES)
# What a caller may write: the model's editable fields but the id and the owner. The
# server-managed ones (`completed_at`, the timestamps, `tag_keys`) are not editable.
WRITABLE_FIELDS: tuple[str, ...] = tuple(
    field.attname
    for field in META.concrete_fields
    if field.editable and not field.primary_key and not field.is_relation
)

quote = connection.ops.quote_name
TABLE = quote(META.db_table)
COLUMN = {name: quote(cast(str, field.column)) for name, field in FIELDS.items()}
RETURNING = ", ".join(COLUMN[field.attname] for field in ROW_FIELDS)
COUNT_TABLE = quote(TaskCount._meta.db_table)
LIST_TABLE = quote(TaskList._meta.db_table)
OWNER_TABLE = quote(META.get_field("user").related_model._meta.db_table)
# Null-safe inequality: SQLite before 3.39 has only its own spelling of it.
DISTINCT = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
SAME = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"


@functools.cache
def _converters(vendor: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """For each row field that needs one, what the ORM would apply to its raw value
    (SQLite's booleans and date-times, JSON): Django's own converters, per backend,
    but for JSON."""
    converters: list[tuple[str, Callable[[Any], Any]]] = []
    for field in ROW_FIELDS:
        if isinstance(field, JSONField):
            # The JSON columns (tags, reminders) hold what the model's encoder wrote:
            # orjson reads it as Django's json.loads would, several times faster.
            converters.append((field.attname, _json))
            continue
        column = field.get_col(META.db_table)
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            converters.append((field.attname, functools.partial(_convert, convert, column=column)))
    return tuple(converters)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _convert(convert: Callable[..., Any], value: Any, *, column: Any) -> Any:
    return convert(value, column, connection)


def rows(raw: Iterable[Iterable[Any]]) -> list[TaskRow]:
    """Raw rows as the ORM would give them, the converters looked up once: through
    Django's connection proxy, each lookup costs about what converting a row does."""
    converters = _converters(connection.vendor)
    tasks = []
    for values in raw:
        row = dict(zip(ROW_NAMES, values, strict=True))
        for name, convert in converters:
            row[name] = convert(row[name])
        tasks.append(row)
    return tasks  # type: ignore[return-value]  # keys are TaskRow's, typed by the converters


def row(values: Iterable[Any]) -> TaskRow:
    return rows((values,))[0]


@contextmanager
def cursor() -> Iterator[Any]:
    with connection.cursor() as opened:
        if connection.vendor == "postgresql":
            # Django's own timestamptz loader is pure Python: on a page of tasks it
            # costs more than the query. psycopg's compiled one gives the same UTC
            # date-times (the connection's time zone is UTC).
            opened.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        yield opened


def fetch_one(sql: str, params: Mapping[str, Any]) -> TaskRow | None:
    with cursor() as opened:
        opened.execute(sql, params)
        values = opened.fetchone()
    return row(values) if values else None


# Fields whose Python value is what their column takes, on either database: a write
# passes them as they are (a create writes 20-odd columns, and preparing each through
# its field cost more than the INSERT's own work in the app).
_AS_THEY_ARE = frozenset(
    name
    for name, field in FIELDS.items()
    if not field.is_relation
    and isinstance(field, models.CharField | models.TextField | models.IntegerField)
)


def db_value(name: str, value: Any) -> Any:
    """A field's value as its column takes it (JSON, SQLite's date-time text)."""
    if value is None or name in _AS_THEY_ARE:
        return value
    return FIELDS[name].get_db_prep_save(value, connection)


def writable(fields: Mapping[str, Any], *, derived: bool = False) -> None:
    """Refuse a key that is not a writable field (or, with `derived`, one that
    tasks.schedule derives) before any SQL exists."""
    allowed = set(WRITABLE_FIELDS) | (DERIVED_FIELDS if derived else set())
    if unknown := fields.keys() - allowed:
        raise ValueError(f"Not writable task fields: {sorted(unknown)}")


def parameter_list(prefix: str, values: Iterable[int]) -> tuple[str, dict[str, int]]:
    """A parameter list `%(prefix_0)s, %(prefix_1)s, …` for `values`, and its parameters."""
    params = {f"{prefix}_{index}": value for index, value in enumerate(values)}
    return ", ".join(f"%({name})s" for name in params), params
