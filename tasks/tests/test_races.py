"""Real concurrency against a live server on PostgreSQL: 2 gunicorn workers of 4 threads,
hit by 16 client threads at once."""

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from testing.feed_race import all_live_tasks, race
from testing.live import fetch, fetch_json, live_service, live_token, service_env
from testing.postgres import needs_postgres, scratch_postgres

pytestmark = needs_postgres


class Client:
    """Calls of the live service as one user; `database` is the service's own."""

    def __init__(self, base: str, env: dict[str, str], database: str, user: str) -> None:
        self.base = base
        self.env = env
        self.database = database
        self.token = live_token(env, user)

    def as_user(self, user: str) -> "Client":
        return Client(self.base, self.env, self.database, user)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return fetch_json(self.base + path, self.token, method=method, body=body)


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    with scratch_postgres() as database:
        env = service_env(
            DATABASE_URL=database, WEB_CONCURRENCY="2", GUNICORN_THREADS="4", RATE_LIMIT_USER="off"
        )
        with live_service(env) as base:
            yield Client(base, env, database, "racer")


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(work, range(count)))


def new_task(api: Client, title: str = "race") -> int:
    status, task = api.call("POST", "/api/me/tasks", {"title": title})
    assert status == 201
    task_id: int = task["id"]
    return task_id


def test_concurrent_creates_all_persist(api: Client) -> None:
    results = at_once(64, lambda i: api.call("POST", "/api/me/tasks", {"title": f"c{i}"}))

    assert {status for status, _ in results} == {201}
    ids = {task["id"] for _, task in results}
    assert len(ids) == 64
    for task_id in ids:
        assert api.call("GET", f"/api/me/tasks/{task_id}")[0] == 200


@pytest.mark.parametrize("toggles", [64, 65])
def test_concurrent_toggles_leave_the_state_their_count_implies(api: Client, toggles: int) -> None:
    task_id = new_task(api)

    results = at_once(toggles, lambda _: api.call("PATCH", f"/api/me/tasks/{task_id}/complete"))

    assert {status for status, _ in results} == {200}
    _, task = api.call("GET", f"/api/me/tasks/{task_id}")
    assert task["completed"] is (toggles % 2 == 1)
    assert (task["completed_at"] is not None) is task["completed"]


def test_concurrent_replacements_never_mix_two_bodies(api: Client) -> None:
    task_id = new_task(api)
    bodies = [
        {
            "title": f"t{i}",
            "description": f"d{i}",
            "priority": ["low", "high"][i % 2],
            "tags": [f"g{i}"],
        }
        for i in range(64)
    ]

    results = at_once(64, lambda i: api.call("PUT", f"/api/me/tasks/{task_id}", bodies[i]))

    assert {status for status, _ in results} == {200}
    _, task = api.call("GET", f"/api/me/tasks/{task_id}")
    written = {key: task[key] for key in ("title", "description", "priority", "tags")}
    assert written in bodies


def test_changes_of_different_fields_at_once_are_all_kept(api: Client) -> None:
    task_id = new_task(api)
    path = f"/api/me/tasks/{task_id}"

    def change(i: int) -> int:
        if i % 2:  # 33 toggles, so the task ends completed
            return api.call("PATCH", f"{path}/complete")[0]
        return api.call("PATCH", path, {"description": f"d{i}"})[0]

    statuses = at_once(66, change)

    assert set(statuses) == {200}
    _, task = api.call("GET", path)
    assert task["completed"] is True
    assert task["description"] in {f"d{i}" for i in range(0, 66, 2)}


def test_deleting_while_updating_never_resurrects(api: Client) -> None:
    for _ in range(5):
        task_id = new_task(api)
        path = f"/api/me/tasks/{task_id}"

        def hammer(i: int, path: str = path) -> int:
            if i == 8:
                return api.call("DELETE", path)[0]
            return api.call("PATCH", path, {"title": f"u{i}"})[0]

        statuses = at_once(32, hammer)

        assert set(statuses) <= {200, 204, 404}
        assert 204 in statuses
        assert api.call("GET", path)[0] == 404


def test_the_total_stays_exact_under_concurrent_creates_toggles_and_deletes(api: Client) -> None:
    counter = api.as_user("counter")
    existing = [new_task(counter, f"e{i}") for i in range(40)]

    def write(i: int) -> int:
        task = existing[i % 40]
        if i < 48:
            body = {"title": f"n{i}", "completed": i % 2 == 0}
            return counter.call("POST", "/api/me/tasks", body)[0]
        if i < 60:
            return counter.call("DELETE", f"/api/me/tasks/{task}")[0]
        return counter.call("PATCH", f"/api/me/tasks/{task}/complete")[0]

    statuses = at_once(160, write)

    assert set(statuses) <= {200, 201, 204, 404}
    with psycopg.connect(api.database) as db:
        truth: dict[str, int] = dict(
            db.execute(
                "SELECT status, COUNT(t.id) FROM (VALUES ('all'), ('pending'), ('completed')) "
                "AS s(status) LEFT JOIN tasks_task t ON t.user_id = 'counter' "
                "AND t.deleted_at IS NULL "
                "AND (s.status = 'all' OR t.completed = (s.status = 'completed')) GROUP BY status"
            ).fetchall()
        )
    for status, count in truth.items():
        _, headers, _ = fetch(f"{api.base}/api/me/tasks?status={status}", counter.token)
        assert headers["X-Total-Count"] == str(count), status
    assert truth["all"] == 40 + 48 - 12


def test_concurrent_writes_with_one_if_match_let_exactly_one_through(api: Client) -> None:
    task_id = new_task(api)
    path = f"/api/me/tasks/{task_id}"

    def write(i: int) -> int:
        status, _, _ = fetch(
            api.base + path,
            api.token,
            method="PATCH",
            body={"title": f"w{i}"},
            **{"If-Match": '"1"'},
        )
        return status

    statuses = at_once(16, write)

    assert sorted(statuses) == [200] + [412] * 15
    _, task = api.call("GET", path)
    assert task["version"] == 2


def test_a_poller_of_the_changes_feed_ends_with_every_tasks_final_state(api: Client) -> None:
    """The feed's race (testing/feed_race.py): writers through the API and slow
    writers committing out of the order they began in; a poller follows the feed in
    small pages all along. After the writers stop and the feed is drained, the
    poller's copy is exactly the live tasks, version for version."""
    syncer = api.as_user("syncer")
    copy: dict[int, dict[str, Any]] = {}
    tally = {"polls": 0, "upserted": 0, "deleted": 0}

    def follow(token: str | None) -> str:
        while True:
            query = f"?limit=7&since={token}" if token else "?limit=7"
            status, answer = syncer.call("GET", f"/api/me/changes{query}")
            assert status == 200, answer
            tally["polls"] += 1
            tally["upserted"] += len(answer["upserted"])
            tally["deleted"] += len(answer["deleted"])
            for task in answer["upserted"]:
                copy[task["id"]] = task
            for task_id in answer["deleted"]:
                copy.pop(task_id, None)
            token = answer["next"]
            if not answer["more"]:
                return token

    def poller(stop: threading.Event) -> str:
        token = follow(None)
        while not stop.is_set():
            token = follow(token)
        return token

    token = race(syncer.call, api.database, poller)
    follow(token)  # drained: every writer has committed

    print(f"changes-feed race: {tally}, {len(copy)} live tasks checked")  # for `pytest -s`
    assert copy == all_live_tasks(syncer.base, syncer.token)
    assert tally["polls"] > 20, tally
    assert tally["upserted"] + tally["deleted"] > 200, tally


def test_a_subtree_completed_and_reopened_at_once_keeps_no_open_task_under_a_completed_one(
    api: Client,
) -> None:
    """16 threads complete, reopen and toggle tasks of one tree of four levels (31 tasks)
    at once. Every write keeps the rule, so after them no open task sits under a
    completed one, and every kept count (the list's, the user's, each task's children)
    is what counting says."""
    forester = api.as_user("forester")

    def child(parent: int | None, title: str) -> int:
        status, task = forester.call("POST", "/api/me/tasks", {"title": title, "parent_id": parent})
        assert status == 201, task
        task_id: int = task["id"]
        return task_id

    root = child(None, "root")
    tree = [root]
    for i in range(3):
        middle = child(root, f"m{i}")
        tree.append(middle)
        for j in range(3):
            low = child(middle, f"l{i}{j}")
            tree.append(low)
            tree += [child(low, f"leaf{i}{j}{k}") for k in range(2)]

    def work(i: int) -> None:
        rng = random.Random(i)  # noqa: S311 (a reproducible mix, not a secret)
        for _ in range(25):
            task_id = rng.choice(tree)
            body = rng.choice([{"completed": True}, {"completed": False}, None])
            status, answer = forester.call("PATCH", f"/api/me/tasks/{task_id}/complete", body)
            assert status == 200, answer

    at_once(16, work)

    with psycopg.connect(api.database) as db:
        open_under_completed = db.execute(
            "SELECT COUNT(*) FROM tasks_task AS task JOIN tasks_task AS parent "
            "ON task.parent_id = parent.id WHERE task.user_id = 'forester' "
            "AND NOT task.completed AND parent.completed"
        ).fetchone()
        lists_off = db.execute(
            "SELECT COUNT(*) FROM tasks_tasklist AS list WHERE task_count <> (SELECT COUNT(*) "
            "FROM tasks_task WHERE list_id = list.id AND deleted_at IS NULL) OR open_count <> "
            "(SELECT COUNT(*) FROM tasks_task WHERE list_id = list.id AND deleted_at IS NULL "
            "AND NOT completed)"
        ).fetchone()
        user_off = db.execute(
            "SELECT COUNT(*) FROM tasks_taskcount AS kept WHERE user_id = 'forester' AND "
            "(pending, completed) <> (SELECT COUNT(*) FILTER (WHERE NOT completed), "
            "COUNT(*) FILTER (WHERE completed) FROM tasks_task WHERE user_id = 'forester' "
            "AND deleted_at IS NULL)"
        ).fetchone()
        children_off = db.execute(
            "SELECT COUNT(*) FROM tasks_task AS task WHERE user_id = 'forester' AND children "
            "<> (SELECT COUNT(*) FROM tasks_task WHERE parent_id = task.id AND deleted_at IS NULL)"
        ).fetchone()
    assert (open_under_completed, lists_off, user_off, children_off) == ((0,), (0,), (0,), (0,))


def test_concurrent_creates_with_one_idempotency_key_make_one_task(api: Client) -> None:
    keeper = api.as_user("keeper")
    body = {"title": "Exactly once", "tags": ["retry"]}

    in_flight = []

    def send(_: int) -> tuple[int, int, str | None]:
        while True:
            status, headers, raw = fetch(
                f"{api.base}/api/me/tasks",
                keeper.token,
                method="POST",
                body=body,
                **{"Idempotency-Key": "one-key"},
            )
            if status != 409:  # in flight: retry as a client would
                return status, json.loads(raw)["id"], headers.get("Idempotency-Replayed")
            in_flight.append(headers["Retry-After"])
            time.sleep(0.05)

    results = at_once(16, send)
    print(f"idempotency race: {len(in_flight)} answers of 409 while in flight")  # `pytest -s`

    assert {status for status, _, _ in results} == {201}
    assert len({task_id for _, task_id, _ in results}) == 1
    assert sorted(replayed or "" for _, _, replayed in results) == [""] + ["true"] * 15
    with psycopg.connect(api.database) as db:
        counted = db.execute("SELECT COUNT(*) FROM tasks_task WHERE user_id = 'keeper'").fetchone()
    assert counted == (1,)


def test_concurrent_moves_never_give_two_tasks_one_position(api: Client) -> None:
    mover = api.as_user("mover")
    ids = [new_task(mover, f"m{i}") for i in range(12)]

    def shuffle(i: int) -> int:
        rng = random.Random(i)  # noqa: S311
        task, anchor = rng.sample(ids, 2)
        body = rng.choice([{"before": anchor}, {"after": anchor}, {"to": "top"}, {"to": "bottom"}])
        return mover.call("POST", f"/api/me/tasks/{task}/move", body)[0]

    statuses = at_once(160, shuffle)

    assert set(statuses) == {200}
    with psycopg.connect(api.database) as db:
        positions = [
            p
            for (p,) in db.execute(
                "SELECT position FROM tasks_task WHERE user_id = 'mover'"
            ).fetchall()
        ]
    assert len(set(positions)) == len(positions) == 12
    _, listed = mover.call("GET", "/api/me/tasks?sort=position")
    assert sorted(task["id"] for task in listed) == sorted(ids)
