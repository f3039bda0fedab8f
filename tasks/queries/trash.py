"""The trash: deleting for good (tasks.queries.tree moves tasks in and out).

A trashed task has `deleted_at` set; the reads and writes of live tasks never see it,
those of the trash see nothing else. Deleting for good removes the row, and a trigger
buries it for the changes feed (tasks.changes). The same transaction then forgets the
owner's oldest tombstones beyond MAX_TOMBSTONES_PER_USER and moves their feed horizon
past them, so what a user's deletions keep is bounded whatever they do.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction

from tasks.models import FeedHorizon, ListTombstone, Task, TaskTombstone
from tasks.queries.rows import cursor, quote

_TOMBSTONES = quote(TaskTombstone._meta.db_table)
_HORIZON = quote(FeedHorizon._meta.db_table)
# Row values compare as (change_id, task_id) on both databases; the horizon moves to
# the later of where it is and the newest tombstone forgotten, and its epoch steps.
_LATER = (
    f"excluded.change_id > {_HORIZON}.change_id OR (excluded.change_id = "
    f"{_HORIZON}.change_id AND excluded.task_id > {_HORIZON}.task_id)"
)
_MOVE_HORIZON = (
    f"INSERT INTO {_HORIZON} (user_id, change_id, task_id, epoch) VALUES (%s, %s, %s, 1) "  # noqa: S608
    f"ON CONFLICT (user_id) DO UPDATE SET "
    f"change_id = CASE WHEN {_LATER} THEN excluded.change_id ELSE {_HORIZON}.change_id END, "
    f"task_id = CASE WHEN {_LATER} THEN excluded.task_id ELSE {_HORIZON}.task_id END, "
    f"epoch = {_HORIZON}.epoch + 1"
)


def _forget_tombstones(user_ids: Iterable[str]) -> int:
    """Forget each user's oldest tombstones beyond MAX_TOMBSTONES_PER_USER, moving their
    horizon to the newest forgotten one; how many were forgotten. Inside the
    transaction that deleted their tasks, which holds each user's task-count row
    (its triggers wrote it), so two such transactions of a user take turns and the
    second sees the first's tombstones."""
    forgotten = 0
    keep = settings.MAX_TOMBSTONES_PER_USER
    with cursor() as opened:
        for user_id in user_ids:
            # The newest tombstone beyond the cap, read from (user, change, task).
            opened.execute(
                f"SELECT change_id, task_id FROM {_TOMBSTONES} WHERE user_id = %s "  # noqa: S608
                "ORDER BY change_id DESC, task_id DESC LIMIT 1 OFFSET %s",
                [user_id, keep],
            )
            cut = opened.fetchone()
            if cut is None:
                continue
            change_id, task_id = cut
            opened.execute(
                f"DELETE FROM {_TOMBSTONES} WHERE user_id = %s AND change_id <= %s "  # noqa: S608
                "AND (change_id < %s OR task_id <= %s)",
                [user_id, change_id, change_id, task_id],
            )
            forgotten += opened.rowcount
            opened.execute(_MOVE_HORIZON, [user_id, change_id, task_id])
    return forgotten


def task_purge(*, user_id: str, task_id: int) -> bool:
    """Delete the owner's task in the trash for good (and forget their tombstones
    beyond the cap); False if there is no such task."""
    with transaction.atomic():
        deleted, _ = Task.objects.filter(
            id=task_id, user_id=user_id, deleted_at__isnull=False
        ).delete()
        if deleted:
            _forget_tombstones([user_id])
    return deleted > 0


def trash_empty(*, user_id: str) -> int:
    """Delete every task in the owner's trash for good (and forget their tombstones
    beyond the cap); how many there were."""
    with transaction.atomic():
        deleted, _ = Task.objects.filter(user_id=user_id, deleted_at__isnull=False).delete()
        if deleted:
            _forget_tombstones([user_id])
    return deleted


def trash_purge(*, deleted_before: datetime, buried_before: datetime) -> tuple[int, int]:
    """Delete for good every user's tasks trashed before `deleted_before` (and forget
    each one's tombstones beyond the cap), and forget the tombstones of those (and of
    lists) deleted before `buried_before`; how many tasks, and how many tombstones
    forgotten."""
    with transaction.atomic():
        expired = Task.objects.filter(deleted_at__lt=deleted_before)
        owners = list(expired.values_list("user_id", flat=True).distinct().order_by("user_id"))
        purged, _ = expired.delete()
        over_cap = _forget_tombstones(owners)
        forgotten, _ = TaskTombstone.objects.filter(deleted_at__lt=buried_before).delete()
        lists_forgotten, _ = ListTombstone.objects.filter(deleted_at__lt=buried_before).delete()
    return purged, over_cap + forgotten + lists_forgotten
