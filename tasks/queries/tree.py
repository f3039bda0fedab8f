"""Subtasks: the writes that keep one owner's trees whole (contract Part 4).

- A chain holds at most MAX_DEPTH tasks, and no task is its own ancestor.
- A subtask is in its parent's list: moving a task to a list (or under a parent)
  moves its descendants along.
- No open task sits under a completed one: completing a task completes its open
  descendants, reopening one reopens its completed ancestors, and an open task put
  under a completed one reopens it. A recurring task moving on to its next occurrence
  reopens its descendants.
- Trashing a task takes its live descendants along; restoring it brings back those
  that went with it (same `deleted_at`), top-level if its parent is not live.

Locking. Every write here runs under `lock_tree` (one owner's tree writes take
turns, so none reads a tree while another reshapes it) and locks every task it may
write, or whose `children` its write changes, in id order before it writes any
(`lock_family`). A plain write (one UPDATE of one task, tasks.queries.writes) locks
its task and then, through the triggers, the owner's count rows; taking the tasks
first, in one order, keeps the two kinds from deadlocking. Plain writes stay off
trees by conditions on the task's own row (tasks.queries.owned's `PLAIN_*`), which
PostgreSQL checks again on the row as a concurrent tree write left it (`children`
moves when a child is added).
"""

from collections.abc import Collection
from typing import Any

from django.db import connection, transaction
from rest_framework.exceptions import ValidationError

from tasks.models import MAX_DEPTH
from tasks.queries.owned import (
    PLAIN_TRASH,
    Owned,
    above,
    assignments,
    below,
    either,
    listed,
    select_one,
    set_clause,
    trashed_clause,
    update_all,
    update_one,
)
from tasks.queries.rows import LIST_TABLE, TABLE, TaskRow, cursor, db_value

NOT_YOUR_PARENT = "Not one of your tasks."
OWN_ANCESTOR = "A task can't be its own ancestor."
TOO_DEEP = f"Subtasks go at most {MAX_DEPTH} levels deep."
OTHER_LIST = "A subtask is in its parent's list: send the parent's list_id, or none."
NOT_YOUR_LIST = "Not one of your lists."
# On PostgreSQL, a task written into a list holds it until it commits: the list can't
# be deleted from under it (a delete locks the list FOR UPDATE first).
_HOLD = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""


def list_for_write(user_id: str, list_id: int, *, field: str = "list_id") -> None:
    """Check that `list_id` is one of the owner's lists, held until the transaction
    ends; else a 400 naming `field`."""
    with cursor() as opened:
        opened.execute(
            f"SELECT id FROM {LIST_TABLE} WHERE id = %s AND user_id = %s{_HOLD}",  # noqa: S608
            [list_id, user_id],
        )
        if opened.fetchone() is None:
            raise ValidationError({field: [NOT_YOUR_LIST]})


# The owner's tree lock, which also has the transaction's writes of many tasks
# counted by statement from then on (migration 0017).
_TREE_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext(%(tree_key)s)), "
    "set_config('tasks.counting', 'statement', true)"
)
# The tree's lock and the family's rows in one round trip: the rows are locked as the
# join hands them out, so the lock (its one row) is taken before the first of them. A
# family without a row takes no lock, and has nothing to write.
_LOCK_FAMILY = (
    f"WITH tree AS MATERIALIZED ({_TREE_LOCK}) "  # noqa: S608
    f"SELECT id FROM tree, {TABLE} WHERE {{where}} ORDER BY id FOR UPDATE OF {TABLE}"
)


def lock_tree(user_id: str) -> None:
    """Make the owner's tree writes take turns until this transaction ends: an advisory
    lock on PostgreSQL; on SQLite the transaction holds the write lock from its start
    (IMMEDIATE, todo_project.database)."""
    if connection.vendor == "postgresql":
        with cursor() as opened:
            opened.execute(_TREE_LOCK, {"tree_key": _tree_key(user_id)})


def lock_family(user_id: str, task_ids: Collection[int]) -> None:
    """Take the tree lock, then lock, in id order, the owner's tasks among `task_ids`,
    below them or above them, in any state (PostgreSQL)."""
    if connection.vendor == "postgresql":
        family = Owned(user_id, "any").narrow(
            *either(listed(task_ids), below(task_ids), above(task_ids))
        )
        with cursor() as opened:
            opened.execute(
                _LOCK_FAMILY.format(where=family.where),
                family.params | {"tree_key": _tree_key(user_id)},
            )


def _tree_key(user_id: str) -> str:
    return f"tasks.tree:{user_id}"


def _tree_below(user_id: str, task_id: int) -> dict[int, int]:
    """The owner's tasks below `task_id`, in any state, and each one's parent."""
    scope = Owned(user_id, "any").descendants_of([task_id])
    with cursor() as opened:
        opened.execute(f"SELECT id, parent_id FROM {TABLE} WHERE {scope.where}", scope.params)  # noqa: S608
        return dict(opened.fetchall())


def _levels(tree: dict[int, int], root: int) -> int:
    """How many tasks the longest chain from `root` down holds (1: no children)."""
    children: dict[int, list[int]] = {}
    for task_id, parent_id in tree.items():
        children.setdefault(parent_id, []).append(task_id)
    levels, level = 1, [root]
    while level := [child for parent in level for child in children.get(parent, ())]:
        levels += 1
    return levels


def _ancestor_count(user_id: str, task_id: int) -> int:
    scope = Owned(user_id, "any").ancestors_of([task_id])
    with cursor() as opened:
        opened.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE {scope.where}", scope.params)  # noqa: S608
        return int(opened.fetchone()[0])


def parent_for(user_id: str, parent_id: int, *, moved: int | None = None) -> TaskRow:
    """The owner's live task `parent_id`, checked as a parent of a new task (or of the
    task `moved`, with its subtree): a 400 naming `parent_id` if it isn't one."""
    parent = select_one(Owned(user_id).task(parent_id))
    if parent is None:
        raise ValidationError({"parent_id": [NOT_YOUR_PARENT]})
    levels = 1
    if moved is not None:
        tree = _tree_below(user_id, moved)
        if parent_id == moved or parent_id in tree:
            raise ValidationError({"parent_id": [OWN_ANCESTOR]})
        levels = _levels(tree, moved)
    if _ancestor_count(user_id, parent_id) + 1 + levels > MAX_DEPTH:
        raise ValidationError({"parent_id": [TOO_DEEP]})
    return parent


def reopen_ancestors(user_id: str, task_ids: Collection[int]) -> list[TaskRow]:
    """Reopen the completed tasks above any of `task_ids` (locked already)."""
    if not task_ids:
        return []
    scope = Owned(user_id).ancestors_of(task_ids).narrow("completed")
    return update_all(scope, *assignments({"completed": False}))


def follow_completion(
    user_id: str, before: TaskRow, after: TaskRow, *, moved_on: bool = False
) -> None:
    """Keep the rules of a tree after one task's write (its family locked): from
    `before` to `after`, a completion goes down, a reopening up, and a recurring task
    that `moved_on` to its next occurrence reopens its descendants."""
    task_id = after["id"]
    if after["completed"] and not before["completed"] and after["children"]:
        set_below(user_id, [task_id], completed=True)
    elif before["completed"] and not after["completed"] and after["parent_id"] is not None:
        reopen_ancestors(user_id, [task_id])
    if moved_on and after["children"]:
        set_below(user_id, [task_id], completed=False)


def set_below(user_id: str, task_ids: Collection[int], *, completed: bool) -> None:
    """Complete (or reopen) the live tasks below any of `task_ids` that aren't so
    (locked already). A recurring one is completed as it stands: it can't stay open
    under its parent."""
    if not task_ids:
        return
    scope = (
        Owned(user_id)
        .descendants_of(task_ids)
        .narrow("NOT completed" if completed else "completed")
    )
    update_all(scope, *assignments({"completed": completed}))


_UNSET: Any = object()


def task_place(
    *,
    user_id: str,
    task_id: int,
    list_id: int = _UNSET,
    parent_id: int | None = _UNSET,
    versions: Collection[int] | None = None,
) -> TaskRow | None:
    """Move the owner's live task, with its descendants, to the list `list_id` (then
    top-level, unless it stays in its list) or under the task `parent_id` (into its
    list; None: top-level); the task as moved, or None as `task_update` says. A 400
    names `list_id` or `parent_id` when the move breaks a rule."""
    with transaction.atomic():
        lock_family(user_id, [task_id, *([parent_id] if parent_id not in (_UNSET, None) else [])])
        task = select_one(Owned(user_id).task(task_id).at_versions(versions))
        if task is None:
            return None
        new_parent, new_list = task["parent_id"], task["list_id"]
        if parent_id is not _UNSET and parent_id is not None:
            parent = parent_for(user_id, parent_id, moved=task_id)
            if list_id is not _UNSET and list_id != parent["list_id"]:
                raise ValidationError({"list_id": [OTHER_LIST]})
            new_parent, new_list = parent_id, parent["list_id"]
        else:
            if parent_id is None:
                new_parent = None
            if list_id is not _UNSET and list_id != task["list_id"]:
                list_for_write(user_id, list_id)
                new_parent, new_list = None, list_id
        clause, params = set_clause({"parent_id": "%(new_parent)s", "list_id": "%(new_list)s"})
        params |= {"new_parent": new_parent, "new_list": new_list}
        moved = update_one(Owned(user_id).task(task_id), clause, params)
        if new_list != task["list_id"]:
            _move_to_list(Owned(user_id, "any").descendants_of([task_id]), new_list)
        if new_parent is not None and not task["completed"]:
            reopen_ancestors(user_id, [task_id])
    return moved


def _move_to_list(scope: Owned, list_id: int) -> list[TaskRow]:
    clause, params = set_clause({"list_id": "%(new_list)s"})
    return update_all(scope, clause, params | {"new_list": list_id})


def tasks_move_to_list(*, user_id: str, task_ids: Collection[int], list_id: int) -> None:
    """Move the owner's tasks `task_ids` with their descendants to `list_id` (checked
    already), their family locked: each becomes top-level unless its parent moves too."""
    moving = Owned(user_id, "any").narrow(*either(listed(task_ids), below(task_ids)))
    _move_to_list(moving, list_id)
    clause, params = set_clause({"parent_id": "NULL"})
    stays_under = f"parent_id IN (SELECT id FROM {TABLE} WHERE {moving.where})"  # noqa: S608
    orphans = (
        Owned(user_id, "any")
        .tasks(task_ids)
        .narrow(f"parent_id IS NOT NULL AND NOT {stays_under}", moving.params)
    )
    update_all(orphans, clause, params)


def trash_with_descendants(user_id: str, task_ids: Collection[int]) -> list[TaskRow]:
    """Move the owner's live tasks `task_ids` and their live descendants to the trash,
    all at one `deleted_at` (their family locked); the tasks as trashed."""
    scope = Owned(user_id).narrow(*either(listed(task_ids), below(task_ids)))
    return update_all(scope, *trashed_clause(True))


def task_trash(
    *, user_id: str, task_id: int, versions: Collection[int] | None = None
) -> TaskRow | None:
    """Move the owner's live task, with its live descendants, to the trash (a change:
    each version steps); the task as trashed, or None as `task_update` says. A
    top-level task without children is one UPDATE."""
    task = Owned(user_id).task(task_id).at_versions(versions)
    trashed = update_one(task.narrow(PLAIN_TRASH), *trashed_clause(True))
    if trashed is not None:
        return trashed
    with transaction.atomic():
        lock_family(user_id, [task_id])
        if select_one(task) is None:
            return None
        return next(
            row for row in trash_with_descendants(user_id, [task_id]) if row["id"] == task_id
        )


def task_restore(*, user_id: str, task_id: int) -> TaskRow | None:
    """Bring the owner's task back from the trash with the descendants that went there
    with it (a change: each version steps), into its parent if that is live (else
    top-level) and its parent's list; the task as restored, or None if the owner has
    no such task in the trash."""
    with transaction.atomic():
        lock_family(user_id, [task_id])
        task = select_one(Owned(user_id, "trashed").task(task_id))
        if task is None:
            return None
        parent = select_one(Owned(user_id).task(task["parent_id"])) if task["parent_id"] else None
        new_list = parent["list_id"] if parent else task["list_id"]
        down, params = below([task_id])
        went_along = f"({down}) AND deleted_at = %(went_at)s"
        params["went_at"] = db_value("deleted_at", task["deleted_at"])
        back = Owned(user_id, "trashed").narrow(*either(listed([task_id]), (went_along, params)))
        clause, params = set_clause(
            {
                "deleted_at": "NULL",
                "parent_id": "CASE WHEN id = %(restored)s THEN %(new_parent)s ELSE parent_id END",
                "list_id": "%(new_list)s",
            }
        )
        params |= {"restored": task_id, "new_parent": parent and parent["id"], "new_list": new_list}
        restored = next(row for row in update_all(back, clause, params) if row["id"] == task_id)
        if parent is not None and not restored["completed"]:
            reopen_ancestors(user_id, [task_id])
    return restored
