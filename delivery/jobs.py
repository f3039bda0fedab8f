"""The delivery app's background jobs: plain functions the worker runs on the
schedule in `todo_project/worker.py` (and commands may call by hand)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from delivery.models import Event


def forget_old_activity(*, now: datetime | None = None) -> int:
    """Delete the events older than ACTIVITY_RETENTION_DAYS that the outlets have had
    (a pending one is still owed to the webhooks and the publisher, however old);
    how many. Safe to run at any time."""
    before = (now or timezone.now()) - timedelta(days=settings.ACTIVITY_RETENTION_DAYS)
    deleted: int = Event.objects.filter(at__lt=before, pending=False).delete()[0]
    return deleted
