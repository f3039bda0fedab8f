"""The changes feed's race (testing/feed_race.py), read through live streams that are
dropped and resumed from their last id again and again: a stream keeps the feed's
guarantee that no change is skipped under concurrent writers."""

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from testing.feed_race import all_live_tasks, race
from testing.live import fetch_json, live_service, live_token, service_env
from testing.postgres import direct_url, needs_postgres, scratch_postgres
from testing.sse import EventStream

pytestmark = needs_postgres


class Service:
    def __init__(self, base: str, database: str, token: str) -> None:
        self.base, self.database, self.token = base, database, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return fetch_json(self.base + path, self.token, method=method, body=body)


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    with scratch_postgres() as database:
        env = service_env(
            DATABASE_URL=database,
            EVENTS_LISTEN_URL=direct_url(database),
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="4",
            RATE_LIMIT_USER="off",
        )
        with live_service(env) as base:
            yield Service(base, database, live_token(env, "streamer"))


def test_streams_dropped_and_resumed_end_with_every_tasks_final_state(service: Service) -> None:
    """A follower starts from a full sync, as a client does, then reads a stream,
    drops it every two events and resumes from its last id, while the writers race.
    Once they stop and the stream is drained, its copy is exactly the live tasks."""
    copy: dict[int, dict[str, Any]] = {}
    tally = {"streams": 0, "events": 0}

    def apply(data: dict[str, Any]) -> None:
        for task in data["upserted"]:
            copy[task["id"]] = task
        for task_id in data["deleted"]:
            copy.pop(task_id, None)

    def follow(last_id: str, *, until: threading.Event | None) -> str:
        """One stream after `last_id`: two events (or, with no `until`, all until
        nothing comes for 3 s); its last id."""
        headers = {"Authorization": f"Bearer {service.token}", "Last-Event-ID": last_id}
        with EventStream(f"{service.base}/api/me/events", headers) as stream:
            assert stream.status == 200, stream.body
            tally["streams"] += 1
            taken = 0
            while until is None or (taken < 2 and not until.is_set()):
                try:
                    frame = stream.next(timeout=0.5 if until else 3)
                except queue.Empty:
                    if until is None:
                        return last_id
                    continue
                assert frame is not None, "the stream ended"
                last_id = frame.id or last_id
                if frame.event == "changes":
                    apply(frame.data)
                    tally["events"] += 1
                    taken += 1
        return last_id

    def follower(stop: threading.Event) -> str:
        status, answer = service.call("GET", "/api/me/changes?limit=1000")
        assert status == 200
        assert not answer["more"]
        apply(answer)
        last_id: str = answer["next"]
        while not stop.is_set():
            last_id = follow(last_id, until=stop)
        return last_id

    last_id = race(service.call, service.database, follower)
    follow(last_id, until=None)  # drained: every writer has committed

    print(f"stream race: {tally}, {len(copy)} live tasks checked")  # for `pytest -s`
    assert copy == all_live_tasks(service.base, service.token)
    assert tally["streams"] > 8, tally
    assert tally["events"] > 15, tally
