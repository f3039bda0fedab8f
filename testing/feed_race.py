"""The changes feed's race against a live service on PostgreSQL: writers through the
API and slow writers holding their transactions open, so that changes commit out of
the order they began in, while a follower reads the feed (by polls, or by streams).
tasks/tests/test_races.py and live/tests/test_stream_races.py follow it."""

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg

from testing.live import fetch, fetch_json

T = TypeVar("T")
# One user's call of the live service: method, path, body → status, JSON.
Call = Callable[..., tuple[int, Any]]


def new_task(call: Call, title: str) -> int:
    status, task = call("POST", "/api/me/tasks", {"title": title})
    assert status == 201, task
    task_id: int = task["id"]
    return task_id


def all_live_tasks(base: str, token: str) -> dict[int, dict[str, Any]]:
    """Every live task of the token's user, by id, as the list answers them."""
    tasks: dict[int, dict[str, Any]] = {}
    url: str | None = f"{base}/api/me/tasks?limit=200"
    while url:
        _, headers, _ = fetch(url, token)
        _, page = fetch_json(url, token)
        tasks |= {task["id"]: task for task in page}
        link = headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    return tasks


def race(call: Call, database: str, follower: Callable[[threading.Event], T]) -> T:
    """`follower(stop)`'s result, run beside 12 writers through the API (create,
    edit, toggle, trash, restore, delete for good, 40 steps each, on 30 seeds and
    what they create) and 4 slow writers (20 updates each, straight to `database`,
    each transaction held open a while on tasks of their own, so that a change of
    theirs skipped by the feed is never hidden by a later write of someone else).
    `stop` is set once every writer is done."""
    seeds = [new_task(call, f"seed {i}") for i in range(30)]
    stop = threading.Event()

    def writer(i: int) -> None:
        rng = random.Random(i)  # noqa: S311 (a reproducible mix, not a secret)
        for step in range(40):
            task_id = rng.choice(seeds)
            action = rng.randrange(6)
            if action == 0:
                seeds.append(new_task(call, f"w{i}.{step}"))
            elif action == 1:
                call("PATCH", f"/api/me/tasks/{task_id}", {"title": f"w{i}.{step}"})
            elif action == 2:
                call("PATCH", f"/api/me/tasks/{task_id}/complete")
            elif action == 3:
                call("DELETE", f"/api/me/tasks/{task_id}")
            elif action == 4:
                call("POST", f"/api/me/trash/{task_id}/restore")
            else:
                call("DELETE", f"/api/me/trash/{task_id}")

    def slow_writer(i: int) -> None:
        rng = random.Random(100 + i)  # noqa: S311
        own = [new_task(call, f"slow {i}.{n}") for n in range(4)]
        # No prepared statements: a pooler in transaction mode (CI's) can't keep them.
        with psycopg.connect(database, prepare_threshold=None) as db:
            for step in range(20):
                db.execute(
                    "UPDATE tasks_task SET description = %s, version = version + 1 WHERE id = %s",
                    [f"slow {i}.{step}", rng.choice(own)],
                )
                time.sleep(rng.uniform(0.02, 0.15))  # committing after later writers
                db.commit()

    with ThreadPoolExecutor(max_workers=17) as pool:
        following = pool.submit(follower, stop)
        writes = [pool.submit(writer, i) for i in range(12)]
        writes += [pool.submit(slow_writer, i) for i in range(4)]
        try:
            for write in writes:
                write.result()
        finally:  # a failed writer must fail the test, not leave the follower running
            stop.set()
        return following.result()
