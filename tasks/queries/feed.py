"""The changes feed's read: each task changed after a position, once, live or not; and
each list changed after a position of its own.

Every insert and version step gets a `change_id` from a trigger, and a task deleted
for good leaves a tombstone (tasks.changes has the design and the no-skip argument).
The same statement reads the user's horizon (tombstones forgotten beyond
MAX_TOMBSTONES_PER_USER, tasks.queries.trash), so a poll stays one query.
"""

from typing import Any, NamedTuple, TypedDict

from django.db import connection

from tasks.models import FeedHorizon, ListTombstone, TaskList, TaskTombstone
from tasks.queries.owned import Owned
from tasks.queries.rows import RETURNING, ROW_FIELDS, TABLE, TaskRow, cursor, quote, row

_TOMBSTONE_TABLE = quote(TaskTombstone._meta.db_table)
_HORIZON_TABLE = quote(FeedHorizon._meta.db_table)
# The horizon's row comes first in the answer, marked by a change id no change has
# (they start at 0, a token's at -1): the epoch in the task id's place, and whether
# the token is from before the horizon.
_HORIZON_KEPT = -2
_HORIZON_PASSED = -3
# On PostgreSQL a change is handed out only once no transaction that could still write
# an earlier one is running: its id is below the oldest transaction id of this
# database that the statement's snapshot saw running (else below the snapshot's xmax;
# see tasks.changes). Transactions of other databases on the server can't write these
# tables, so they hold nothing back; one whose database can't be told (a prepared
# transaction) counts as this database's. SQLite's
# writers commit in change-id order, so all it sees is settled.
_SETTLED_BELOW = (
    "(SELECT COALESCE(MIN(running::text::bigint), "
    "MAX(pg_snapshot_xmax(seen.snapshot)::text::bigint)) "
    "FROM (SELECT pg_current_snapshot() AS snapshot) AS seen "
    "LEFT JOIN LATERAL pg_snapshot_xip(seen.snapshot) AS running "
    "ON running::xid NOT IN (SELECT backend_xid FROM pg_stat_activity "
    "WHERE datname <> current_database() AND backend_xid IS NOT NULL))"
)
_SETTLED = f" AND change_id < {_SETTLED_BELOW}" if connection.vendor == "postgresql" else ""
# After (change_id, id), written so that the database seeks into the index.
_CHANGED_AFTER = (
    "change_id >= %(after_change)s AND (change_id > %(after_change)s OR {id} > %(after_id)s)"
)


class Change(TypedDict):
    """One entry of the feed: where it stands, the task's id, and the task if it is live."""

    change_id: int
    task_id: int
    task: TaskRow | None


class ChangesPage(NamedTuple):
    """What `task_changes` found: the changes, the user's horizon epoch as the same
    statement saw it, and whether `after` is before the horizon (then no changes)."""

    changes: list[Change]
    epoch: int
    behind_horizon: bool


def task_changes(
    *, user_id: str, after: tuple[int, int] | None, epoch: int = 0, size: int
) -> ChangesPage:
    """Up to `size` settled changes of the owner's tasks strictly after `after` (a
    change id and a task id), in that order, in one statement: each task once, live
    (with its row) or not (trashed, or deleted for good). Without `after`, the live
    tasks alone (a full sync). With `after`, `behind_horizon` if tombstones after it
    may have been forgotten since `epoch` (the epoch its token was handed out at):
    the user's horizon is past it and has moved since."""
    change, task_id = after or (-1, 0)
    position = {"after_change": change, "after_id": task_id}
    changed = Owned(user_id, "any" if after else "live").narrow(
        _CHANGED_AFTER.format(id="id") + _SETTLED, position
    )
    params = {**changed.params, "size": size, "answered": size + 1, "epoch": epoch}
    tasks = (
        f"SELECT change_id, id, {RETURNING} FROM {TABLE} "  # noqa: S608
        f"WHERE {changed.where} ORDER BY change_id, id LIMIT %(size)s"
    )
    # Typed, for PostgreSQL to match the live rows' columns.
    nothing = ", ".join(f"CAST(NULL AS {field.db_type(connection)})" for field in ROW_FIELDS)
    passed = (
        "(change_id > %(after_change)s OR (change_id = %(after_change)s "
        "AND task_id > %(after_id)s)) AND epoch > %(epoch)s"
        if after is not None
        else "false"
    )
    horizon = (
        f"SELECT CASE WHEN {passed} THEN {_HORIZON_PASSED} ELSE {_HORIZON_KEPT} END, "  # noqa: S608
        f"epoch, {nothing} FROM {_HORIZON_TABLE} WHERE user_id = %(user_id)s"
    )
    if after is None:
        sql = (
            f"SELECT * FROM ({tasks}) AS live UNION ALL {horizon} "  # noqa: S608
            "ORDER BY 1, 2 LIMIT %(answered)s"
        )
    else:
        buried = (
            f"SELECT change_id, task_id, {nothing} FROM {_TOMBSTONE_TABLE} "  # noqa: S608
            f"WHERE user_id = %(user_id)s AND {_CHANGED_AFTER.format(id='task_id')}{_SETTLED} "
            "ORDER BY change_id, task_id LIMIT %(size)s"
        )
        sql = (
            f"SELECT * FROM ({tasks}) AS live UNION ALL SELECT * FROM ({buried}) AS buried "  # noqa: S608
            f"UNION ALL {horizon} ORDER BY 1, 2 LIMIT %(answered)s"
        )
    with cursor() as opened:
        opened.execute(sql, params)
        raw = opened.fetchall()
    seen_epoch = 0
    changes: list[Change] = []
    for change_id, changed_id, *values in raw:
        if change_id in (_HORIZON_KEPT, _HORIZON_PASSED):
            if change_id == _HORIZON_PASSED:
                return ChangesPage([], changed_id, behind_horizon=True)
            seen_epoch = changed_id
            continue
        task = row(values) if values[0] is not None else None
        live = task is not None and task["deleted_at"] is None
        changes.append(
            {"change_id": change_id, "task_id": changed_id, "task": task if live else None}
        )
    return ChangesPage(changes, seen_epoch, behind_horizon=False)


# A list's change is settled as a task's is.
_LIST_SETTLED = f"change_id < {_SETTLED_BELOW}" if connection.vendor == "postgresql" else "1 = 1"
_LIST_TABLE = quote(TaskList._meta.db_table)
_LIST_TOMBSTONES = quote(ListTombstone._meta.db_table)
_LIST_COLUMNS = [
    str(field.column) for field in TaskList._meta.concrete_fields if field.column != "id"
]
# Lists changed (all of them, without a position), then lists deleted: in one
# statement, the deleted ones as rows of NULLs but their id and change id.
_LISTS_CHANGED = (
    f"SELECT id, {', '.join(_LIST_COLUMNS)}, {_LIST_SETTLED} AS settled, 0 AS gone "  # noqa: S608
    f"FROM {_LIST_TABLE} WHERE user_id = %(user_id)s"
)
_LISTS_GONE = (
    "SELECT list_id, "  # noqa: S608
    + ", ".join(
        column if column in ("user_id", "change_id") else "NULL" for column in _LIST_COLUMNS
    )
    + f", {_LIST_SETTLED}, 1 FROM {_LIST_TOMBSTONES} WHERE user_id = %(user_id)s "
    f"AND change_id > %(after)s AND {_LIST_SETTLED}"
)


class ListChanges(NamedTuple):
    """What `list_changes` found: the lists changed, the ids of lists deleted, and the
    position to ask from next."""

    upserted: list[TaskList]
    deleted: list[int]
    position: int


def list_changes(*, user_id: str, after: int | None) -> ListChanges:
    """The owner's lists changed after the position `after`, and those deleted, all
    settled, in one statement; without `after`, every list (a full sync). Lists are
    few, so the answer is not paged. The next position is the last settled change
    handed out: a change committing later has a later id (tasks.changes has the
    argument)."""
    if after is None:
        sql = _LISTS_CHANGED
    else:
        sql = (
            f"{_LISTS_CHANGED} AND change_id > %(after)s AND {_LIST_SETTLED} "
            f"UNION ALL {_LISTS_GONE}"
        )
    # Each row carries `settled` and `gone` beside the list's fields.
    found: list[Any] = list(TaskList.objects.raw(sql, {"user_id": user_id, "after": after}))
    settled = [task_list.change_id for task_list in found if task_list.settled]
    changed = sorted(
        (task_list for task_list in found if not task_list.gone),
        key=lambda task_list: (task_list.position, task_list.id),
    )
    return ListChanges(
        changed,
        [task_list.id for task_list in found if task_list.gone],
        max(settled, default=-1 if after is None else after),
    )


class FeedPosition(NamedTuple):
    """Where the feed stands for one owner now: its last settled task change, the
    horizon epoch, and its last settled list change."""

    tasks: tuple[int, int]
    epoch: int
    lists: int


_LAST_LIST_CHANGE = -4


def feed_position(*, user_id: str) -> FeedPosition:
    """The position after every settled change of the owner's, in one statement: a
    token at it hands out exactly the changes that settle later (tasks.changes has
    why none can settle behind it), without the full sync's rows."""
    last_task = Owned(user_id, "any").narrow(f"1 = 1{_SETTLED}")
    sql = (
        f"SELECT * FROM (SELECT change_id, id FROM {TABLE} WHERE {last_task.where} "  # noqa: S608
        "ORDER BY change_id DESC, id DESC LIMIT 1) AS task "
        f"UNION ALL SELECT * FROM (SELECT change_id, task_id FROM {_TOMBSTONE_TABLE} "
        f"WHERE user_id = %(user_id)s{_SETTLED} "
        "ORDER BY change_id DESC, task_id DESC LIMIT 1) AS buried "
        f"UNION ALL SELECT {_HORIZON_KEPT}, epoch FROM {_HORIZON_TABLE} "
        "WHERE user_id = %(user_id)s "
        f"UNION ALL SELECT {_LAST_LIST_CHANGE}, MAX(change_id) FROM ("
        f"SELECT change_id FROM {_LIST_TABLE} WHERE user_id = %(user_id)s AND {_LIST_SETTLED} "
        f"UNION ALL SELECT change_id FROM {_LIST_TOMBSTONES} "
        f"WHERE user_id = %(user_id)s AND {_LIST_SETTLED}) AS lists"
    )
    with cursor() as opened:
        opened.execute(sql, last_task.params)
        raw = opened.fetchall()
    tasks, epoch, lists = (-1, 0), 0, -1
    for change_id, value in raw:
        if change_id == _HORIZON_KEPT:
            epoch = value
        elif change_id == _LAST_LIST_CHANGE:
            lists = -1 if value is None else value
        else:
            tasks = max(tasks, (change_id, value))
    return FeedPosition(tasks, epoch, lists)
