"""`python manage.py purge_trash`: the worker's daily purge (`tasks.jobs.purge_trash`),
run once by hand."""

from typing import Any

from django.core.management.base import BaseCommand

from tasks import jobs


class Command(BaseCommand):
    help = (
        "Delete tasks trashed more than TRASH_RETENTION_DAYS ago, old tombstones, "
        "expired idempotency keys and notifications older than NOTIFICATION_RETENTION_DAYS "
        "(the worker does this daily)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = jobs.purge_trash()
        self.stdout.write(
            f"Deleted {purged.tasks} task(s) from the trash, {purged.tombstones} tombstone(s), "
            f"{purged.idempotency_keys} expired idempotency key(s), "
            f"{purged.notifications} old notification(s)."
        )
