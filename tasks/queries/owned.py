"""One owner's tasks, and the one door every owned update goes through.

Security invariant, kept by construction: a statement the API runs on existing tasks
is scoped to one owner. An `Owned` scope starts as that owner's tasks in one state
(live, in the trash, or either), and each step may only narrow it: `narrow` ANDs a
condition onto it and there is no way to widen one (Zulip's NarrowBuilder). The owned
statements (`update_one`, `update_all`, `select_ids`, `lock_in_id_order`) take a scope
and nothing else to say which rows, so no request reaches another user's task.
Inserts name their owner (tasks.queries.writes); the admin's bulk actions, the one
door across owners, name their tasks by id (tasks.queries.batch).

The rules an update keeps are written once, in `set_clause`:
- `completed_at` is set when `completed` turns true, kept while it stays true,
  cleared when it turns false;
- `updated_at` moves, and `version` steps by one, only when a value really changes;
- `tag_keys` mirrors `tags`.
"""

from collections.abc import Collection, Mapping
from typing import Any, Literal

from django.db import connection
from django.utils import timezone

from delivery.events import current_source
from tasks.models import MAX_DEPTH, tag_keys
from tasks.queries.rows import (
    COLUMN,
    DISTINCT,
    RETURNING,
    TABLE,
    TaskRow,
    cursor,
    db_value,
    fetch_one,
    parameter_list,
    rows,
    writable,
)
from tasks.schedule import SCHEDULED_FIELDS, read_in_zone

State = Literal["live", "trashed", "any"]
_IN_STATE = {"live": " AND deleted_at IS NULL", "trashed": " AND deleted_at IS NOT NULL", "any": ""}


class Owned:
    """A WHERE clause, and its parameters, over one owner's tasks in one state."""

    __slots__ = ("params", "where")

    def __init__(self, user_id: str, state: State = "live") -> None:
        self.where = f"user_id = %(user_id)s{_IN_STATE[state]}"
        self.params: dict[str, Any] = {"user_id": user_id}

    def narrow(self, condition: str, params: Mapping[str, Any] | None = None) -> "Owned":
        """This scope's tasks that also meet `condition`: never one more."""
        narrowed = Owned.__new__(Owned)
        narrowed.where = f"{self.where} AND ({condition})"
        narrowed.params = {**self.params, **(params or {})}
        return narrowed

    def task(self, task_id: int) -> "Owned":
        """The one task with this id, if it is in this scope."""
        return self.narrow("id = %(id)s", {"id": task_id})

    def tasks(self, task_ids: Collection[int]) -> "Owned":
        """This scope's tasks with these ids."""
        return self.narrow(*listed(task_ids))

    def descendants_of(self, task_ids: Collection[int]) -> "Owned":
        """This scope's tasks below any of these (their children, theirs, …)."""
        return self.narrow(*below(task_ids))

    def ancestors_of(self, task_ids: Collection[int]) -> "Owned":
        """This scope's tasks above any of these (their parents, theirs, …)."""
        return self.narrow(*above(task_ids))

    def at_versions(self, versions: Collection[int] | None) -> "Owned":
        """This scope's tasks at one of `versions` (an If-Match), if given."""
        if versions is None:
            return self
        listed, params = parameter_list("version", versions)
        return self.narrow(f"version IN ({listed})" if params else "1 = 0", params)


# The walks up and down a tree go through the owner's tasks alone, and no further than
# a chain may reach (a guard against a cycle no write makes).
_WALK_DOWN = (
    "id IN (WITH RECURSIVE below(id, depth) AS ("  # noqa: S608
    f"SELECT id, 1 FROM {TABLE} WHERE user_id = %(user_id)s AND parent_id IN ({{roots}}) "
    f"UNION ALL SELECT child.id, below.depth + 1 FROM {TABLE} AS child "
    "JOIN below ON child.parent_id = below.id "
    f"WHERE child.user_id = %(user_id)s AND below.depth < {MAX_DEPTH}) SELECT id FROM below)"
)
_WALK_UP = (
    "id IN (WITH RECURSIVE above(id, depth) AS ("  # noqa: S608
    f"SELECT parent_id, 1 FROM {TABLE} WHERE user_id = %(user_id)s AND id IN ({{leaves}}) "
    f"UNION ALL SELECT parent.parent_id, above.depth + 1 FROM {TABLE} AS parent "
    "JOIN above ON parent.id = above.id "
    f"WHERE parent.user_id = %(user_id)s AND above.depth < {MAX_DEPTH}) SELECT id FROM above)"
)


def below(task_ids: Collection[int]) -> tuple[str, dict[str, Any]]:
    """The condition for the owner's tasks below any of `task_ids`, and its parameters
    (the scope's `user_id` among them)."""
    listed, params = parameter_list("root", sorted(set(task_ids)))
    return (_WALK_DOWN.format(roots=listed), params) if params else ("1 = 0", {})


def above(task_ids: Collection[int]) -> tuple[str, dict[str, Any]]:
    """The condition for the owner's tasks above any of `task_ids`, and its parameters."""
    listed, params = parameter_list("leaf", sorted(set(task_ids)))
    return (_WALK_UP.format(leaves=listed), params) if params else ("1 = 0", {})


def listed(task_ids: Collection[int]) -> tuple[str, dict[str, Any]]:
    """The condition for the tasks with these ids, and its parameters."""
    ids, params = parameter_list("id", sorted(set(task_ids)))
    return (f"id IN ({ids})", params) if params else ("1 = 0", {})


def either(*conditions: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The condition met by a task any of `conditions` meets, and their parameters."""
    sql = " OR ".join(f"({condition})" for condition, _ in conditions)
    return sql, {name: value for _, params in conditions for name, value in params.items()}


def select_one(scope: Owned, *, lock: bool = False) -> TaskRow | None:
    """The one task of `scope` (a `task` scope), locked until the transaction ends if
    `lock` (on SQLite the transaction holds the write lock already)."""
    locked = " FOR UPDATE" if lock and connection.vendor == "postgresql" else ""
    return fetch_one(f"SELECT {RETURNING} FROM {TABLE} WHERE {scope.where}{locked}", scope.params)  # noqa: S608


def select_all(scope: Owned) -> list[TaskRow]:
    """The tasks of `scope`, in id order."""
    with cursor() as opened:
        sql = f"SELECT {RETURNING} FROM {TABLE} WHERE {scope.where} ORDER BY id"  # noqa: S608
        opened.execute(sql, scope.params)
        return rows(opened.fetchall())


def select_ids(scope: Owned) -> list[int]:
    """The ids of the tasks of `scope`, in id order."""
    with cursor() as opened:
        opened.execute(f"SELECT id FROM {TABLE} WHERE {scope.where} ORDER BY id", scope.params)  # noqa: S608
        return [task_id for (task_id,) in opened.fetchall()]


def update_one(scope: Owned, set_clause: str, params: Mapping[str, Any]) -> TaskRow | None:
    """Write `set_clause` to the one task of `scope` (a `task` scope); the task as
    written, or None if the scope holds none."""
    sql = f"UPDATE {TABLE} SET {set_clause} WHERE {scope.where} RETURNING {RETURNING}"  # noqa: S608
    return fetch_one(sql, {**params, **scope.params})


def update_all(scope: Owned, set_clause: str, params: Mapping[str, Any]) -> list[TaskRow]:
    """Write `set_clause` to every task of `scope`; the tasks as written."""
    sql = f"UPDATE {TABLE} SET {set_clause} WHERE {scope.where} RETURNING {RETURNING}"  # noqa: S608
    with cursor() as opened:
        opened.execute(sql, {**params, **scope.params})
        return rows(opened.fetchall())


def lock_in_id_order(scope: Owned) -> None:
    """On PostgreSQL, lock the tasks of `scope` in id order, as every write of many
    tasks takes them before it writes: a write that took an owner's count row (by a
    trigger) before a later task would deadlock with an API write of that task."""
    if connection.vendor == "postgresql":
        with cursor() as opened:
            opened.execute(
                f"SELECT id FROM {TABLE} WHERE {scope.where} ORDER BY id FOR UPDATE",  # noqa: S608
                scope.params,
            )


# --- The SET clause of every update -----------------------------------------------


def set_clause(
    new: Mapping[str, str], *, tags: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The SET clause giving each column in `new` the SQL expression mapped to it,
    the server-managed columns following by the rules, and the parameters those add.
    `tags` is the list being written, when `new` sets them."""
    params = {"now": db_value("updated_at", timezone.now()), "changed_via": current_source()}
    assignments = [f"{COLUMN[name]} = {expression}" for name, expression in new.items()]
    assignments.append("changed_via = %(changed_via)s")
    if "completed" in new:
        assignments.append(
            f"completed_at = CASE WHEN {new['completed']} "
            "THEN COALESCE(completed_at, %(now)s) ELSE NULL END"
        )
    if tags is not None:
        assignments.append("tag_keys = %(tag_keys)s")
        params["tag_keys"] = tag_keys(tags)
    changed = " OR ".join(
        f"{COLUMN[name]} {DISTINCT} {expression}" for name, expression in new.items()
    )
    assignments.append(f"updated_at = CASE WHEN {changed} THEN %(now)s ELSE updated_at END")
    assignments.append(f"version = CASE WHEN {changed} THEN version + 1 ELSE version END")
    return ", ".join(assignments), params


def assignments(fields: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SET clause writing allow-listed `fields` (and derived ones), one parameter
    each, and its parameters."""
    writable(fields, derived=True)
    clause, params = set_clause({name: f"%({name})s" for name in fields}, tags=fields.get("tags"))
    return clause, params | {name: db_value(name, value) for name, value in fields.items()}


def trashed_clause(trashed: bool) -> tuple[str, dict[str, Any]]:
    """The SET clause moving a task to the trash (or out of it), by `set_clause`'s rules."""
    return set_clause({"deleted_at": "%(now)s" if trashed else "NULL"})


# --- Writes that need no look at the task ---------------------------------------------

# A write of these alone needs no look at the task: no series or reminder to follow.
_NO_SERIES = "recurrence IS NULL"
_NO_REMINDERS = "reminders = '[]'" + ("::jsonb" if connection.vendor == "postgresql" else "")
# Completing a task that repeats moves it to its next occurrence instead.
COMPLETES_PLAINLY = "recurrence IS NULL OR completed"
# A plain write of one task keeps the rules of tasks.queries.tree only on a task that is no tree's
# part its write could break: completing one with no live child, reopening or
# trashing a top-level one (trashing a child changes its parent's row).
PLAIN_COMPLETE = "children = 0"
PLAIN_REOPEN = "parent_id IS NULL"
PLAIN_TRASH = "children = 0 AND parent_id IS NULL"
PLAIN_TOGGLE = f"(completed AND {PLAIN_REOPEN}) OR (NOT completed AND {PLAIN_COMPLETE})"


class ScheduleMustSeeTheTask(Exception):
    """A write that tasks.schedule must see each task for: no single UPDATE keeps
    its rules (a local time to read in the task's zone, a series or reminders to move)."""


def plain_write(
    fields: Mapping[str, Any], *, tree_follows: bool = False
) -> tuple[str | None, str, dict[str, Any]]:
    """The condition under which one UPDATE of `fields` keeps the rules of
    tasks.schedule and tasks.queries.tree (None: it always does), its SET clause and
    parameters; raise ScheduleMustSeeTheTask when no condition can. With
    `tree_follows`, the caller keeps the trees' rules itself, with the families locked."""
    scheduled = fields.keys() & SCHEDULED_FIELDS
    if scheduled - {"due_date"} or read_in_zone(fields.get("due_date")):
        raise ScheduleMustSeeTheTask
    conditions = []
    if scheduled:  # a due date with its offset, or none
        conditions += [_NO_SERIES, _NO_REMINDERS]
    if fields.get("completed") is True:
        conditions.append(COMPLETES_PLAINLY)
    if fields.get("completed") is True and not tree_follows:
        conditions.append(PLAIN_COMPLETE)
    elif fields.get("completed") is False and not tree_follows:
        conditions.append(PLAIN_REOPEN)
    guard = " AND ".join(f"({condition})" for condition in conditions) or None
    # A due date with its offset is no longer all-day.
    written = {**fields, "due_day": None} if "due_date" in fields else fields
    return guard, *assignments(written)
