"""Bulk actions (contract Part 2): many tasks in one call, all or nothing."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_restore
from tasks import queries
from tasks.bulk import MAX_ONE_BY_ONE
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.postgres import needs_postgres

pytestmark = pytest.mark.django_db


def bulk(api: APIClient, **body: Any) -> Any:
    return api.post("/api/me/tasks/bulk", body, format="json")


@pytest.fixture
def tasks(user_id: str) -> list[Task]:
    return TaskFactory.create_batch(3, user_id=user_id)


def test_complete_by_ids_writes_each_by_the_rules(api: APIClient, tasks: list[Task]) -> None:
    response = bulk(api, action="complete", ids=[tasks[0].id, tasks[2].id])

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(t["id"], t["completed"], t["version"]) for t in body["tasks"]] == [
        (tasks[0].id, True, 2),
        (tasks[2].id, True, 2),
    ]
    assert all(t["completed_at"] for t in body["tasks"])
    assert not Task.objects.get(id=tasks[1].id).completed


def test_reopen_by_where(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(2, user_id=user_id, completed=True)
    TaskFactory.create(user_id=user_id)

    response = bulk(api, action="reopen", where={"status": "completed"})

    assert response.json()["count"] == 2
    assert not Task.objects.filter(user_id=user_id, completed=True).exists()


def test_delete_moves_to_the_trash_and_answers_ids(api: APIClient, tasks: list[Task]) -> None:
    response = bulk(api, action="delete", ids=[tasks[1].id])

    assert response.json() == {"count": 1, "ids": [tasks[1].id]}
    assert [t["id"] for t in api.get("/api/me/trash").json()] == [tasks[1].id]


def test_update_writes_the_fields_as_patch_does(api: APIClient, tasks: list[Task]) -> None:
    response = bulk(
        api, action="update", ids=[t.id for t in tasks], fields={"tags": ["Work", "work"]}
    )

    assert {tuple(t["tags"]) for t in response.json()["tasks"]} == {("Work",)}
    assert api.get("/api/me/tasks?tag=work")["X-Total-Count"] == "3"


def test_a_missing_id_is_a_404_naming_it_and_nothing_changes(
    api: APIClient, tasks: list[Task], client_for: Any
) -> None:
    theirs = TaskFactory.create(user_id="them")

    response = bulk(api, action="complete", ids=[tasks[0].id, 10**12, theirs.id])

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"ids.1", "ids.2"}
    assert "ids.1" in response.json()["detail"]
    assert not Task.objects.filter(completed=True).exists()


def test_a_trashed_id_is_missing(api: APIClient, tasks: list[Task]) -> None:
    api.delete(f"/api/me/tasks/{tasks[0].id}")

    response = bulk(api, action="update", ids=[tasks[0].id], fields={"priority": "high"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"action": "complete"}, "ids"),
        ({"action": "complete", "ids": [1], "where": {}}, "ids"),
        ({"action": "complete", "ids": []}, "ids"),
        ({"action": "complete", "ids": list(range(1, 202))}, "ids"),
        ({"action": "complete", "ids": ["x"]}, "ids.0"),
        ({"action": "update", "ids": [1]}, "fields"),
        ({"action": "update", "ids": [1], "fields": {"title": "x"}}, "fields.title"),
        ({"action": "update", "ids": [1], "fields": {"priority": "urgent"}}, "fields.priority"),
        ({"action": "reopen", "where": {"status": "done"}}, "where.status"),
        ({"action": "delete", "where": {"statsu": "completed"}}, "where.statsu"),
        ({"action": "delete", "where": {"limit": 10}}, "where.limit"),
        ({"action": "update", "ids": [1], "fields": {"version": 9}}, "fields"),
        ({"action": "update", "ids": [1], "fields": ["title"]}, "fields"),
        ({"action": "shred", "ids": [1]}, "action"),
        ({"action": "create"}, "tasks"),
        ({"action": "create", "tasks": [{"title": "ok"}, {"title": ""}]}, "tasks.1.title"),
    ],
)
def test_a_bad_request_is_a_400_naming_what_is_wrong(
    api: APIClient, tasks: list[Task], body: dict[str, Any], named: str
) -> None:
    response = api.post("/api/me/tasks/bulk", body, format="json")

    assert response.status_code == 400, response.json()
    assert named in response.json()["errors"]
    assert not Task.objects.filter(completed=True).exists()


def test_create_makes_all_of_them(api: APIClient, user_id: str) -> None:
    response = bulk(api, action="create", tasks=[{"title": "One"}, {"title": "Two", "tags": ["x"]}])

    assert response.status_code == 201
    assert [t["title"] for t in response.json()["tasks"]] == ["One", "Two"]
    assert Task.objects.filter(user_id=user_id).count() == 2


def test_create_beyond_the_cap_creates_none(api: APIClient, user_id: str, settings: Any) -> None:
    settings.MAX_TASKS_PER_USER = 2
    TaskFactory.create(user_id=user_id)

    response = bulk(api, action="create", tasks=[{"title": "One"}, {"title": "Two"}])

    assert response.status_code == 409
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_a_bulk_call_is_retry_safe_with_an_idempotency_key(api: APIClient, user_id: str) -> None:
    body = {"action": "create", "tasks": [{"title": "Once"}]}
    first = api.post("/api/me/tasks/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    again = api.post("/api/me/tasks/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")

    assert again["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_a_bulk_complete_is_one_write(
    api: APIClient, tasks: list[Task], django_assert_num_queries: Any
) -> None:
    """The named tasks' ids, then one UPDATE; on PostgreSQL the tree's lock is taken
    and the tasks with their families are locked, in id order, in between (one
    statement). (Here the transaction is a savepoint and its release, in the test's
    transaction.)"""
    api.get("/api/me/tasks/0")  # mirrors the user
    locks = 1 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(2 + locks + 2):
        assert bulk(api, action="complete", ids=[t.id for t in tasks]).status_code == 200


def test_a_where_matching_more_than_bulk_max_tasks_is_409_and_changes_nothing(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.BULK_MAX_TASKS = 3
    TaskFactory.create_batch(4, user_id=user_id)

    response = bulk(api, action="complete", where={})

    assert response.status_code == 409
    assert response.json()["errors"]["where"][0].startswith("`where` matches 4 tasks, over the 3")
    assert not Task.objects.filter(completed=True).exists()
    assert bulk(api, action="complete", where={"priority": "high"}).status_code == 200


def test_a_where_with_too_many_to_write_one_by_one_is_409_and_changes_nothing(
    api: APIClient, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.bulk.MAX_ONE_BY_ONE", 2)
    due = timezone.now() + timedelta(days=1)
    TaskFactory.create_batch(3, user_id=user_id, due_date=due, recurrence="FREQ=DAILY")
    TaskFactory.create(user_id=user_id)

    response = bulk(api, action="complete", where={})

    assert response.status_code == 409
    assert "3 tasks that repeat or have reminders, over the 2" in response.json()["detail"]
    assert not Task.objects.filter(completed=True).exists()
    assert Task.objects.filter(version=1).count() == 4


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_bulk_at_its_bounds_keeps_another_users_feed_within_a_second(
    client_for: Callable[[str], APIClient],
) -> None:
    """The review's case (issue 25, M2): one user completes the most a `where` may
    write, the most of them one by one (each repeats), while another user's write must
    reach that user's changes feed, whose horizon any open transaction holds back."""
    busy, other = client_for("busy-user"), client_for("other-user")
    now = timezone.now()
    due = {"title": "daily", "due_date": now + timedelta(days=1), "recurrence": "FREQ=DAILY"}
    plain = {"title": "plain"}
    user_restore("busy-user")
    queries.tasks_load(
        [("busy-user", due, now)] * MAX_ONE_BY_ONE
        + [("busy-user", plain, now)] * (settings.BULK_MAX_TASKS - MAX_ONE_BY_ONE)
    )
    token = other.get("/api/me/changes").json()["next"]

    def complete_all() -> int:
        try:
            return int(bulk(busy, action="complete", where={}).status_code)
        finally:
            connections.close_all()  # this thread's

    def in_the_feed(task_id: int) -> bool:
        changed = other.get("/api/me/changes", {"since": token}).json()["upserted"]
        return task_id in [task["id"] for task in changed]

    with ThreadPoolExecutor(max_workers=1) as pool:
        bulk_done = pool.submit(complete_all)
        time.sleep(0.05)  # the bulk's transaction open
        written = other.post("/api/me/tasks", {"title": "mine"}, format="json").json()
        started = time.monotonic()
        while not in_the_feed(written["id"]):
            assert time.monotonic() - started < 1, "the other user's write waited on the bulk"
            time.sleep(0.02)
        assert bulk_done.result() == 200


# --- Lists and subtasks (contract Part 4) ---------------------------------------------


def _family(api: APIClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A task, its child and its grandchild, made through the API."""
    parent = api.post("/api/me/tasks", {"title": "parent"}, format="json").json()
    child = api.post("/api/me/tasks", {"title": "child", "parent_id": parent["id"]}, format="json")
    grandchild = api.post(
        "/api/me/tasks", {"title": "grandchild", "parent_id": child.json()["id"]}, format="json"
    )
    return parent, child.json(), grandchild.json()


def _get(api: APIClient, task: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/api/me/tasks/{task['id']}").json()
    return found


def test_a_bulk_update_of_list_id_moves_each_task_with_its_subtree(api: APIClient) -> None:
    work = api.post("/api/me/lists", {"name": "Work"}, format="json").json()
    parent, child, grandchild = _family(api)
    loner = api.post("/api/me/tasks", {"title": "loner"}, format="json").json()

    response = bulk(
        api, action="update", ids=[parent["id"], loner["id"]], fields={"list_id": work["id"]}
    )

    assert response.status_code == 200, response.json()
    assert [task["list_id"] for task in response.json()["tasks"]] == [work["id"]] * 2
    assert [_get(api, task)["list_id"] for task in (child, grandchild)] == [work["id"]] * 2
    assert _get(api, child)["parent_id"] == parent["id"]
    assert api.get(f"/api/me/lists/{work['id']}").json()["task_count"] == 4


def test_a_subtask_moved_by_a_bulk_update_becomes_top_level_unless_its_parent_moves(
    api: APIClient,
) -> None:
    work = api.post("/api/me/lists", {"name": "Work"}, format="json").json()
    parent, child, grandchild = _family(api)

    bulk(api, action="update", ids=[child["id"]], fields={"list_id": work["id"]})

    assert (_get(api, child)["parent_id"], _get(api, child)["list_id"]) == (None, work["id"])
    assert (_get(api, grandchild)["parent_id"], _get(api, grandchild)["list_id"]) == (
        child["id"],
        work["id"],
    )
    assert _get(api, parent)["list_id"] != work["id"]


def test_a_bulk_update_to_a_list_not_yours_is_400_naming_it_and_changes_nothing(
    api: APIClient, client_for: Any, tasks: list[Task]
) -> None:
    theirs = client_for("someone-else").post("/api/me/lists", {"name": "X"}, format="json")

    response = bulk(api, action="update", where={}, fields={"list_id": theirs.json()["id"]})

    assert response.status_code == 400
    assert "fields.list_id" in response.json()["errors"]
    assert {task.list_id for task in Task.objects.filter(id__in=[t.id for t in tasks])} == {
        tasks[0].list_id
    }


def test_a_bulk_update_cant_set_parents(api: APIClient, tasks: list[Task]) -> None:
    response = bulk(api, action="update", ids=[tasks[0].id], fields={"parent_id": tasks[1].id})

    assert response.status_code == 400
    assert "fields.parent_id" in response.json()["errors"]


def test_a_bulk_complete_goes_down_the_tree_and_a_reopen_up_it(api: APIClient) -> None:
    parent, child, grandchild = _family(api)

    bulk(api, action="complete", ids=[parent["id"]])
    assert [_get(api, task)["completed"] for task in (parent, child, grandchild)] == [True] * 3

    bulk(api, action="reopen", where={"parent_id": str(child["id"])})
    assert [_get(api, task)["completed"] for task in (parent, child, grandchild)] == [False] * 3


def test_a_bulk_delete_takes_the_subtree_to_the_trash_and_answers_the_named(
    api: APIClient,
) -> None:
    parent, child, grandchild = _family(api)

    response = bulk(api, action="delete", where={"parent_id": "none"})

    assert response.json() == {"count": 1, "ids": [parent["id"]]}
    assert [api.get(f"/api/me/tasks/{t['id']}").status_code for t in (child, grandchild)] == [
        404,
        404,
    ]
    api.post(f"/api/me/trash/{parent['id']}/restore")
    assert _get(api, grandchild)["parent_id"] == child["id"]


def test_the_admins_bulk_actions_keep_trees_whole(api: APIClient, user_id: str) -> None:
    parent, child, grandchild = _family(api)

    queries.tasks_set_completed(task_ids=[parent["id"]], completed=True)
    assert _get(api, grandchild)["completed"] is True
    queries.tasks_set_completed(task_ids=[grandchild["id"]], completed=False)
    assert _get(api, parent)["completed"] is False
    queries.tasks_set_trashed(task_ids=[parent["id"]], trashed=True)
    assert api.get(f"/api/me/tasks/{child['id']}").status_code == 404
    queries.tasks_set_trashed(task_ids=[parent["id"]], trashed=False)
    assert _get(api, child)["parent_id"] == parent["id"]
