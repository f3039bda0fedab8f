"""Load-test the service as production runs it, and print req/s and latency per route.

    .venv/bin/python bench/run.py                     # every scenario, 10 s each
    .venv/bin/python bench/run.py --scenarios get,list --duration 5
    .venv/bin/python bench/run.py --deep               # page 1 vs page 1000 of 100,000 tasks
    .venv/bin/python bench/run.py --memory 100000      # worker RSS over 100,000 requests
    .venv/bin/python bench/run.py --search --scenarios ""  # a crafted search vs a plain list

It creates a fresh PostgreSQL database, migrates it, bulk-loads tasks (bench/seed.py;
each user has LISTS_PER_USER lists, their tasks spread over them),
starts gunicorn exactly as the Procfile does (gunicorn.conf.py; one worker on
--server-cpus, PostgreSQL and wrk moved to --other-cpus), drives each scenario with
wrk (bench/wrk.lua, 16 connections by default) after a warm-up, and stops it all.
A run with any non-2xx answer or socket error is invalid: exit status 3.
Needs wrk and taskset (Debian: `apt-get install wrk util-linux`) and a local
PostgreSQL reachable as --pg.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["list", "list-deep", "get", "create", "toggle", "update", "mixed"]
# Ours alone (the peer has no such routes): an incremental poll of the changes feed
# that finds a few changes, and a bulk complete (or reopen) of 50 tasks.
PART_2_SCENARIOS = ["changes", "bulk-complete"]
# Ours alone too (the peer has no lists): the first page of one of the user's lists,
# which should cost what the first page of all their tasks (`list`) does.
PART_4_SCENARIOS = ["list-in-list"]
LISTS_PER_USER = 10
# Changes made after each user's sync token, which every `changes` poll then carries.
CHANGES_PER_POLL = 3
BODY = {
    "title": "Review pull request #42",
    "description": "Check the migration and the tests",
    "priority": "high",
    "tags": ["work", "urgent"],
    "due_date": "2026-03-01T17:00:00Z",
}


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS + PART_2_SCENARIOS + PART_4_SCENARIOS)
    )
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--tasks-per-user", type=int, default=1000)
    parser.add_argument("--deep", action="store_true", help="also page 1 vs page 1000")
    parser.add_argument("--deep-tasks", type=int, default=100_000)
    parser.add_argument("--memory", type=int, default=0, help="requests for the RSS check")
    parser.add_argument(
        "--search", action="store_true", help="also a crafted near-miss search vs a plain list"
    )
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--other-cpus", default="1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_todo")
    return parser.parse_args()


def fetch(url: str, token: str) -> tuple[Any, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        link = response.headers.get("Link", "")
        return json.load(response), link[1 : link.find(">")] if link else ""


def page_path(base: str, token: str, page: int) -> str:
    """The path of list page `page` (1-based, 50 a page), reached by following Link."""
    url = f"{base}/api/me/tasks?limit=50"
    for _ in range(page - 1):
        url = fetch(url, token)[1]
    return url.removeprefix(base)


class Service:
    """The database, the seeded users and a pinned gunicorn for one run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.base = f"http://127.0.0.1:{args.port}"
        self.secret = secrets.token_urlsafe(40)
        self.env = {
            **os.environ,
            "DATABASE_URL": f"{args.pg}/{args.db}",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "BETTER_AUTH_SECRET": self.secret,
            "BETTER_AUTH_URL": "",
            "SECURE_HTTPS": "false",
            "RATE_LIMIT_USER": "off",
            "RATE_LIMIT_ANON": "off",
            "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "1"),
            "PORT": str(args.port),
        }
        self.server: subprocess.Popen[bytes] | None = None

    def token(self, user_id: str) -> str:
        return jwt.encode({"sub": user_id, "exp": int(time.time()) + 86400}, self.secret)

    def create_database(self) -> None:
        with psycopg.connect(f"{self.args.pg}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.args.db}"')
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)

    def seed(self, users: dict[str, int]) -> None:
        pairs = [str(part) for user, count in users.items() for part in (user, count)]
        lists = f"--lists={LISTS_PER_USER}"
        subprocess.run(
            [sys.executable, "bench/seed.py", lists, *pairs], cwd=ROOT, env=self.env, check=True
        )
        with psycopg.connect(f"{self.args.pg}/{self.args.db}", autocommit=True) as db:
            db.execute("VACUUM ANALYZE")

    def start(self) -> None:
        log = (self.workdir / "service.log").open("wb")
        command = ["taskset", "-c", self.args.server_cpus, sys.executable, "-m", "gunicorn"]
        self.server = subprocess.Popen(
            [*command, "todo_project.asgi"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        postgres = subprocess.run(["pgrep", "-f", "postgres"], capture_output=True, text=True)
        for pid in postgres.stdout.split():
            subprocess.run(
                ["taskset", "-a", "-p", "-c", self.args.other_cpus, pid], capture_output=True
            )

    def worker_rss_kib(self) -> int:
        assert self.server is not None
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text()
        status = Path(f"/proc/{children.split()[0]}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )

    def stop(self) -> None:
        if self.server:
            self.server.terminate()
            self.server.wait(timeout=30)


def run_wrk(service: Service, scenario: str, data_file: Path, seconds: int) -> dict:
    out = data_file.with_suffix(f".{scenario}.json")
    env = {
        **os.environ,
        "BENCH_DATA": str(data_file),
        "BENCH_SCENARIO": scenario,
        "BENCH_OUT": str(out),
    }
    command = ["taskset", "-c", service.args.other_cpus, "wrk", "-t1"]
    command += [f"-c{service.args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(ROOT / "bench" / "wrk.lua"), service.base]
    subprocess.run(command, env=env, check=True, capture_output=True)
    result: dict = json.loads(out.read_text())
    return result


def sync_token_with_changes(base: str, token: str, changed: list[int]) -> str:
    """A changes-feed token taken after a full sync, then changes of `changed`: the
    token of a device that polls after a few edits elsewhere."""
    since = ""
    more = True
    while more:
        query = f"&since={since}" if since else ""
        answer, _ = fetch(f"{base}/api/me/changes?limit=1000{query}", token)
        since, more = answer["next"], answer["more"]
    for task_id in changed:
        request = urllib.request.Request(
            f"{base}/api/me/tasks/{task_id}",
            data=json.dumps({"title": "Edited on another device"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="PATCH",
        )
        urllib.request.urlopen(request).close()
    time.sleep(0.2)  # the feed hands out a change once its transaction is settled
    return since


def write_data(path: Path, users: list[dict]) -> None:
    def lua(value: object) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {lua(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "{" + ", ".join(lua(v) for v in value) + "}"
        return json.dumps(value)

    body = json.dumps(BODY)
    path.write_text(f"return {{users = {lua(users)}, bodies = {{{json.dumps(body)}}}}}\n")


def measure(service: Service, scenario: str, data_file: Path) -> dict:
    if service.args.warmup:
        run_wrk(service, scenario, data_file, service.args.warmup)
    result = run_wrk(service, scenario, data_file, service.args.duration)
    ok = sum(n for status, n in result["statuses"].items() if status.startswith("2"))
    result["scenario"] = scenario
    result["req_s"] = result["requests"] / (result["duration_us"] / 1e6)
    result["non_2xx"] = result["requests"] - ok
    return result


def table(results: list[dict]) -> bool:
    print(
        f"{'scenario':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock err':>9}"
    )
    valid = True
    for r in results:
        invalid = r["non_2xx"] or r["socket_errors"] or not r["requests"]
        valid = valid and not invalid
        print(
            f"{r['scenario']:<12} {r['req_s']:>9.1f} {r['p50_us'] / 1000:>8.2f} "
            f"{r['p99_us'] / 1000:>8.2f} {r['non_2xx']:>8} {r['socket_errors']:>9}"
            + ("  INVALID" if invalid else "")
        )
    return valid


def main() -> int:
    args = options()
    with tempfile.TemporaryDirectory(prefix="todo-bench-") as tmp:
        workdir = Path(tmp)
        service = Service(args, workdir)
        users = {
            f"bench-user-{i}-{secrets.token_hex(8)}": args.tasks_per_user for i in range(args.users)
        }
        deep_user = f"bench-deep-{secrets.token_hex(8)}"
        service.create_database()
        service.seed({**users, **({deep_user: args.deep_tasks} if args.deep else {})})
        service.start()
        try:
            results = run_scenarios(service, users, deep_user, workdir)
        finally:
            service.stop()
    return 0 if table(results) else 3


def run_scenarios(
    service: Service, users: dict[str, int], deep_user: str, workdir: Path
) -> list[dict]:
    args, base = service.args, service.base
    entries = []
    for user_id in users:
        token = service.token(user_id)
        ids = [task["id"] for task in fetch(f"{base}/api/me/tasks?limit=200", token)[0]]
        lists = [found["id"] for found in fetch(f"{base}/api/me/lists", token)[0]]
        entries.append(
            {
                "token": token,
                "tasks": ids,
                "deep": page_path(base, token, 19),
                "in_list": f"/api/me/tasks?limit=50&list_id={lists[-1]}",
                "since": sync_token_with_changes(base, token, ids[:CHANGES_PER_POLL]),
                "bulk": [
                    json.dumps({"action": action, "ids": ids[:50]})
                    for action in ("complete", "reopen")
                ],
            }
        )
    data_file = workdir / "users.lua"
    write_data(data_file, entries)
    results = [measure(service, s, data_file) for s in args.scenarios.split(",") if s]
    by_name = {r["scenario"]: r for r in results}
    if "list" in by_name and "list-in-list" in by_name:
        ratio = by_name["list-in-list"]["req_s"] / by_name["list"]["req_s"]
        print(f"one list's first page / all tasks' first page: {ratio:.3f} (req/s ratio)")

    if args.deep:
        token = service.token(deep_user)
        deep_data = workdir / "deep.lua"
        first, deep = page_path(base, token, 1), page_path(base, token, 1000)
        write_data(deep_data, [{"token": token, "tasks": [1], "first": first, "deep": deep}])
        results += [measure(service, s, deep_data) for s in ("page-1", "page-1000")]
        ratio = results[-2]["req_s"] / results[-1]["req_s"]
        print(f"page 1 / page 1000 of {args.deep_tasks} tasks: {ratio:.3f} (req/s ratio)")
        if plain := [r for r in results if r["scenario"] == "list"]:
            ratio = plain[0]["req_s"] / results[-2]["req_s"]
            print(
                f"first page, {args.tasks_per_user} / {args.deep_tasks} tasks: "
                f"{ratio:.3f} (req/s ratio)"
            )

    if args.search:
        results += measure_search(service, workdir)

    if args.memory:
        before, served = service.worker_rss_kib(), 0
        while served < args.memory:
            served += run_wrk(service, "mixed", data_file, 20)["requests"]
        after = service.worker_rss_kib()
        growth = after - before
        print(f"worker RSS over {served} requests: {before} -> {after} KiB ({growth:+d} KiB)")
    return results


def measure_search(service: Service, workdir: Path) -> list[dict]:
    """A user's 2,000 tasks with 1,000-character descriptions, listed plainly and with
    a search crafted to nearly match every one (199 "a"s and a "b"): the worst case of
    a substring match without an index, which only the owner's own data can set up."""
    token = service.token(f"bench-search-{secrets.token_hex(8)}")
    for index in range(2000):
        body = json.dumps({"title": f"Long {index}", "description": "a" * 1000}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{service.base}/api/me/tasks", body, headers)
        urllib.request.urlopen(request, timeout=30).close()
    # As autovacuum would by then: until PostgreSQL has statistics for this user's
    # tasks, its planner may scan them by the owner's b-tree instead of the trigrams.
    with psycopg.connect(f"{service.args.pg}/{service.args.db}", autocommit=True) as db:
        db.execute("ANALYZE")
    plain = "/api/me/tasks?limit=50"
    data = workdir / "search.lua"
    crafted = f"{plain}&search={'a' * 199}b"
    write_data(data, [{"token": token, "tasks": [1], "first": plain, "deep": crafted}])
    results = [measure(service, s, data) for s in ("search-plain", "search-crafted")]
    ratio = results[0]["req_s"] / results[1]["req_s"]
    print(f"plain list / crafted search over 2,000 long descriptions: {ratio:.2f} (req/s ratio)")
    return results


if __name__ == "__main__":
    sys.exit(main())
