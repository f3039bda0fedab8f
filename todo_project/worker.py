"""The background worker (the Procfile's `worker`): the delivery loop, and the daily jobs.

    python -m todo_project.worker

Its main thread runs the delivery loop (delivery.loop: reminders, events to webhooks
and Dapr, Web Push), turn after turn. Beside it runs a django-q2 cluster for the daily
jobs: `ensure_schedules` writes them into django-q2's Schedule table,
the loop queues the due ones every WORKER_SCHEDULE_SCAN_SECONDS, and WORKER_PROCESSES
job processes run them from the queue (the database, or Redis). django-q2 takes due
schedules under a lock (SELECT … FOR UPDATE on PostgreSQL, the write lock on SQLite)
and moves them on in the same transaction, so workers on several machines queue each
run once. On the database queue, a job whose process was killed before it finished is
handed out again after Q_CLUSTER's `retry`.
"""

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
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
DAY_MINUTES = 24 * 60
# The longest interval django-q2's Schedule table keeps (a smallint of minutes).
MAX_MINUTES = 32767


@dataclass(frozen=True)
class Job:
    """Run `func` every `every_minutes`. A function, not its dotted path: a rename
    fails when this module is imported, not when the job runs."""

    name: str
    func: Callable[..., Any]
    every_minutes: int

    @property
    def path(self) -> str:
        """The dotted path django-q2 keeps, and looks the function up by."""
        return f"{self.func.__module__}.{self.func.__qualname__}"


def _jobs() -> tuple[Job, ...]:
    # The jobs' modules need the app registry, which `python -m` sets up only below.
    from delivery import jobs as delivery_jobs
    from delivery import push
    from live import jobs as live_jobs
    from tasks import jobs as tasks_jobs

    return (
        Job("purge_trash", tasks_jobs.purge_trash, DAY_MINUTES),
        Job("forget_old_failures", forget_old_failures, DAY_MINUTES),
        Job("forget_push_attempts", push.forget_old_attempts, DAY_MINUTES),
        Job("forget_old_activity", delivery_jobs.forget_old_activity, DAY_MINUTES),
        Job("forget_lapsed_streams", live_jobs.forget_lapsed, DAY_MINUTES),
    )


class Changes(NamedTuple):
    """How many Schedule rows `ensure_schedules` created, corrected and deleted."""

    created: int
    updated: int
    removed: int


def ensure_schedules(jobs: Sequence[Job] | None = None) -> Changes:
    """Make the schedules named SCHEDULE_PREFIX… run exactly `jobs` (default: the
    daily jobs above): create the missing ones, correct the changed ones (a changed one
    runs no later than a new one would), delete the rest. Running it again changes
    nothing; workers starting together on several machines take turns. Raise
    ValueError for an interval the Schedule table can't keep."""
    from django_q.models import Schedule

    jobs = _jobs() if jobs is None else jobs
    for job in jobs:
        if not 0 < job.every_minutes <= MAX_MINUTES:
            raise ValueError(f"{job.name}: every_minutes must be 1 to {MAX_MINUTES}")
    now = timezone.now()
    wanted = {SCHEDULE_PREFIX + job.name: job for job in jobs}
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
        for name, job in wanted.items():
            fields = {
                "func": job.path,
                "schedule_type": Schedule.MINUTES,
                "minutes": job.every_minutes,
                "repeats": -1,
                **_UNSET,
            }
            schedule = kept.get(name)
            if schedule is None:
                Schedule.objects.create(name=name, next_run=now, **fields)
                created += 1
            elif any(getattr(schedule, field) != value for field, value in fields.items()):
                for field, value in fields.items():
                    setattr(schedule, field, value)
                schedule.next_run = min(schedule.next_run or now, now)
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
    """Keep the schedules, then turn the delivery loop (queueing due jobs every
    WORKER_SCHEDULE_SCAN_SECONDS) until SIGTERM or SIGINT (0), or until the cluster
    dies (1)."""
    from django_q.brokers import get_broker
    from django_q.cluster import Cluster
    from django_q.scheduler import scheduler

    from delivery.loop import DeliveryLoop

    changes = ensure_schedules()
    logger.info(
        "Worker starting: %s delivery thread(s), %s job process(es), jobs queued in the %s; "
        "schedules %s",
        settings.DELIVERY_THREADS,
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
        # The loop stops between turns: never in the middle of a claim or a settle.
        stop_signals.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    cluster.start()
    broker = get_broker()
    delivery = DeliveryLoop()
    next_scan = 0.0
    died = False

    def stopping() -> bool:
        """Asked before each turn: also where due jobs are queued."""
        nonlocal next_scan, died
        if not cluster.sentinel.is_alive():
            logger.error("The worker's cluster stopped by itself")
            died = True
        elif time.monotonic() >= next_scan:
            scheduler(broker=broker)  # logs and carries on when the database fails
            next_scan = time.monotonic() + settings.WORKER_SCHEDULE_SCAN_SECONDS
        return died or bool(stop_signals)

    delivery.run(stopping)
    cluster.stop()
    logger.info("Worker stopped")
    return 1 if died else 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    import django

    django.setup()
    from todo_project.checks import refuse_to_start

    refuse_to_start("worker")
    sys.exit(run())
