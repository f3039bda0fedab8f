"""Writes to tasks, each a single statement so concurrent calls can't interleave."""

from typing import Any

from django.db import connection
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tasks import selectors
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


def task_update(*, task: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
    """Write `fields` to `task` (a row as read) in one UPDATE; the task as written, or
    None if it is gone meanwhile.

    Every given field is written, changed or not, so two concurrent full updates
    can't leave a mix of both; nothing is written when nothing would change.
    """
    if all(task[name] == value for name, value in fields.items()):
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
    if not Task.objects.filter(id=task["id"], user_id=task["user_id"]).update(**assignments):
        return None
    if "completed" in fields:
        assignments["completed_at"] = (task["completed_at"] or now) if fields["completed"] else None
    return {name: assignments.get(name, value) for name, value in task.items()}


# Values are always parameters; only column names are formatted in.
_TOGGLE = (
    "completed = NOT completed, "
    "completed_at = CASE WHEN completed THEN NULL ELSE %s END, updated_at = %s"
)
_SET = (
    "completed = %s, completed_at = CASE WHEN %s THEN COALESCE(completed_at, %s) ELSE NULL END, "
    "updated_at = CASE WHEN completed = %s THEN updated_at ELSE %s END"
)
_UPDATE_RETURNING = (
    f"UPDATE {Task._meta.db_table} SET {{assignments}} "  # noqa: S608
    f"WHERE id = %s AND user_id = %s RETURNING {selectors.COLUMNS}"
)


def task_set_completed(
    *, user_id: str, task_id: int, completed: bool | None
) -> dict[str, Any] | None:
    """Toggle (`completed=None`) or set completion in one UPDATE ... RETURNING.

    Setting the state a task already has changes nothing, not even `updated_at`,
    and keeps `completed_at`. The task as written, or None if the user has no such task.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any]
    if completed is None:
        assignments, params = _TOGGLE, [now, now]
    else:
        assignments, params = _SET, [completed, completed, now, completed, now]
    with connection.cursor() as cursor:
        cursor.execute(
            _UPDATE_RETURNING.format(assignments=assignments), [*params, task_id, user_id]
        )
        row = cursor.fetchone()
    return selectors.task_from_row(row) if row else None


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
