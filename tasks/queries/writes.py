"""Writes of one task: create, update, complete.

The rules a new task keeps are written once, in `_new_task`; every update goes through
tasks.queries.owned's `set_clause`. Every path writes through them: the API, the
admin, the test factories and the bench seeder. A write given `versions` (the If-Match
of a request) happens only while the task's version is one of them, decided by the
write statement itself. A write that moves a task (`list_id`, `parent_id`), or whose
completion must go down or up its tree, goes through tasks.queries.tree.
"""

import functools
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.selectors import user_time_zone
from accounts.services import user_restore
from delivery.events import current_source
from tasks import ordering
from tasks.exceptions import TaskLimitReached
from tasks.models import Task, TaskCompletion, TaskCount, TaskList, tag_keys
from tasks.queries.owned import (
    COMPLETES_PLAINLY,
    PLAIN_TOGGLE,
    Owned,
    ScheduleMustSeeTheTask,
    assignments,
    plain_write,
    select_one,
    set_clause,
    update_one,
)
from tasks.queries.rows import (
    COLUMN,
    COUNT_TABLE,
    FIELDS,
    LIST_TABLE,
    OWNER_TABLE,
    RETURNING,
    TABLE,
    WRITABLE_FIELDS,
    TaskRow,
    db_value,
    fetch_one,
    writable,
)
from tasks.queries.tree import (
    OTHER_LIST,
    follow_completion,
    list_for_write,
    lock_family,
    parent_for,
    reopen_ancestors,
    task_place,
)
from tasks.schedule import DERIVED_FIELDS, next_remind_at, schedule

# Where a task is: written by tasks.queries.tree's rules, not as a plain field.
PLACEMENT = ("list_id", "parent_id")

# --- Inserts ----------------------------------------------------------------------


def _new_task(user_id: str, fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Every column of a new task: `fields` with what tasks.schedule derives from them,
    the model's defaults for the writable fields they leave out, and the
    server-managed ones by the rules."""
    writable(fields)
    scheduled = schedule(None, fields, owner_zone=lambda: user_time_zone(user_id), now=now).fields
    values = {
        name: scheduled[name] if name in scheduled else FIELDS[name].get_default()
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
        "list_id": None,  # the owner's Inbox, unless the caller places it
        "parent_id": None,
        "children": 0,
        "changed_via": current_source(),
    }


def task_insert(*, user_id: str, fields: Mapping[str, Any]) -> TaskRow:
    """Insert a task of `user_id` and return it as written; raise TaskLimitReached if
    the owner holds MAX_TASKS_PER_USER tasks already (the trash included). `fields`
    may place it: `list_id` (else the Inbox) or `parent_id` (a 400 naming either if
    it breaks a rule of tasks.queries.tree); a task placed so is written in a
    transaction that checks the place, else in one statement.

    The statement inserts only while the owner's mirror row exists and they are below
    the cap (their kept count, one row read). When it inserts nothing below the cap,
    the row was gone (deleted through another worker, whose cache of recent mirror
    writes isn't this one's): it is restored and the insert runs once more. No error
    is part of that, so it is as safe inside a transaction as outside.
    """
    place = {name: fields[name] for name in PLACEMENT if fields.get(name) is not None}
    fields = {name: value for name, value in fields.items() if name not in PLACEMENT}
    if not place:
        return _insert(user_id, fields)
    with transaction.atomic():
        if "parent_id" in place:
            lock_family(user_id, [place["parent_id"]])
            parent = parent_for(user_id, place["parent_id"])
            if place.get("list_id", parent["list_id"]) != parent["list_id"]:
                raise ValidationError({"list_id": [OTHER_LIST]})
            place["list_id"] = parent["list_id"]
        else:
            list_for_write(user_id, place["list_id"])
        task = _insert(user_id, fields, place)
        if task["parent_id"] is not None and not task["completed"]:
            reopen_ancestors(user_id, [task["id"]])
    return task


def _insert(
    user_id: str, fields: Mapping[str, Any], place: Mapping[str, int] | None = None
) -> TaskRow:
    values = _new_task(user_id, fields, timezone.now()) | dict(place or {})
    sql = _insert_sql(tuple(values))
    params = {name: db_value(name, value) for name, value in values.items()}
    params["cap"] = settings.MAX_TASKS_PER_USER
    row = fetch_one(sql, params)
    if row is None and tasks_held(user_id) < settings.MAX_TASKS_PER_USER:
        user_restore(user_id)
        row = fetch_one(sql, params)
    if row is None:
        raise TaskLimitReached()
    return row


# A new task without a zone of its own takes its owner's setting; one not placed goes
# to the owner's Inbox.
_INSERTED = {
    "time_zone": f"COALESCE(%(time_zone)s, (SELECT time_zone FROM {OWNER_TABLE} "  # noqa: S608
    "WHERE id = %(user_id)s))",
    "list_id": f"COALESCE(%(list_id)s, (SELECT id FROM {LIST_TABLE} "  # noqa: S608
    "WHERE user_id = %(user_id)s AND is_inbox))",
}


@functools.cache
def _insert_sql(names: tuple[str, ...]) -> str:
    # Creates racing at the cap read the count before either commits, so they can pass
    # it together: a bound (overshot by at most the creates in flight), not a quota.
    return (
        f"INSERT INTO {TABLE} ({', '.join(COLUMN[name] for name in names)}) "  # noqa: S608
        f"SELECT {', '.join(_INSERTED.get(name, f'%({name})s') for name in names)} "
        f"WHERE EXISTS (SELECT 1 FROM {OWNER_TABLE} WHERE id = %(user_id)s) "
        f"AND NOT EXISTS (SELECT 1 FROM {COUNT_TABLE} WHERE user_id = %(user_id)s "
        f"AND pending + completed + trashed >= %(cap)s) RETURNING {RETURNING}"
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
    owners must exist, and the per-user cap is not checked. `fields` may name a
    `list_id` and a `parent_id`, unchecked (else the owner's Inbox)."""
    tasks = list(tasks)
    inboxes = dict(
        TaskList.objects.filter(
            user_id__in={user_id for user_id, _, _ in tasks}, is_inbox=True
        ).values_list("user_id", "id")
    )
    return Task.objects.bulk_create(
        (
            Task(**_new_task(user_id, _unplaced(fields), now) | _placed(fields, inboxes[user_id]))
            for user_id, fields, now in tasks
        ),
        batch_size=5000,
    )


def _unplaced(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name not in PLACEMENT}


def _placed(fields: Mapping[str, Any], inbox: int) -> dict[str, Any]:
    return {"list_id": fields.get("list_id") or inbox, "parent_id": fields.get("parent_id")}


# --- Updates ----------------------------------------------------------------------


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
    (its time zone, series or reminders), or whose completion goes down or up its
    tree, reads it first, locked. A move (`list_id`, `parent_id`) comes first, in one
    transaction with the rest."""
    place = {name: fields[name] for name in PLACEMENT if name in fields}
    rest = {name: value for name, value in fields.items() if name not in PLACEMENT}
    if place and not rest:
        return task_place(user_id=user_id, task_id=task_id, versions=versions, **place)
    if place:
        with transaction.atomic():
            moved = task_place(user_id=user_id, task_id=task_id, versions=versions, **place)
            if moved is None:
                return None
            return task_update(user_id=user_id, task_id=task_id, fields=rest)
    writable(fields)
    task = Owned(user_id).task(task_id).at_versions(versions)
    if not fields:
        return select_one(task)
    try:
        guard, clause, params = plain_write(fields)
    except ScheduleMustSeeTheTask:
        return write_scheduled(user_id, task_id, fields, versions)
    written = update_one(task if guard is None else task.narrow(guard), clause, params)
    if written is None and guard is not None:
        return write_scheduled(user_id, task_id, fields, versions)
    return written


def write_scheduled(
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
    live = Owned(user_id).task(task_id)
    # On SQLite the transaction holds the write lock from its start (IMMEDIATE,
    # todo_project.database), so what it reads stays true until it writes.
    with transaction.atomic(savepoint=False):
        lock_family(user_id, [task_id])
        task = select_one(live, lock=True)
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
            written = update_one(live, *assignments(scheduled.fields))
            if written is not None:
                moved_on = scheduled.completion is not None
                follow_completion(user_id, task, written, moved_on=moved_on)
            return written
    raise refused


def task_reminders_spent(
    *, user_id: str, task_id: int, reminders: list[dict[str, Any]]
) -> TaskRow | None:
    """Write the task's reminders as the worker left them (those fired or skipped with
    a null `remind_at`), live or in the trash: a change, so its version steps."""
    return update_one(
        Owned(user_id, "any").task(task_id),
        *assignments({"reminders": reminders, "next_remind_at": next_remind_at(reminders)}),
    )


def task_check_write(*, user_id: str, task_id: int | None, fields: Mapping[str, Any]) -> None:
    """Raise the ValidationError that writing `fields` to the owner's task (None: a new
    one) would, by the rules of tasks.schedule, writing nothing: for the admin's form."""
    writable(fields)
    current = None if task_id is None else select_one(Owned(user_id).task(task_id))
    schedule(current, fields, owner_zone=lambda: user_time_zone(user_id), now=timezone.now())


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
    task = Owned(user_id).task(task_id).at_versions(versions)
    plain = task.narrow(COMPLETES_PLAINLY).narrow(PLAIN_TOGGLE)
    written = update_one(plain, *set_clause({"completed": "NOT completed"}))
    if written is None:
        return write_scheduled(user_id, task_id, {}, versions, toggle=True)
    return written
