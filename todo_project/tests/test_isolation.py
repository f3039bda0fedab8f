"""Two checkouts running the suite at once on one machine don't meet.

What a run shares with its neighbours is the machine: the system temp dir, the ports,
the PostgreSQL server and Redis. Each test of what it leaves there is run here from two
copies of the checkout at the same time, as two clones' `make test` would be.
"""

import os
import subprocess
import sys
from pathlib import Path

from testing.live import ROOT, copy_checkout
from testing.postgres import ON_POSTGRES, database_independent

# The tests that use what a neighbour shares: the test database (on PostgreSQL, one
# server for both), a multi-worker server's temp dir (and a port each), a rate limit
# counted in Redis, and a worker queue in Redis (beside the pass's database).
SHARED_MACHINE_TESTS = [
    "tasks/tests/test_api.py::test_create_answers_201_with_the_task_and_its_location",
    "todo_project/tests/test_worker.py::test_the_worker_runs_a_due_job_queued_in_redis",
]
# Those of them that run in the SQLite pass alone (testing.postgres.database_independent):
# what they share is the same whatever the pass, and is tried there.
DATABASE_INDEPENDENT_TESTS = [
    "todo_project/tests/test_production.py::test_a_multi_worker_server_leaves_no_metrics_directory_behind",
    "todo_project/tests/test_production.py::test_the_rate_limit_holds_across_two_workers_on_redis",
]


def test_two_checkouts_run_the_live_tests_at_once(tmp_path: Path) -> None:
    copies = [copy_checkout(tmp_path / name) for name in ("first", "second")]
    # pytest-cov's hooks would make each copy's run count for this one.
    env = {name: value for name, value in os.environ.items() if not name.startswith("COV_")}
    tests = SHARED_MACHINE_TESTS + ([] if ON_POSTGRES else DATABASE_INDEPENDENT_TESTS)
    command = [sys.executable, "-m", "pytest", "-q", *tests]

    runs = [
        subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE, text=True)
        for copy in copies
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]

    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
        assert f"{len(tests)} passed" in output, output


@database_independent
def test_the_suite_says_why_a_test_was_skipped(tmp_path: Path) -> None:
    """A skip in CI (no npm, no Chromium) is visible, not just counted."""
    (tmp_path / "test_skipped.py").write_text(
        "import pytest\n\n@pytest.mark.skip(reason='needs a thing')\ndef test_x():\n    pass\n"
    )

    result = subprocess.run(
        # The suite's options alone: not its conftest, whose static files are shared.
        [
            *(sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini")),
            *("--rootdir", str(tmp_path), "--noconftest", str(tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert "SKIPPED [1] " in result.stdout
    assert "needs a thing" in result.stdout
