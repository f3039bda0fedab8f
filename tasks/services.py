"""Writes to tasks, each a single statement so concurrent calls can't interleave."""

from typing import Any

from django.db import connection
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tasks.models import Task, tag_keys


def task_create(*, user_id: str, **fields: Any) -> Task:
    """Insert a task for `user_id`; `completed_at` follows `completed`."""
    now = timezone.now()
    task = Task(
        user_id=user_id,
        completed_at=now if fields.get("completed") else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    task.save(force_insert=True)
    return task


def task_update(*, task: Task, fields: dict[str, Any]) -> Task | None:
    """Write `fields` to `task` in one UPDATE; None if the task is gone meanwhile.

    Every given field is written, changed or not, so two concurrent full updates
    can't leave a mix of both; nothing is written when nothing would change.
    """
    if all(getattr(task, name) == value for name, value in fields.items()):
        return task
    now = timezone.now()
    assignments: dict[str, Any] = {**fields, "updated_at": now}
    if "tags" in fields:
        assignments["tag_keys"] = tag_keys(fields["tags"])
    if "completed" in fields:
        # Decided by the row as it is at write time, not as it was read.
        assignments["completed_at"] = (
            Coalesce(F("completed_at"), Value(now)) if fields["completed"] else None
        )
    if not Task.objects.filter(id=task.id, user_id=task.user_id).update(**assignments):
        return None
    if "completed" in fields:
        assignments["completed_at"] = (task.completed_at or now) if fields["completed"] else None
    for name, value in assignments.items():
        setattr(task, name, value)
    return task


# Values are always parameters; only quoted identifiers are formatted in.
_TOGGLE = "{c} = NOT {c}, {at} = CASE WHEN {c} THEN NULL ELSE %s END, {up} = %s"
_SET = (
    "{c} = %s, {at} = CASE WHEN %s THEN COALESCE({at}, %s) ELSE NULL END, "
    "{up} = CASE WHEN {c} = %s THEN {up} ELSE %s END"
)
_UPDATE_RETURNING = (
    "UPDATE {table} SET {assignments} WHERE {id} = %s AND {user} = %s RETURNING {columns}"
)


def task_set_completed(*, user_id: str, task_id: int, completed: bool | None) -> Task | None:
    """Toggle (`completed=None`) or set completion in one UPDATE ... RETURNING.

    Setting the state a task already has changes nothing, not even `updated_at`,
    and keeps `completed_at`. None if the user has no such task.
    """
    quote = connection.ops.quote_name
    now = timezone.now()
    params: list[Any]
    if completed is None:
        assignments, params = _TOGGLE, [now, now]
    else:
        assignments, params = _SET, [completed, completed, now, completed, now]
    sql = _UPDATE_RETURNING.format(
        table=quote(Task._meta.db_table),
        assignments=assignments.format(
            c=quote("completed"), at=quote("completed_at"), up=quote("updated_at")
        ),
        id=quote("id"),
        user=quote("user_id"),
        columns=", ".join(quote(str(field.column)) for field in Task._meta.concrete_fields),
    )
    rows = list(Task.objects.raw(sql, [*params, task_id, user_id]))
    return rows[0] if rows else None


def tasks_set_completed(*, tasks: QuerySet[Task], completed: bool) -> int:
    """Set completion of many tasks at once (the admin's bulk action), as the toggle does.

    Tasks already in that state keep their `completed_at` and `updated_at`.
    """
    now = timezone.now()
    return tasks.update(
        completed=completed,
        completed_at=Coalesce(F("completed_at"), Value(now)) if completed else None,
        updated_at=Case(When(completed=completed, then=F("updated_at")), default=Value(now)),
    )


def task_delete(*, user_id: str, task_id: int) -> bool:
    """Delete the user's task; False if there was none."""
    deleted, _ = Task.objects.filter(id=task_id, user_id=user_id).delete()
    return deleted > 0
