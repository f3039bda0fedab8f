"""The worker as real processes, for the tests that run it (todo_project/tests/
test_worker.py, tasks/tests/test_reminder_worker.py)."""

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from testing.live import ROOT, service_env


def worker_env(database: str, record: Path, **settings: str) -> dict[str, str]:
    """A worker's environment on `database`: a quick scan for due schedules, and the
    file the test jobs (testing/worker_jobs.py) note in."""
    return service_env(
        DATABASE_URL=database,
        WORKER_TEST_RECORD=str(record),
        WORKER_SCHEDULE_SCAN_SECONDS="0.5",
        WORKER_PROCESSES="2",
        **settings,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The Procfile's worker, in a process group of its own (to kill with its children)."""
    command = [sys.executable, "-m", "todo_project.worker"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> int:
    """Send `signum` and wait for the exit status; kill it if it takes 20 s."""
    process.send_signal(signum)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
