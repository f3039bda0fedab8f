"""Writes of many tasks at once: the API's bulk actions on one owner's tasks (by ids or
by the list's filter), and the admin's bulk actions, the one door across owners,
which names its tasks by id and writes each owner's as the API's would.
"""

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from tasks.models import Task
from tasks.queries.listing import matching
from tasks.queries.owned import (
    Owned,
    ScheduleMustSeeTheTask,
    plain_write,
    select_all,
    select_ids,
    update_all,
)
from tasks.queries.rows import TaskRow, writable
from tasks.queries.tree import (
    list_for_write,
    lock_family,
    reopen_ancestors,
    set_below,
    task_restore,
    tasks_move_to_list,
    trash_with_descendants,
)
from tasks.queries.writes import write_scheduled
from tasks.schedule import read_in_zone


class TooManyOneByOne(Exception):
    """More tasks than allowed would be written one by one; nothing was written."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


BULK_LOCAL_TIME = (
    "A bulk update reads a local date-time or a date in the time_zone it sends: send both."
)


def tasks_update_owned(
    *,
    user_id: str,
    task_ids: Collection[int] | None = None,
    query: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    trash: bool = False,
    max_one_by_one: int | None = None,
) -> list[TaskRow]:
    """Write `fields` to (or, with `trash`, move to the trash) the owner's live tasks
    named by `task_ids`, or else matching a validated TaskListQuery `query`, by the
    rules of `task_update` and tasks.queries.tree; the tasks named, as written, in id
    order. Call it in a transaction to take back the write (the caller's all or
    nothing).

    The named tasks and their families are locked first (tasks.queries.tree). One
    UPDATE writes the tasks it can (`plain_write`); each of the others (a series to
    follow, reminders to move) is written on its own by the rules of tasks.schedule,
    at most `max_one_by_one` of them (else TooManyOneByOne, before any is: the
    caller's transaction takes back the UPDATE). Then the trees follow, in a statement
    each: a `list_id` moves the named tasks' subtrees (each named task top-level
    unless its parent moves too), a completion goes down, a reopening up, the trash
    takes the live descendants along."""
    fields = dict(fields or {})
    list_id = fields.pop("list_id", None)
    if not trash:
        writable(fields)
        if read_in_zone(fields.get("due_date")) and "time_zone" not in fields:
            # Each task would read it in its own zone: all alike only in the one sent.
            raise ValidationError({"due_date": [BULK_LOCAL_TIME]})
    if task_ids is not None:
        scope = Owned(user_id).tasks(task_ids)
    else:
        scope = matching(user_id, query or {"status": "all", "overdue": False})
    # No savepoint: the caller's transaction is all or nothing anyway.
    with transaction.atomic(savepoint=False):
        ids = select_ids(scope)
        lock_family(user_id, ids)
        if trash:
            named = set(ids)
            return [row for row in trash_with_descendants(user_id, ids) if row["id"] in named]
        if list_id is not None:
            list_for_write(user_id, list_id)
            tasks_move_to_list(user_id=user_id, task_ids=ids, list_id=list_id)
        if fields:
            rows = _write_each(user_id, ids, fields, max_one_by_one)
        else:
            rows = select_all(Owned(user_id).tasks(ids))
        if fields.get("completed") is True:
            # Only a task with children has any to complete.
            set_below(user_id, [row["id"] for row in rows if row["children"]], completed=True)
        elif fields.get("completed") is False:
            reopen_ancestors(user_id, [row["id"] for row in rows if row["parent_id"]])
    return sorted(rows, key=lambda row: row["id"])


def _write_each(
    user_id: str, ids: list[int], fields: Mapping[str, Any], max_one_by_one: int | None
) -> list[TaskRow]:
    """Write `fields` to the owner's live tasks `ids` (locked): those one UPDATE can
    write in it, the others one by one."""
    named = Owned(user_id).tasks(ids)
    try:
        guard, clause, params = plain_write(fields, tree_follows=True)
    except ScheduleMustSeeTheTask:
        rows: list[TaskRow] = []
    else:
        rows = update_all(named if guard is None else named.narrow(guard), clause, params)
    written = {row["id"] for row in rows}
    rest = [task_id for task_id in ids if task_id not in written]
    if max_one_by_one is not None and len(rest) > max_one_by_one:
        raise TooManyOneByOne(len(rest))
    for task_id in rest:
        if task := write_scheduled(user_id, task_id, fields, None):
            rows.append(task)
    return rows


def tasks_set_completed(*, task_ids: Iterable[int], completed: bool) -> int:
    """Set completion of these tasks, of any owners (the admin's bulk action), by the
    rules of `task_set_completed`; how many tasks there were."""
    with transaction.atomic():
        return sum(
            len(tasks_update_owned(user_id=user_id, task_ids=ids, fields={"completed": completed}))
            for user_id, ids in _by_owner(task_ids, trashed=False)
        )


def tasks_set_trashed(*, task_ids: Iterable[int], trashed: bool) -> int:
    """Move these tasks, of any owners, to the trash or back (the admin's bulk
    actions), by the rules of `task_trash` and `task_restore`; how many moved."""
    with transaction.atomic():
        if trashed:
            return sum(
                len(tasks_update_owned(user_id=user_id, task_ids=ids, trash=True))
                for user_id, ids in _by_owner(task_ids, trashed=False)
            )
        return sum(
            task_restore(user_id=user_id, task_id=task_id) is not None
            for user_id, ids in _by_owner(task_ids, trashed=True)
            for task_id in ids
        )


def _by_owner(task_ids: Iterable[int], *, trashed: bool) -> list[tuple[str, list[int]]]:
    """The ids among `task_ids` of live (or trashed) tasks, by owner."""
    owners: dict[str, list[int]] = {}
    found = Task.objects.filter(id__in=list(task_ids), deleted_at__isnull=not trashed)
    for task_id, user_id in found.order_by("id").values_list("id", "user_id"):
        owners.setdefault(user_id, []).append(task_id)
    return sorted(owners.items())
