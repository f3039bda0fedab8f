"""`python manage.py purge_trash`: delete for good what has been in the trash for
TRASH_RETENTION_DAYS, forget the changes feed's tombstones no token can need, and the
kept responses of Idempotency-Keys older than a day."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tasks import idempotency, queries
from tasks.changes import TOMBSTONE_MARGIN


class Command(BaseCommand):
    help = (
        "Delete tasks trashed more than TRASH_RETENTION_DAYS ago, old tombstones and "
        "expired idempotency keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        retention = timedelta(days=settings.TRASH_RETENTION_DAYS)
        now = timezone.now()
        purged, forgotten = queries.trash_purge(
            deleted_before=now - retention, buried_before=now - retention - TOMBSTONE_MARGIN
        )
        keys = idempotency.forget_expired()
        self.stdout.write(
            f"Deleted {purged} task(s) from the trash, {forgotten} tombstone(s), "
            f"{keys} expired idempotency key(s)."
        )
