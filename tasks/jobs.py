"""The tasks app's background jobs: plain functions the worker runs on the schedule
in `todo_project/worker.py` (and commands may call by hand)."""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from tasks import idempotency, queries
from tasks.changes import TOMBSTONE_MARGIN
from tasks.models import Notification


class Purged(NamedTuple):
    """How many of each `purge_trash` deleted."""

    tasks: int
    tombstones: int
    idempotency_keys: int
    notifications: int


def purge_trash() -> Purged:
    """Delete for good what has been in the trash for TRASH_RETENTION_DAYS, forget the
    changes feed's tombstones no token can need (and each user's beyond
    MAX_TOMBSTONES_PER_USER, moving their horizon), the kept responses of
    Idempotency-Keys older than a day, and notifications older than
    NOTIFICATION_RETENTION_DAYS; how many of each. Safe to run at any time."""
    retention = timedelta(days=settings.TRASH_RETENTION_DAYS)
    now = timezone.now()
    tasks, tombstones = queries.trash_purge(
        deleted_before=now - retention, buried_before=now - retention - TOMBSTONE_MARGIN
    )
    notifications = forget_notifications(
        fired_before=now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    )
    return Purged(tasks, tombstones, idempotency.forget_expired(), notifications)


def forget_notifications(*, fired_before: datetime) -> int:
    """Delete the notifications that fired before `fired_before`; how many."""
    deleted, _ = Notification.objects.filter(fired_at__lt=fired_before).delete()
    return deleted
