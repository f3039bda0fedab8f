"""The background worker (the Procfile's `worker`), and the schedule of every job it runs.

    python -m todo_project.worker

It writes SCHEDULES into django-q2's Schedule table (`ensure_schedules`), then runs a
django-q2 cluster: WORKER_PROCESSES job processes fed from the queue (the database, or
Redis), while this process looks for due schedules every WORKER_SCHEDULE_SCAN_SECONDS
and queues their jobs. django-q2 takes due schedules under a lock (SELECT … FOR UPDATE
on PostgreSQL, the write lock on SQLite) and moves them on in the same transaction, so
workers on several machines queue each run once. On the database queue, a job whose
process was killed before it finished is handed out again after Q_CLUSTER's `retry`.
"""

import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The schedules `ensure_schedules` keeps are named with this prefix; any other (one
# added in the admin, say) is left alone.
SCHEDULE_PREFIX = "todo:"
# django-q2 keeps every failed run (save_limit bounds the successful ones only).
FAILURES_KEPT_FOR = timedelta(days=7)
DAY = 24 * 3600


@dataclass(frozen=True)
class Job:
    """Run the function at dotted path `func` every `every_seconds`: a divisor of 60,
    or a whole number of minutes. The function is looked up when the job runs."""

    name: str
    func: str
    every_seconds: int


SCHEDULES: tuple[Job, ...] = (
    Job("purge_trash", "tasks.jobs.purge_trash", DAY),
    Job("fire_reminders", "tasks.reminders.fire_due", 15),
    Job("deliver_push", "accounts.push.deliver_due", 15),
    Job("forget_old_failures", "todo_project.worker.forget_old_failures", DAY),
    Job("forget_push_failures", "accounts.push.forget_old_failures", DAY),
)


class _Row(NamedTuple):
    name: str
    minutes: int
    phase: timedelta


def _rows(job: Job) -> list[_Row]:
    """The Schedule rows that run `job`. django-q2 counts intervals in whole minutes
    (at most 32767, its column's limit), so a job every 15 s is four rows of a minute,
    15 s apart; each keeps its phase, as a missed run moves its row on by whole
    intervals."""
    if job.every_seconds % 60 == 0 and 0 < job.every_seconds // 60 <= 32767:
        return [_Row(SCHEDULE_PREFIX + job.name, job.every_seconds // 60, timedelta(0))]
    if not 0 < job.every_seconds < 60 or 60 % job.every_seconds:
        raise ValueError(f"{job.name}: every_seconds must divide 60, or be whole minutes")
    return [
        _Row(f"{SCHEDULE_PREFIX}{job.name}+{offset}s", 1, timedelta(seconds=offset))
        for offset in range(0, 60, job.every_seconds)
    ]


class Changes(NamedTuple):
    """How many Schedule rows `ensure_schedules` created, corrected and deleted."""

    created: int
    updated: int
    removed: int


def ensure_schedules(jobs: Sequence[Job] = SCHEDULES) -> Changes:
    """Make the schedules named SCHEDULE_PREFIX… run exactly `jobs`: create the missing
    ones, correct the changed ones (a changed one runs no later than a new one would),
    delete the rest. Running it again changes nothing; workers starting together on
    several machines take turns."""
    # django_q's modules need the app registry, which `python -m` sets up only below.
    from django_q.models import Schedule

    now = timezone.now()
    wanted = {row.name: (job, row) for job in jobs for row in _rows(job)}
    created = updated = removed = 0
    with transaction.atomic():
        # SQLite's IMMEDIATE transactions (todo_project.database) already take turns.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [__name__])
        kept: dict[str, Any] = {}
        for schedule in Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).order_by("id"):
            if schedule.name in wanted and schedule.name not in kept:
                kept[schedule.name] = schedule
            else:
                schedule.delete()
                removed += 1
        for name, (job, row) in wanted.items():
            fields = {
                "func": job.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": row.minutes,
                "repeats": -1,
                **_UNSET,
            }
            first_run = now + row.phase
            schedule = kept.get(name)
            if schedule is None:
                Schedule.objects.create(name=name, next_run=first_run, **fields)
                created += 1
            elif any(getattr(schedule, field) != value for field, value in fields.items()):
                for field, value in fields.items():
                    setattr(schedule, field, value)
                schedule.next_run = min(schedule.next_run or first_run, first_run)
                schedule.save()
                updated += 1
    return Changes(created, updated, removed)


# What an edit in the admin may have set on a kept schedule, and none of ours uses.
_UNSET = dict.fromkeys(("args", "kwargs", "hook", "cron", "cluster", "intended_date_kwarg"))


def forget_old_failures(*, now: datetime | None = None) -> int:
    """Delete the failed runs that ended more than FAILURES_KEPT_FOR ago; how many."""
    from django_q.models import Failure

    before = (now or timezone.now()) - FAILURES_KEPT_FOR
    deleted: int = Failure.objects.filter(stopped__lt=before).delete()[0]
    return deleted


def run() -> int:
    """Keep the schedules, then run the cluster and queue due jobs until SIGTERM or
    SIGINT (0), or until the cluster dies (1)."""
    from django_q.brokers import get_broker
    from django_q.cluster import Cluster
    from django_q.scheduler import scheduler

    changes = ensure_schedules()
    logger.info(
        "Worker starting: %s job process(es), jobs queued in the %s; schedules %s",
        settings.WORKER_PROCESSES,
        "Redis" if settings.WORKER_REDIS_URL else "database",
        changes._asdict(),
    )
    # The cluster's processes are forked from this one: none may inherit its database
    # connection (two processes on one connection corrupt it); each opens its own.
    connections.close_all()
    cluster = Cluster()
    stop_signals: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # The loop below stops the cluster: never in the middle of queueing due jobs,
        # whose transaction holds the write lock on SQLite.
        stop_signals.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    cluster.start()
    broker = get_broker()
    while not stop_signals:
        if not cluster.sentinel.is_alive():
            logger.error("The worker's cluster stopped by itself")
            return 1
        scheduler(broker=broker)  # logs and carries on when the database fails
        next_scan = time.monotonic() + settings.WORKER_SCHEDULE_SCAN_SECONDS
        while not stop_signals and time.monotonic() < next_scan:
            time.sleep(0.1)
    cluster.stop()
    logger.info("Worker stopped")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    import django

    django.setup()
    from todo_project.checks import refuse_to_start

    refuse_to_start("worker")
    sys.exit(run())
