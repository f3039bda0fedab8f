"""Every validation rule of the task body: a 400 problem naming the field, nothing stored."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

INVALID_BODIES = [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": ["a"]}, "title"),
    ({"title": "a\x00b"}, "title"),
    ({"title": "ok", "description": "x" * 1001}, "description"),
    ({"title": "ok", "description": 3}, "description"),
    ({"title": "ok", "description": "\x00"}, "description"),
    ({"title": "ok", "completed": "yes"}, "completed"),
    ({"title": "ok", "completed": 1}, "completed"),
    ({"title": "ok", "priority": "urgent"}, "priority"),
    ({"title": "ok", "priority": "HIGH"}, "priority"),
    ({"title": "ok", "priority": 3}, "priority"),
    ({"title": "ok", "due_date": "2030-01-01T10:00:00"}, "due_date"),
    ({"title": "ok", "due_date": "2030-02-30"}, "due_date"),
    ({"title": "ok", "due_date": "tomorrow"}, "due_date"),
    ({"title": "ok", "due_date": 1700000000}, "due_date"),
    ({"title": "ok", "due_date": "0001-01-01T00:00:00+01:00"}, "due_date"),
    ({"title": "ok", "tags": "work"}, "tags"),
    ({"title": "ok", "tags": [f"t{i}" for i in range(21)]}, "tags"),
    ({"title": "ok", "tags": ["x" * 51]}, "tags.0"),
    ({"title": "ok", "tags": ["ok", "ok2", "ok3", " "]}, "tags.3"),
    ({"title": "ok", "tags": ["ok", 7]}, "tags.1"),
    ({"title": "ok", "tags": [None]}, "tags.0"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES)
def test_create_refuses_invalid_field(api: APIClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/me/tasks", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert field in problem["errors"]
    assert all(isinstance(m, str) for messages in problem["errors"].values() for m in messages)
    assert not Task.objects.exists()


@pytest.mark.parametrize(("body", "field"), [(b, f) for b, f in INVALID_BODIES if b])
def test_patch_refuses_invalid_field_and_keeps_the_task(
    api: APIClient, user_id: str, body: dict[str, Any], field: str
) -> None:
    task = TaskFactory.create(user_id=user_id, title="Unchanged")

    response = api.patch(f"/api/me/tasks/{task.id}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Task.objects.get(id=task.id).title == "Unchanged"


def test_limits_count_code_points_not_bytes(api: APIClient) -> None:
    response = api.post(
        "/api/me/tasks",
        {"title": "é" * 200, "description": "😀" * 1000, "tags": ["ß" * 50]},
        format="json",
    )

    assert response.status_code == 201


def test_twenty_tags_are_allowed(api: APIClient) -> None:
    tags = [f"tag{i}" for i in range(20)]

    assert (
        api.post("/api/me/tasks", {"title": "ok", "tags": tags}, format="json").json()["tags"]
        == tags
    )


def test_null_due_date_clears_it(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    api.patch(f"/api/me/tasks/{task.id}", {"due_date": "2030-01-01T00:00:00Z"}, format="json")

    body = api.patch(f"/api/me/tasks/{task.id}", {"due_date": None}, format="json").json()

    assert body["due_date"] is None


def test_an_empty_due_date_is_null_as_an_empty_date_input_means(
    api: APIClient, user_id: str
) -> None:
    created = api.post("/api/me/tasks", {"title": "Form", "due_date": ""}, format="json")
    task = TaskFactory.create(user_id=user_id)
    api.patch(f"/api/me/tasks/{task.id}", {"due_date": "2030-01-01"}, format="json")

    cleared = api.patch(f"/api/me/tasks/{task.id}", {"due_date": ""}, format="json")
    bulk = api.post(
        "/api/me/tasks/bulk",
        {"action": "update", "ids": [task.id], "fields": {"due_date": ""}},
        format="json",
    )

    assert (created.status_code, created.json()["due_date"]) == (201, None)
    assert (cleared.status_code, cleared.json()["due_date"]) == (200, None)
    assert bulk.status_code == 200
    # Blank is empty, not white space: " " is no date and no form's empty input.
    refused = api.post("/api/me/tasks", {"title": "Form", "due_date": " "}, format="json")
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"[1, 2]", "application/json", 400),
        (b'"title"', "application/json", 400),
        (b"null", "application/json", 400),
        (b"{not json", "application/json", 400),
        (b'{"title": NaN}', "application/json", 400),
        (b'{"title": "\\ud800"}', "application/json", 400),
        (b'{"title": "\xff\xfe"}', "application/json", 400),
        (b"[" * 10000 + b"]" * 10000, "application/json", 400),
        (b"title=x", "application/x-www-form-urlencoded", 415),
        (b"title: x", "text/plain", 415),
        (b'{"title": "x"}', "", 415),
    ],
)
def test_body_must_be_a_json_object(
    api: APIClient, raw: bytes, content_type: str, status: int
) -> None:
    response = api.generic("POST", "/api/me/tasks", raw, content_type=content_type)  # type: ignore[arg-type]

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert not Task.objects.exists()


def test_json_with_charset_is_accepted(api: APIClient) -> None:
    response = api.generic(
        "POST", "/api/me/tasks", '{"title": "x"}', content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 201
