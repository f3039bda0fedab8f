"""The service behind a transaction pooler on a plain host name, started as the Procfile
says: `.ci/run` puts PgBouncer (transaction mode) on loopback and names it in
TEST_POOLER_URL, through which every scratch database is then reached.
"""

import json
import os
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from testing.live import ROOT, fetch, live_service, live_token, service_env
from testing.postgres import POOLER_URL, needs_postgres, scratch_postgres
from todo_project.tests.test_production import procfile

# CI must have the pooler: fail there rather than skip.
needs_pooler = pytest.mark.skipif(
    not POOLER_URL and not os.environ.get("CI"), reason="needs TEST_POOLER_URL (a PgBouncer)"
)
TIMEOUT_MS = 1000


def direct(url: str) -> str:
    """The same database, reached without the pooler."""
    return url.replace(POOLER_URL, os.environ["DATABASE_URL"].rsplit("/", 1)[0])


def mixed_load(base: str, token: str, rounds: int) -> Counter[int]:
    def one_round(n: int) -> list[int]:
        status, _, body = fetch(
            f"{base}/api/me/tasks", token, method="POST", body={"title": f"n{n}"}
        )
        task = f"{base}/api/me/tasks/{json.loads(body)['id']}" if status == 201 else base
        return [
            status,
            fetch(f"{base}/api/me/tasks?limit=5", token)[0],
            fetch(task, token)[0],
            fetch(task, token, method="PATCH", body={"priority": "high"})[0],
            fetch(f"{task}/complete", token, method="PATCH")[0],
            fetch(task, token, method="PUT", body={"title": f"renamed {n}"})[0],
            fetch(task, token, method="DELETE")[0],
            fetch(f"{base}/readyz")[0],
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        rounds_statuses = pool.map(one_round, range(rounds))
    return Counter(status for statuses in rounds_statuses for status in statuses)


@needs_postgres
@needs_pooler
def test_the_procfile_behind_a_transaction_pooler_serves_and_times_out() -> None:
    assert POOLER_URL, "CI sets TEST_POOLER_URL (.ci/run)"
    with scratch_postgres() as pooled:
        assert pooled.startswith(POOLER_URL)
        env = service_env(DATABASE_URL=pooled, DB_STATEMENT_TIMEOUT_MS=str(TIMEOUT_MS))
        release = subprocess.run(["sh", "-c", procfile("release")], cwd=ROOT, env=env, check=False)
        assert release.returncode == 0

        with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
            token = live_token(env)
            ready = fetch(f"{base}/readyz")[0]
            statuses = mixed_load(base, token, rounds=25)
            with psycopg.connect(pooled) as through_pooler:
                (timeout,) = through_pooler.execute("SHOW statement_timeout").fetchone()  # type: ignore[misc]

            _, _, body = fetch(f"{base}/api/me/tasks", token, method="POST", body={"title": "held"})
            task = f"{base}/api/me/tasks/{json.loads(body)['id']}"
            with psycopg.connect(direct(pooled)) as holder, holder.transaction():
                # The row lock makes the service's UPDATE wait: the timeout must end it.
                holder.execute("SELECT 1 FROM tasks_task FOR UPDATE")
                started = time.monotonic()
                slow_status, slow_headers, slow_body = fetch(
                    task, token, method="PATCH", body={"title": "late"}
                )
                waited = time.monotonic() - started
            after = fetch(task, token)

    assert ready == 200
    assert statuses == {201: 25, 200: 25 * 6, 204: 25}
    assert timeout == "1s"
    assert slow_status == 503
    assert slow_headers["Content-Type"] == "application/problem+json"
    assert slow_headers["Retry-After"] == "5"
    assert json.loads(slow_body)["status"] == 503
    assert TIMEOUT_MS / 1000 <= waited < TIMEOUT_MS / 1000 + 2
    assert after[0] == 200
    assert json.loads(after[2])["title"] == "held"
