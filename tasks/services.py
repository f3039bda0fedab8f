"""Writes to tasks, each a single statement so concurrent calls can't interleave.

Like the hot reads, the API's writes run SQL written here once (see selectors.py)
and return the row as written (`RETURNING`), ready for `task_json`.
"""

from typing import Any

from django.db import IntegrityError
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.services import user_restore
from tasks import selectors
from tasks.models import Task, tag_keys

_TABLE = Task._meta.db_table

# Values are always parameters; only column names (the serializer's fields, never a
# client's keys) are formatted into these statements.
_COMPLETION = (
    "completed = %s, completed_at = CASE WHEN %s THEN COALESCE(completed_at, %s) ELSE NULL END"
)
_TOGGLE = (
    "completed = NOT completed, "
    "completed_at = CASE WHEN completed THEN NULL ELSE %s END, updated_at = %s"
)
_SET = f"{_COMPLETION}, updated_at = CASE WHEN completed = %s THEN updated_at ELSE %s END"
_UPDATE = (
    f"UPDATE {_TABLE} SET {{assignments}} "  # noqa: S608
    f"WHERE id = %s AND user_id = %s RETURNING {selectors.COLUMNS}"
)


def task_create(*, user_id: str, **fields: Any) -> dict[str, Any]:
    """Insert a task for `user_id`; `completed_at` follows `completed`."""
    now = timezone.now()
    columns = {
        **fields,
        "user_id": user_id,
        "completed_at": now if fields.get("completed") else None,
        "tag_keys": tag_keys(fields.get("tags", [])),
        "created_at": now,
        "updated_at": now,
    }
    sql = (
        f"INSERT INTO {_TABLE} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING {selectors.COLUMNS}"
    )
    params = list(columns.values())
    try:
        task = selectors.fetch_task(sql, params)
    except IntegrityError:
        # The serializer leaves only the owner to fail here: their mirror row was
        # deleted by a worker whose cache of recent writes isn't this one's.
        user_restore(user_id)
        task = selectors.fetch_task(sql, params)
    assert task is not None  # INSERT ... RETURNING always returns its row
    return task


def task_update(*, task: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any] | None:
    """Write `fields` to `task` (a row as read) in one UPDATE; the task as written, or
    None if it is gone meanwhile.

    Every given field is written, changed or not, so two concurrent full updates
    can't leave a mix of both; nothing is written when nothing would change.
    `completed_at` is decided by the row as it is at write time, not as it was read.
    """
    if all(task[name] == value for name, value in fields.items()):
        return task
    now = timezone.now()
    plain = {name: value for name, value in fields.items() if name != "completed"}
    if "tags" in fields:
        plain["tag_keys"] = tag_keys(fields["tags"])
    assignments = [f"{name} = %s" for name in plain] + ["updated_at = %s"]
    params = [*plain.values(), now]
    if "completed" in fields:
        assignments.append(_COMPLETION)
        params += [fields["completed"], fields["completed"], now]
    sql = _UPDATE.format(assignments=", ".join(assignments))
    return selectors.fetch_task(sql, [*params, task["id"], task["user_id"]])


def task_set_completed(
    *, user_id: str, task_id: int, completed: bool | None
) -> dict[str, Any] | None:
    """Toggle (`completed=None`) or set completion in one UPDATE ... RETURNING.

    Setting the state a task already has changes nothing, not even `updated_at`,
    and keeps `completed_at`. The task as written, or None if the user has no such task.
    """
    now = timezone.now()
    params: list[Any]
    if completed is None:
        assignments, params = _TOGGLE, [now, now]
    else:
        assignments, params = _SET, [completed, completed, now, completed, now]
    return selectors.fetch_task(
        _UPDATE.format(assignments=assignments), [*params, task_id, user_id]
    )


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
