"""Jobs for the worker's tests (todo_project/tests/test_worker.py), run by a live worker.
Each notes what it did in the file WORKER_TEST_RECORD names, a line at a time."""

import os
import time
from pathlib import Path

from django.db import connection, transaction


def _record() -> Path:
    return Path(os.environ["WORKER_TEST_RECORD"])


def _note(line: str) -> None:
    with _record().open("a") as record:
        record.write(line + "\n")


def record_run() -> None:
    """Note that it ran, and in which process."""
    _note(f"ran in {os.getpid()}")


def write_rows() -> int:
    """Write rows one at a time, each by a transaction that reads before it writes (as
    the API's writes do), until the file `<record>.stop` appears or 30 s have passed.
    Notes `writing` when it starts, then `wrote <n>` or the error that stopped it."""
    stop = _record().with_suffix(".stop")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS worker_test_rows (n integer NOT NULL)")
    _note("writing")
    written = 0
    deadline = time.monotonic() + 30
    try:
        while not stop.exists() and time.monotonic() < deadline:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM worker_test_rows")
                (count,) = cursor.fetchone()
                cursor.execute("INSERT INTO worker_test_rows (n) VALUES (%s)", [count + 1])
            written += 1
            time.sleep(0.005)
    except Exception as error:
        _note(f"error {error!r}")
        raise
    _note(f"wrote {written}")
    return written
