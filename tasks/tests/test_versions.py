"""Versions and conditional requests (contract Part 2): `version` and `ETag` on every
task, `If-Match` on every write decided by the write itself, `If-None-Match` → 304."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

# Each write route, as (method, path suffix, body), on a task that starts not completed.
WRITES = {
    "PUT": ("put", "", {"title": "Replaced"}),
    "PATCH": ("patch", "", {"priority": "high"}),
    "toggle": ("patch", "/complete", None),
    "set completion": ("patch", "/complete", {"completed": True}),
}


@pytest.fixture
def task(user_id: str) -> Task:
    return TaskFactory.create(user_id=user_id, title="Start")


def call(api: APIClient, task: Task, write: str, **headers: str) -> Any:
    method, suffix, body = WRITES[write]
    return getattr(api, method)(f"/api/me/tasks/{task.id}{suffix}", body, format="json", **headers)


def test_a_new_task_is_version_1_with_its_etag(api: APIClient) -> None:
    response = api.post("/api/me/tasks", {"title": "New"}, format="json")

    assert response.json()["version"] == 1
    assert response["ETag"] == '"1"'
    assert api.get(response["Location"])["ETag"] == '"1"'
    assert api.get("/api/me/tasks").json()[0]["version"] == 1


@pytest.mark.parametrize("write", WRITES)
def test_every_change_steps_the_version_once(api: APIClient, task: Task, write: str) -> None:
    response = call(api, task, write)

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'


def test_a_write_that_changes_nothing_keeps_the_version(api: APIClient, task: Task) -> None:
    url = f"/api/me/tasks/{task.id}"
    responses = [
        api.put(url, {"title": "Start"}, format="json"),
        api.patch(url, {}, format="json"),
        api.patch(f"{url}/complete", {"completed": False}, format="json"),
    ]

    assert [r.json()["version"] for r in responses] == [1, 1, 1]


@pytest.mark.parametrize("write", WRITES)
def test_a_write_at_the_version_it_names_happens(api: APIClient, task: Task, write: str) -> None:
    response = call(api, task, write, HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'


@pytest.mark.parametrize("write", WRITES)
def test_a_write_at_another_version_is_412_and_changes_nothing(
    api: APIClient, task: Task, write: str
) -> None:
    api.patch(f"/api/me/tasks/{task.id}", {"description": "from another tab"}, format="json")
    before = api.get(f"/api/me/tasks/{task.id}").json()

    response = call(api, task, write, HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"
    assert response["ETag"] == '"2"'
    assert api.get(f"/api/me/tasks/{task.id}").json() == before


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),
        ('"7", "1"', 200),
        ('W/"1"', 412),  # a weak tag never matches strongly
        ('"99999999999999999999"', 412),
        ('"01"', 412),  # compared as strings: not the ETag "1"
        ('"7",, "1"', 200),  # empty list elements are allowed
        ('\t"1" ', 200),
    ],
)
def test_if_match_compares_strongly(api: APIClient, task: Task, if_match: str, status: int) -> None:
    assert call(api, task, "PATCH", HTTP_IF_MATCH=if_match).status_code == status


@pytest.mark.parametrize("if_match", ["1", '"1', "'1'", '"1", junk', 'w/"1"', '"1"x', "", " , "])
@pytest.mark.parametrize("write", [*WRITES, "DELETE"])
def test_a_malformed_if_match_is_400_naming_the_header(
    api: APIClient, task: Task, write: str, if_match: str
) -> None:
    if write == "DELETE":
        response = api.delete(f"/api/me/tasks/{task.id}", HTTP_IF_MATCH=if_match)
    else:
        response = call(api, task, write, HTTP_IF_MATCH=if_match)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "ETag" not in response
    assert list(response.json()["errors"]) == ["If-Match"]
    assert 'If-Match: "3"' in response.json()["detail"]
    assert api.get(f"/api/me/tasks/{task.id}").json()["version"] == 1


def test_a_malformed_if_none_match_is_ignored(api: APIClient, task: Task) -> None:
    assert api.get(f"/api/me/tasks/{task.id}", HTTP_IF_NONE_MATCH="1").status_code == 200


def test_delete_with_if_match(api: APIClient, task: Task) -> None:
    url = f"/api/me/tasks/{task.id}"

    refused = api.delete(url, HTTP_IF_MATCH='"2"')
    deleted = api.delete(url, HTTP_IF_MATCH='"1"')

    assert (refused.status_code, refused["ETag"]) == (412, '"1"')
    assert deleted.status_code == 204
    assert api.delete(url, HTTP_IF_MATCH="*").status_code == 404


def test_if_match_on_a_missing_or_foreign_task_is_404(
    api: APIClient, client_for: Any, task: Task
) -> None:
    other = client_for("someone-else")

    assert call(other, task, "PATCH", HTTP_IF_MATCH='"1"').status_code == 404
    assert (
        api.patch("/api/me/tasks/999999", {}, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    )


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [('"1"', 304), ('W/"1"', 304), ('"2", "1"', 304), ("*", 304), ('"2"', 200)],
)
def test_if_none_match_answers_304_while_the_version_is_named(
    api: APIClient, task: Task, if_none_match: str, status: int
) -> None:
    response = api.get(f"/api/me/tasks/{task.id}", HTTP_IF_NONE_MATCH=if_none_match)

    assert response.status_code == status
    assert response["ETag"] == '"1"'
    assert (response.content == b"") is (status == 304)
    if status == 304:
        assert "Content-Type" not in response
        assert "Content-Length" not in response


def test_an_empty_patch_at_another_version_is_412(api: APIClient, task: Task) -> None:
    api.patch(f"/api/me/tasks/{task.id}", {"title": "Moved on"}, format="json")

    response = api.patch(f"/api/me/tasks/{task.id}", {}, format="json", HTTP_IF_MATCH='"1"')

    assert (response.status_code, response["ETag"]) == (412, '"2"')


def test_the_admin_steps_the_version_too(user_id: str, task: Task) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="a root password 123"))

    admin.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "mark_completed", "_selected_action": [task.id]},
    )

    assert Task.objects.get(id=task.id).version == 2
