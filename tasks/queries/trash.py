"""The trash: moving one task in and out, and deleting for good.

A trashed task has `deleted_at` set; the reads and writes of live tasks never see it,
those of the trash see nothing else. Deleting for good removes the row, and a trigger
buries it for the changes feed (tasks.changes).
"""

from collections.abc import Collection
from datetime import datetime

from tasks.models import Task, TaskTombstone
from tasks.queries.owned import Owned, trashed_clause, update_one
from tasks.queries.rows import TaskRow


def task_trash(
    *, user_id: str, task_id: int, versions: Collection[int] | None = None
) -> TaskRow | None:
    """Move the owner's live task to the trash (a change: its version steps); the task
    as trashed, or None as `task_update` says."""
    return update_one(Owned(user_id).task(task_id).at_versions(versions), *trashed_clause(True))


def task_restore(*, user_id: str, task_id: int) -> TaskRow | None:
    """Bring the owner's task back from the trash (a change: its version steps); the
    task as restored, or None if the owner has no such task in the trash."""
    return update_one(Owned(user_id, "trashed").task(task_id), *trashed_clause(False))


def task_purge(*, user_id: str, task_id: int) -> bool:
    """Delete the owner's task in the trash for good; False if there is no such task."""
    deleted, _ = Task.objects.filter(id=task_id, user_id=user_id, deleted_at__isnull=False).delete()
    return deleted > 0


def trash_empty(*, user_id: str) -> int:
    """Delete every task in the owner's trash for good; how many there were."""
    deleted, _ = Task.objects.filter(user_id=user_id, deleted_at__isnull=False).delete()
    return deleted


def trash_purge(*, deleted_before: datetime, buried_before: datetime) -> tuple[int, int]:
    """Delete for good every user's tasks trashed before `deleted_before`, and forget
    the tombstones of those deleted before `buried_before`; how many of each."""
    purged, _ = Task.objects.filter(deleted_at__lt=deleted_before).delete()
    forgotten, _ = TaskTombstone.objects.filter(deleted_at__lt=buried_before).delete()
    return purged, forgotten
