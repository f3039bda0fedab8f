"""The delivery app's daily job, run by the worker (todo_project/worker.py)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from delivery.models import Event


def forget_old_activity(*, now: datetime | None = None) -> int:
    """Delete the events older than ACTIVITY_RETENTION_DAYS that went out already (a
    pending one has yet to reach the outlets); how many."""
    before = (now or timezone.now()) - timedelta(days=settings.ACTIVITY_RETENTION_DAYS)
    deleted: int = Event.objects.filter(at__lt=before, pending=False).delete()[0]
    return deleted
