"""The trash (contract Part 2): DELETE moves a task there; it can be listed, restored,
deleted for good, emptied, and is purged after TRASH_RETENTION_DAYS."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tasks.models import Notification, Task, TaskTombstone
from tasks.tests.factories import TaskFactory
from testing.pages import walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(user_id: str) -> Task:
    return TaskFactory.create(user_id=user_id, title="Doomed")


def trash(api: APIClient, task: Task) -> None:
    assert api.delete(f"/api/me/tasks/{task.id}").status_code == 204


def test_a_deleted_task_is_gone_from_every_task_route_and_the_list(
    api: APIClient, task: Task
) -> None:
    trash(api, task)
    path = f"/api/me/tasks/{task.id}"

    assert api.get(path).status_code == 404
    assert api.patch(path, {"title": "x"}, format="json").status_code == 404
    assert api.put(path, {"title": "x"}, format="json").status_code == 404
    assert api.patch(f"{path}/complete").status_code == 404
    assert api.delete(path).status_code == 404
    listed = api.get("/api/me/tasks")
    assert (listed.json(), listed["X-Total-Count"]) == ([], "0")


def test_the_trash_lists_deleted_tasks_most_recent_first_with_deleted_at(
    api: APIClient, user_id: str
) -> None:
    first, second = TaskFactory.create_batch(2, user_id=user_id)
    trash(api, first)
    trash(api, second)

    response = api.get("/api/me/trash")

    assert response["X-Total-Count"] == "2"
    assert [item["id"] for item in response.json()] == [second.id, first.id]
    assert all(item["deleted_at"] for item in response.json())
    assert [item["version"] for item in response.json()] == [2, 2]


def test_the_trash_pages_like_the_list(api: APIClient, user_id: str) -> None:
    tasks = TaskFactory.create_batch(5, user_id=user_id)
    for task in tasks:
        trash(api, task)

    assert walk(api, "/api/me/trash?limit=2") == [task.id for task in reversed(tasks)]


def test_restore_brings_the_task_back_with_its_id_and_a_new_version(
    api: APIClient, task: Task
) -> None:
    trash(api, task)

    response = api.post(f"/api/me/trash/{task.id}/restore")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["version"]) == (task.id, 3)
    assert response["ETag"] == '"3"'
    assert "deleted_at" not in response.json()
    assert api.get(f"/api/me/tasks/{task.id}").status_code == 200
    assert api.get("/api/me/trash").json() == []


def test_a_live_task_cannot_be_restored_or_deleted_for_good(api: APIClient, task: Task) -> None:
    assert api.post(f"/api/me/trash/{task.id}/restore").status_code == 404
    assert api.delete(f"/api/me/trash/{task.id}").status_code == 404
    assert Task.objects.filter(id=task.id).exists()


def test_deleting_from_the_trash_is_for_good(api: APIClient, task: Task) -> None:
    trash(api, task)

    response = api.delete(f"/api/me/trash/{task.id}")

    assert response.status_code == 204
    assert not Task.objects.filter(id=task.id).exists()
    assert api.post(f"/api/me/trash/{task.id}/restore").status_code == 404
    assert TaskTombstone.objects.filter(task_id=task.id).exists()


def test_emptying_the_trash_deletes_only_what_is_in_it(api: APIClient, user_id: str) -> None:
    kept, *doomed = TaskFactory.create_batch(3, user_id=user_id)
    for task in doomed:
        trash(api, task)

    assert api.delete("/api/me/trash").status_code == 204
    assert list(Task.objects.filter(user_id=user_id).values_list("id", flat=True)) == [kept.id]
    assert api.get("/api/me/trash")["X-Total-Count"] == "0"


def test_another_users_trash_is_theirs(api: APIClient, client_for: Any) -> None:
    theirs = TaskFactory.create(user_id="them")
    them = client_for("them")
    trash(them, theirs)

    assert api.get("/api/me/trash").json() == []
    assert api.post(f"/api/me/trash/{theirs.id}/restore").status_code == 404
    assert api.delete(f"/api/me/trash/{theirs.id}").status_code == 404
    assert api.delete("/api/me/trash").status_code == 204
    assert api.get("/api/them/trash").status_code == 403
    assert [item["id"] for item in them.get("/api/me/trash").json()] == [theirs.id]


def test_delete_honours_if_match(api: APIClient, task: Task) -> None:
    refused = api.delete(f"/api/me/tasks/{task.id}", HTTP_IF_MATCH='"7"')
    assert (refused.status_code, refused["ETag"]) == (412, '"1"')

    assert api.delete(f"/api/me/tasks/{task.id}", HTTP_IF_MATCH='"1"').status_code == 204


@pytest.mark.parametrize(
    "cursor", ["garbage", "WyItY3JlYXRlZCIsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDJd"]
)
def test_a_cursor_that_is_not_the_trashs_is_400(api: APIClient, cursor: str) -> None:
    response = api.get(f"/api/me/trash?cursor={cursor}")

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_the_purge_deletes_what_outlived_the_retention_and_old_tombstones(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.TRASH_RETENTION_DAYS = 30
    old, recent = TaskFactory.create_batch(2, user_id=user_id)
    trash(api, old)
    trash(api, recent)
    Task.objects.filter(id=old.id).update(deleted_at=timezone.now() - timedelta(days=31))
    TaskTombstone.objects.create(
        task_id=10**9, user_id=user_id, change_id=1, deleted_at=timezone.now() - timedelta(days=32)
    )
    out = StringIO()

    call_command("purge_trash", stdout=out)

    assert list(Task.objects.filter(user_id=user_id).values_list("id", flat=True)) == [recent.id]
    assert set(TaskTombstone.objects.values_list("task_id", flat=True)) == {old.id}
    assert "Deleted 1 task(s) from the trash, 1 tombstone(s), 0 expired" in out.getvalue()


def test_the_purge_forgets_notifications_after_their_retention(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.NOTIFICATION_RETENTION_DAYS = 90
    task = TaskFactory.create(user_id=user_id)
    now = timezone.now()
    for days_ago in (91, 89):
        fired = now - timedelta(days=days_ago)
        Notification.objects.create(
            user_id=user_id, task=task, title=task.title, remind_at=fired, fired_at=fired
        )
    out = StringIO()

    call_command("purge_trash", stdout=out)

    (kept,) = Notification.objects.filter(user_id=user_id)
    assert kept.fired_at == now - timedelta(days=89)
    assert out.getvalue().rstrip().endswith("1 old notification(s).")
