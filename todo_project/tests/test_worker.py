"""The background worker (todo_project/worker.py): its schedules, and the real process
running jobs on this pass's database, beside a live web server on one SQLite file, and
under `make run`'s supervisor (scripts/run_local.py)."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import Failure, Schedule, Task

from tasks.jobs import purge_trash
from testing.live import (
    ROOT,
    fetch_json,
    free_port,
    live_service,
    live_token,
    wait_until_up,
)
from testing.postgres import scratch_postgres
from testing.worker import start_worker, stop, wait_for, worker_env
from testing.worker_jobs import record_run
from todo_project import worker
from todo_project.worker import Changes, Job, ensure_schedules

ON_POSTGRES = os.environ.get("DATABASE_URL", "").split(":")[0] in ("postgres", "postgresql")


# --- The schedules --------------------------------------------------------------


def schedules() -> dict[str, tuple[Any, ...]]:
    return {
        s.name: (s.id, s.func, s.schedule_type, s.minutes, s.repeats, s.next_run)
        for s in Schedule.objects.all()
    }


@pytest.mark.django_db
def test_ensuring_the_schedules_twice_changes_nothing_the_second_time() -> None:
    first = ensure_schedules()
    before = schedules()

    second = ensure_schedules()

    assert first.created == len(before) > 0
    assert second == Changes(created=0, updated=0, removed=0)
    assert schedules() == before


@pytest.mark.django_db
def test_a_daily_job_is_one_row_of_1440_minutes() -> None:
    ensure_schedules([Job("daily", purge_trash, 24 * 60)])

    (row,) = Schedule.objects.all()

    assert (row.name, row.func, row.minutes) == ("todo:daily", "tasks.jobs.purge_trash", 1440)


@pytest.mark.parametrize("minutes", [0, -1, 40 * 24 * 60])
def test_an_interval_the_schedule_table_cannot_keep_is_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match="every_minutes"):
        ensure_schedules([Job("odd", record_run, minutes)])


@pytest.mark.django_db
def test_ensuring_corrects_an_edited_schedule_and_keeps_when_it_runs_next() -> None:
    ensure_schedules()
    earlier = timezone.now() - timedelta(hours=1)
    Schedule.objects.filter(name="todo:purge_trash").update(minutes=5, args="1", next_run=earlier)

    changes = ensure_schedules()

    purge = Schedule.objects.get(name="todo:purge_trash")
    assert changes == Changes(created=0, updated=1, removed=0)
    assert (purge.minutes, purge.args, purge.next_run) == (1440, None, earlier)


@pytest.mark.django_db
def test_ensuring_removes_unlisted_and_doubled_schedules_of_its_own_only() -> None:
    ensure_schedules()
    Schedule.objects.create(name="todo:retired", func="tasks.jobs.gone", schedule_type="I")
    Schedule.objects.create(name="todo:purge_trash", func="tasks.jobs.purge_trash")
    Schedule.objects.create(name="made in the admin", func="tasks.jobs.purge_trash")

    changes = ensure_schedules()

    assert changes == Changes(created=0, updated=0, removed=2)
    assert Schedule.objects.filter(name="todo:purge_trash").count() == 1
    assert Schedule.objects.filter(name="made in the admin").exists()


def test_a_job_is_kept_by_the_dotted_path_of_its_function() -> None:
    assert Job("daily", purge_trash, 24 * 60).path == "tasks.jobs.purge_trash"


@pytest.mark.django_db
def test_failures_are_forgotten_after_a_week_and_successes_are_kept() -> None:
    now = timezone.now()
    for name, success, age in [("old", False, 8), ("new", False, 6), ("kept", True, 30)]:
        Task.objects.create(
            id=name,
            name=name,
            func="tasks.jobs.purge_trash",
            started=now - timedelta(days=age),
            stopped=now - timedelta(days=age),
            success=success,
        )

    forgotten = worker.forget_old_failures(now=now)

    assert forgotten == 1
    assert list(Failure.objects.values_list("name", flat=True)) == ["new"]
    assert Task.objects.filter(name="kept").exists()


# --- The worker process ---------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A new database of this pass's kind: an SQLite file, or one on PostgreSQL."""
    if ON_POSTGRES:
        with scratch_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"


@pytest.fixture
def record(tmp_path: Path) -> Path:
    """The file the test jobs (testing/worker_jobs.py) note what they did in."""
    return tmp_path / "record.txt"


SCHEDULE_NOW = """
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule
call_command("migrate", verbosity=0)
Schedule.objects.create(name="test:{func}", func="{func}", next_run=timezone.now())
"""


def migrate_and_schedule(env: dict[str, str], func: str) -> None:
    """Migrate the database of `env`, and schedule `func` there to run once, now (under
    a name the worker's own schedules leave alone)."""
    shell = [sys.executable, "manage.py", "shell", "-c", SCHEDULE_NOW.format(func=func)]
    subprocess.run(shell, cwd=ROOT, env=env, check=True)


def lines(record: Path) -> list[str]:
    return record.read_text().splitlines() if record.exists() else []


def test_the_worker_runs_a_due_job_within_seconds_and_stops_on_sigterm(
    database: str, record: Path
) -> None:
    env = worker_env(database, record)
    migrate_and_schedule(env, "testing.worker_jobs.record_run")

    process = start_worker(env)
    try:
        waited = wait_for(lambda: bool(lines(record)), 20, "the scheduled job's run")
    finally:
        status = stop(process)

    assert waited < 10  # start-up, one scan (0.5 s), one poll of the queue (1 s)
    assert lines(record)[0].startswith("ran in ")
    assert status == 0


def redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return bool(os.environ.get("CI"))  # CI starts it: fail there, don't skip


@pytest.mark.skipif(not redis_is_up(), reason="needs Redis on 127.0.0.1:6379")
def test_the_worker_runs_a_due_job_queued_in_redis(database: str, record: Path) -> None:
    redis_db = "14"
    # A queue of this run's own: no other suite's worker on this Redis takes its jobs.
    queue = f"test-{uuid.uuid4().hex}"
    env = worker_env(
        database,
        record,
        WORKER_REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        WORKER_QUEUE_NAME=queue,
    )
    migrate_and_schedule(env, "testing.worker_jobs.record_run")

    process = start_worker(env)
    try:
        wait_for(lambda: bool(lines(record)), 20, "the scheduled job's run")
        keys = subprocess.run(
            ["redis-cli", "-n", redis_db, "KEYS", f"django_q:{queue}:*"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    finally:
        status = stop(process)

    assert lines(record)[0].startswith("ran in ")
    assert keys  # the running cluster's status, which django-q2 keeps in its broker
    assert status == 0


def task_creates(base: str, env: dict[str, str], count: int) -> list[int]:
    """`count` creates from 16 threads at once, each as a user of its own; the statuses."""

    def create(i: int) -> int:
        token = live_token(env, f"user-{i % 32}")
        body = {"title": f"t{i}"}
        status, _ = fetch_json(f"{base}/api/me/tasks", token, method="POST", body=body)
        return status

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(create, range(count)))


@pytest.mark.skipif(ON_POSTGRES, reason="runs in the SQLite pass")
def test_web_and_worker_writing_one_sqlite_file_never_find_it_locked(
    database: str, record: Path
) -> None:
    env = worker_env(
        database, record, WEB_CONCURRENCY="2", GUNICORN_THREADS="4", RATE_LIMIT_USER="off"
    )
    migrate_and_schedule(env, "testing.worker_jobs.write_rows")

    with live_service(env) as base:
        process = start_worker(env)
        try:
            wait_for(lambda: "writing" in lines(record), 20, "the writing job's start")
            statuses = task_creates(base, env, 300)
            record.with_suffix(".stop").touch()
            wait_for(lambda: len(lines(record)) > 1, 20, "the writing job's end")
        finally:
            stop(process)

    assert [s for s in statuses if s != 201] == []
    # It wrote from before the first create until after the last.
    assert lines(record)[1:] == [f"wrote {rows_written(database)}"]


def rows_written(database: str) -> int:
    with sqlite3.connect(database.removeprefix("sqlite:///")) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM worker_test_rows").fetchone()
    return int(count)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_make_runs_supervisor_runs_web_and_worker_and_one_ctrl_c_stops_both(
    database: str, record: Path
) -> None:
    port = free_port()
    env = worker_env(database, record, HOST="127.0.0.1", PORT=str(port))
    migrate_and_schedule(env, "testing.worker_jobs.record_run")

    supervisor = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        wait_for(lambda: bool(lines(record)), 20, "the worker's first job")
        children = descendants(supervisor.pid)
        os.killpg(supervisor.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        status = supervisor.wait(timeout=30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()

    assert len(children) >= 6  # gunicorn and its workers, the worker and its cluster
    assert status == 0
    wait_for(lambda: not any(alive(pid) for pid in children), 10, "the children's end")
