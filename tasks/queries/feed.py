"""The changes feed's read: each task changed after a position, once, live or not.

Every insert and version step gets a `change_id` from a trigger, and a task deleted
for good leaves a tombstone (tasks.changes has the design and the no-skip argument).
"""

from typing import TypedDict

from django.db import connection

from tasks.models import TaskTombstone
from tasks.queries.owned import Owned
from tasks.queries.rows import RETURNING, ROW_FIELDS, TABLE, TaskRow, cursor, quote, row

_TOMBSTONE_TABLE = quote(TaskTombstone._meta.db_table)
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
    position = {"after_change": change, "after_id": task_id}
    changed = Owned(user_id, "any" if after else "live").narrow(
        _CHANGED_AFTER.format(id="id") + _SETTLED, position
    )
    params = {**changed.params, "size": size}
    tasks = (
        f"SELECT change_id, id, {RETURNING} FROM {TABLE} "  # noqa: S608
        f"WHERE {changed.where} ORDER BY change_id, id LIMIT %(size)s"
    )
    if after is None:
        sql = tasks
    else:
        # Typed, for PostgreSQL to match the live rows' columns.
        nothing = ", ".join(f"CAST(NULL AS {field.db_type(connection)})" for field in ROW_FIELDS)
        buried = (
            f"SELECT change_id, task_id, {nothing} FROM {_TOMBSTONE_TABLE} "  # noqa: S608
            f"WHERE user_id = %(user_id)s AND {_CHANGED_AFTER.format(id='task_id')}{_SETTLED} "
            "ORDER BY change_id, task_id LIMIT %(size)s"
        )
        sql = (
            f"SELECT * FROM ({tasks}) AS live UNION ALL SELECT * FROM ({buried}) AS buried "  # noqa: S608
            "ORDER BY 1, 2 LIMIT %(size)s"
        )
    with cursor() as opened:
        opened.execute(sql, params)
        raw = opened.fetchall()
    changes: list[Change] = []
    for change_id, changed_id, *values in raw:
        task = row(values) if values[0] is not None else None
        live = task is not None and task["deleted_at"] is None
        changes.append(
            {"change_id": change_id, "task_id": changed_id, "task": task if live else None}
        )
    return changes
