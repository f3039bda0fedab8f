"""Reminders fired by real worker processes on PostgreSQL: with two workers none fires
twice, and a worker killed (SIGKILL) in the middle of a run loses none."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from testing.live import ROOT
from testing.postgres import needs_postgres, scratch_postgres
from testing.worker import start_worker, stop, wait_for, worker_env

pytestmark = needs_postgres

SEED = """
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
from accounts.models import BetterAuthUser
from tasks import queries
call_command("migrate", verbosity=0)
BetterAuthUser.objects.create(id="remembered")
now = timezone.now()
at = (now + timedelta(seconds={delay})).isoformat()
queries.tasks_load(
    ("remembered", {{"title": f"T{{n}}", "reminders": [{{"at": at}}]}}, now) for n in range({count})
)
"""


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url


def seed(env: dict[str, str], *, count: int, delay: int) -> None:
    """Migrate, and give `count` tasks a reminder each, due in `delay` seconds."""
    script = SEED.format(count=count, delay=delay)
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True
    )


def fired(database: str) -> tuple[int, int]:
    """How many notifications there are, and for how many distinct reminders."""
    with psycopg.connect(database, autocommit=True) as connection:
        row = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT (task_id, remind_at)) FROM tasks_notification"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_two_workers_fire_each_reminder_once(database: str, tmp_path: Path) -> None:
    env = worker_env(database, tmp_path / "record.txt")
    count = 400
    seed(env, count=count, delay=5)

    workers = [start_worker(env), start_worker(env)]
    try:
        wait_for(lambda: fired(database)[0] >= count, 60, "every reminder fired")
    finally:
        # A graceful stop lets a run still under way finish: a reminder it fired a
        # second time would be counted below.
        for process in workers:
            stop(process)

    assert fired(database) == (count, count)


def test_a_worker_killed_mid_run_loses_no_reminder(database: str, tmp_path: Path) -> None:
    env = worker_env(database, tmp_path / "record.txt")
    count = 3000
    seed(env, count=count, delay=3)

    first = start_worker(env)
    try:
        wait_for(lambda: fired(database)[0] > 0, 60, "the first reminders fired")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    at_kill = fired(database)[0]

    second = start_worker(env)
    try:
        wait_for(lambda: fired(database)[0] >= count, 90, "every reminder fired")
    finally:
        stop(second)

    assert 0 < at_kill < count  # killed in the middle of firing them
    assert fired(database) == (count, count)
