"""The changes feed's race (tasks/tests/test_races.py), read through live streams
that are dropped and resumed from their last id again and again: a stream keeps the
feed's guarantee that no change is skipped under concurrent writers."""

import queue
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from testing.live import fetch, fetch_json, live_service, live_token, service_env
from testing.postgres import direct_url, needs_postgres, scratch_postgres
from testing.sse import EventStream

pytestmark = needs_postgres


class Service:
    def __init__(self, base: str, database: str, token: str) -> None:
        self.base, self.database, self.token = base, database, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return fetch_json(self.base + path, self.token, method=method, body=body)

    def new_task(self, title: str) -> int:
        status, task = self.call("POST", "/api/me/tasks", {"title": title})
        assert status == 201, task
        task_id: int = task["id"]
        return task_id


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    with scratch_postgres() as database:
        env = service_env(
            DATABASE_URL=database,
            EVENTS_LISTEN_URL=direct_url(database),
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="4",
            RATE_LIMIT_USER="off",
            GUNICORN_GRACEFUL_TIMEOUT="3",
        )
        with live_service(env) as base:
            yield Service(base, database, live_token(env, "streamer"))


def all_live_tasks(service: Service) -> dict[int, dict[str, Any]]:
    tasks: dict[int, dict[str, Any]] = {}
    url: str | None = f"{service.base}/api/me/tasks?limit=200"
    while url:
        _, headers, _ = fetch(url, service.token)
        _, page = fetch_json(url, service.token)
        tasks |= {task["id"]: task for task in page}
        link = headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    return tasks


def test_streams_dropped_and_resumed_end_with_every_tasks_final_state(service: Service) -> None:
    """12 writers through the API and 4 slow writers holding transactions open, so
    that they commit out of the order they began in; a follower reads a stream,
    drops it every few events and resumes from its last id. Once the writers stop
    and the stream is drained, the follower's copy is exactly the live tasks."""
    seeds = [service.new_task(f"seed {i}") for i in range(30)]
    stop = threading.Event()
    copy: dict[int, dict[str, Any]] = {}
    tally = {"streams": 0, "events": 0}

    def apply(data: dict[str, Any]) -> None:
        for task in data["upserted"]:
            copy[task["id"]] = task
        for task_id in data["deleted"]:
            copy.pop(task_id, None)

    def follow(last_id: str | None, *, until_quiet: bool) -> str | None:
        """One stream from `last_id` until a few events came (or, draining, until
        nothing comes for a while); its last id."""
        headers = {"Authorization": f"Bearer {service.token}"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        with EventStream(f"{service.base}/api/me/events", headers) as stream:
            assert stream.status == 200, stream.body
            tally["streams"] += 1
            taken = 0
            while until_quiet or (taken < 2 and not stop.is_set()):
                try:
                    frame = stream.next(timeout=3 if until_quiet else 0.5)
                except queue.Empty:  # quiet for a while
                    if until_quiet:
                        return last_id
                    continue
                assert frame is not None, "the stream ended"
                if frame.id is not None:
                    last_id = frame.id
                if frame.event == "changes":
                    apply(frame.data)
                    tally["events"] += 1
                    taken += 1
        return last_id

    def follower() -> str | None:
        # From a full sync, as a client starts: then only streams.
        status, answer = service.call("GET", "/api/me/changes?limit=1000")
        assert status == 200
        assert not answer["more"]
        apply(answer)
        last_id: str | None = answer["next"]
        while not stop.is_set():
            last_id = follow(last_id, until_quiet=False)
        return last_id

    def writer(i: int) -> None:
        rng = random.Random(i)  # noqa: S311 (a reproducible mix, not a secret)
        for step in range(40):
            task_id = rng.choice(seeds)
            action = rng.randrange(6)
            if action == 0:
                seeds.append(service.new_task(f"w{i}.{step}"))
            elif action == 1:
                service.call("PATCH", f"/api/me/tasks/{task_id}", {"title": f"w{i}.{step}"})
            elif action == 2:
                service.call("PATCH", f"/api/me/tasks/{task_id}/complete")
            elif action == 3:
                service.call("DELETE", f"/api/me/tasks/{task_id}")
            elif action == 4:
                service.call("POST", f"/api/me/trash/{task_id}/restore")
            else:
                service.call("DELETE", f"/api/me/trash/{task_id}")

    def slow_writer(i: int) -> None:
        rng = random.Random(100 + i)  # noqa: S311
        own = [service.new_task(f"slow {i}.{n}") for n in range(4)]
        with psycopg.connect(service.database, prepare_threshold=None) as db:
            for step in range(20):
                db.execute(
                    "UPDATE tasks_task SET description = %s, version = version + 1 WHERE id = %s",
                    [f"slow {i}.{step}", rng.choice(own)],
                )
                time.sleep(rng.uniform(0.02, 0.15))  # committing after later writers
                db.commit()

    with ThreadPoolExecutor(max_workers=17) as pool:
        following = pool.submit(follower)
        writes = [pool.submit(writer, i) for i in range(12)]
        writes += [pool.submit(slow_writer, i) for i in range(4)]
        try:
            for write in writes:
                write.result()
        finally:  # a failed writer must fail the test, not leave the follower running
            stop.set()
        last_id = following.result()
    follow(last_id, until_quiet=True)  # drained: every writer has committed

    print(f"stream race: {tally}, {len(copy)} live tasks checked")  # for `pytest -s`
    live = all_live_tasks(service)
    differing = {
        task_id: {
            field: (copy.get(task_id, {}).get(field), task.get(field))
            for field in task
            if copy.get(task_id, {}).get(field) != task.get(field)
        }
        for task_id, task in live.items()
        if copy.get(task_id) != task
    }
    assert copy.keys() == live.keys()
    assert not differing, differing
    assert tally["streams"] > 8, tally
    assert tally["events"] > 15, tally
