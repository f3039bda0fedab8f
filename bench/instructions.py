"""CPU instructions per request, in process, counted by valgrind: a measure of our own
cost that the shared machine's drift can't move.

    .venv/bin/python bench/instructions.py                          # get, toggle, create, list
    .venv/bin/python bench/instructions.py --scenarios get,list --pg postgresql://...

pair.sh's req/s ratios swing by ±0.2 from one run to the next on this machine, which is
more than most changes to the hot path are worth. callgrind counts the instructions the
service executes, the same count on a busy machine as on a quiet one. For each scenario
it runs this file twice under `valgrind --tool=callgrind` (100 and 300 requests through
the WSGI application, production settings, a scratch PostgreSQL database, each after
300 warm-up requests) and prints (total of 300 - total of 100) / 200: what one request
costs, start-up excluded. What it leaves out: gunicorn (bench/server_instructions.py
counts the whole worker), which is the same for every change to the app,
and the time PostgreSQL takes, which runs on another CPU. Compare two commits by
running this in each (a git worktree).
Needs valgrind (`apt-get install valgrind`); a run takes about a minute per scenario.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["get", "toggle", "create", "list"]
BODY = json.dumps(
    {
        "title": "Review pull request #42",
        "description": "Check the migration and the tests",
        "priority": "high",
        "tags": ["work", "urgent"],
        "due_date": "2026-03-01T17:00:00Z",
    }
).encode()
SECRET = "instructions-benchmark-secret-" + "x" * 32
WARM_UP = 300


def environment(database_url: str) -> dict[str, str]:
    """Production settings, as pair.sh runs them: plain HTTP on loopback, no rate limits."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "todo_project.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "instructions-benchmark-" + "y" * 40,
        "BETTER_AUTH_SECRET": SECRET,
        "BETTER_AUTH_URL": "",
        "DEBUG": "false",
        "SECURE_HTTPS": "false",
        "RATE_LIMIT_USER": "off",
        "RATE_LIMIT_ANON": "off",
        "DJANGO_READ_DOT_ENV_FILE": "false",
    }


def scratch_database(pg: str, name: str, **settings: str) -> dict[str, str]:
    """Create the database `name` afresh at `pg`, migrate it, and return the
    environment() that uses it, with `settings` added."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = environment(f"{pg}/{name}") | settings
    manage = [sys.executable, "manage.py", "migrate", "-v0"]
    subprocess.run(manage, cwd=ROOT, env=env, check=True)
    return env


def bench_token() -> str:
    """A bearer token of the benchmark's user, valid for an hour."""
    import jwt

    return jwt.encode({"sub": "bench-user", "exp": int(time.time()) + 3600}, SECRET)


def request_function(scenario: str, application: Any, tasks: int = 1) -> Callable[[], bytes]:
    """One request of `scenario` through the WSGI `application`, after creating
    `tasks` tasks for it (the last is the one read and toggled)."""
    token = bench_token()

    def call(method: str, path: str, body: bytes = b"", query: str = "") -> bytes:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8001",
            "HTTP_HOST": "127.0.0.1:8001",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            statuses.append(status)
            return io.BytesIO().write

        answer = b"".join(application(environ, start_response))
        if not statuses[0].startswith("2"):
            raise SystemExit(f"{method} {path}: {statuses[0]} {answer[:300]!r}")
        return answer

    for _ in range(tasks):
        task_id = json.loads(call("POST", "/api/me/tasks", BODY))["id"]
    requests: dict[str, Callable[[], bytes]] = {
        "get": lambda: call("GET", f"/api/me/tasks/{task_id}"),
        "toggle": lambda: call("PATCH", f"/api/me/tasks/{task_id}/complete"),
        "create": lambda: call("POST", "/api/me/tasks", BODY),
        "list": lambda: call("GET", "/api/me/tasks", query="limit=50"),
    }
    return requests[scenario]


def serve_requests(scenario: str, count: int) -> None:
    """The measured process: warm up, then `count` requests of `scenario`."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from todo_project.wsgi import application

    request = request_function(scenario, application, tasks=50)
    for _ in range(WARM_UP + count):
        request()


def instructions(scenario: str, count: int, env: dict[str, str], out: Path) -> int:
    """The instructions a run of `count` requests took, start-up included."""
    log = out / f"callgrind.{scenario}.{count}"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={log}"]
    command += [sys.executable, __file__, "--serve", scenario, str(count)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    summary = re.search(r"^summary: (\d+)$", log.read_text(), re.MULTILINE)
    assert summary, f"no summary in {log}"
    return int(summary.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_instructions")
    parser.add_argument("--serve", nargs=2, metavar=("SCENARIO", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_requests(args.serve[0], int(args.serve[1]))
        return 0

    env = scratch_database(args.pg, args.db)
    with tempfile.TemporaryDirectory(prefix="instructions-") as tmp:
        for scenario in args.scenarios.split(","):
            fewer, more = (instructions(scenario, n, env, Path(tmp)) for n in (100, 300))
            print(f"{scenario:<8} {(more - fewer) / 200:>12,.0f} instructions/request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
