"""Writes of many tasks at once: the API's bulk actions on one owner's tasks (by ids or
by the list's filter), and the admin's bulk actions, the one door across owners,
which names its tasks by id.
"""

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from rest_framework.exceptions import ValidationError

from tasks.models import Task
from tasks.queries.listing import matching
from tasks.queries.owned import (
    COMPLETES_PLAINLY,
    Owned,
    ScheduleMustSeeTheTask,
    assignments,
    lock_in_id_order,
    plain_write,
    select_ids,
    trashed_clause,
    update_all,
)
from tasks.queries.rows import TABLE, TaskRow, cursor, parameter_list, writable
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
# Admin bulk writes go in chunks, within every database's limit of parameters.
_IDS_PER_STATEMENT = 500


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
    rules of `task_update`; the tasks as written, in id order. Call it in a
    transaction to take back the write (the caller's all or nothing).

    One UPDATE writes the tasks it can (`plain_write`); each of the others (a series to
    follow, reminders to move) is written on its own by the rules of tasks.schedule,
    at most `max_one_by_one` of them (else TooManyOneByOne, before any is: the
    caller's transaction takes back the UPDATE)."""
    fields = fields or {}
    guard: str | None = None
    one_by_one = False
    clause, params = "", dict[str, Any]()
    if trash:
        clause, params = trashed_clause(True)
    else:
        writable(fields)
        if read_in_zone(fields.get("due_date")) and "time_zone" not in fields:
            # Each task would read it in its own zone: all alike only in the one sent.
            raise ValidationError({"due_date": [BULK_LOCAL_TIME]})
        try:
            guard, clause, params = plain_write(fields)
        except ScheduleMustSeeTheTask:
            one_by_one = True
    if task_ids is not None:
        named = Owned(user_id).tasks(task_ids)
    else:
        named = matching(user_id, query or {"status": "all", "overdue": False})
    # No savepoint: the caller's transaction is all or nothing anyway.
    with transaction.atomic(savepoint=False):
        lock_in_id_order(named)
        rows: list[TaskRow] = []
        if not one_by_one:
            rows = update_all(named if guard is None else named.narrow(guard), clause, params)
        rest: list[int] = []
        if task_ids is not None and (one_by_one or guard is not None):
            # Those the UPDATE did not write, if any is the caller's.
            rest = sorted(set(task_ids) - {row["id"] for row in rows})
        elif one_by_one or guard is not None:
            rest = select_ids(named if one_by_one else named.narrow(f"NOT ({guard})"))
        if max_one_by_one is not None and len(rest) > max_one_by_one:
            raise TooManyOneByOne(len(rest))
        for task_id in rest:
            if task := write_scheduled(user_id, task_id, fields, None):
                rows.append(task)
    return sorted(rows, key=lambda row: row["id"])


def tasks_set_completed(*, task_ids: Iterable[int], completed: bool) -> int:
    """Set completion of these tasks, of any owners (the admin's bulk action), by the
    rules of `task_set_completed`; how many tasks there were."""
    if not completed:
        return _tasks_write(task_ids, *assignments({"completed": False}))
    ids = list(task_ids)
    with transaction.atomic():
        count = _tasks_write(ids, *assignments({"completed": True}), where=COMPLETES_PLAINLY)
        # Those that repeat move to their next occurrence, one by one.
        recurring = Task.objects.filter(id__in=ids, deleted_at__isnull=True, completed=False)
        for task_id, user_id in recurring.values_list("id", "user_id"):
            count += write_scheduled(user_id, task_id, {"completed": True}, None) is not None
    return count


def tasks_set_trashed(*, task_ids: Iterable[int], trashed: bool) -> int:
    """Move these tasks, of any owners, to the trash or back (the admin's bulk
    actions), by the rules of `task_trash` and `task_restore`; how many moved."""
    in_trash = "IS NULL" if trashed else "IS NOT NULL"
    return _tasks_write(task_ids, *trashed_clause(trashed), where=f"deleted_at {in_trash}")


def _tasks_write(
    task_ids: Iterable[int], set_clause: str, params: Mapping[str, Any], *, where: str = "1 = 1"
) -> int:
    """Write `set_clause` to these tasks (those `where` matches), of any owners, in one
    transaction; how many were written. On PostgreSQL every task is locked in id order
    first, as tasks.queries.owned's `lock_in_id_order` does for one owner's."""
    ids = sorted(task_ids)
    batches = [
        parameter_list("id", ids[start : start + _IDS_PER_STATEMENT])
        for start in range(0, len(ids), _IDS_PER_STATEMENT)
    ]
    count = 0
    with transaction.atomic(), cursor() as opened:  # every batch, or none
        if connection.vendor == "postgresql":
            for in_list, chunk in batches:  # every task before any write
                opened.execute(
                    f"SELECT id FROM {TABLE} WHERE id IN ({in_list}) ORDER BY id FOR UPDATE",  # noqa: S608
                    chunk,
                )
        for in_list, chunk in batches:
            opened.execute(
                f"UPDATE {TABLE} SET {set_clause} WHERE id IN ({in_list}) AND ({where})",  # noqa: S608
                {**params, **chunk},
            )
            count += opened.rowcount
    return count
