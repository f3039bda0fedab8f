"""Isolation sweep: every route and method, with user B's token on user A's tasks.

By id under B's own URL the task doesn't exist for B (404); under A's URL B is
refused outright (403). Either way A's data is exactly as before.
"""

from typing import Any

import pytest

from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

BODY = {"title": "taken over", "completed": True, "tags": ["x"]}
ROUTES = [
    ("get", "/api/{owner}/tasks"),
    ("post", "/api/{owner}/tasks"),
    ("get", "/api/{owner}/tasks/{id}"),
    ("put", "/api/{owner}/tasks/{id}"),
    ("patch", "/api/{owner}/tasks/{id}"),
    ("delete", "/api/{owner}/tasks/{id}"),
    ("patch", "/api/{owner}/tasks/{id}/complete"),
]


def snapshot(user_id: str) -> list[Any]:
    return list(Task.objects.filter(user_id=user_id).order_by("id").values())


@pytest.fixture
def victim() -> Task:
    TaskFactory.create(user_id="alice", title="second", tags=["home"])
    return TaskFactory.create(user_id="alice", title="first")


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_another_users_url_is_403_and_changes_nothing(
    client_for: Any, victim: Task, method: str, route: str
) -> None:
    before = snapshot("alice")
    path = route.format(owner="alice", id=victim.id)

    response = getattr(client_for("mallory"), method)(path, BODY, format="json")

    assert response.status_code == 403
    assert snapshot("alice") == before


@pytest.mark.parametrize(("method", "route"), [r for r in ROUTES if "{id}" in r[1]])
def test_another_users_task_by_id_is_404_and_changes_nothing(
    client_for: Any, victim: Task, method: str, route: str
) -> None:
    before = snapshot("alice")
    path = route.format(owner="me", id=victim.id)

    response = getattr(client_for("mallory"), method)(path, BODY, format="json")

    assert response.status_code == 404
    assert snapshot("alice") == before


def test_another_users_list_shows_none_of_mine(client_for: Any, victim: Task) -> None:
    mallory = client_for("mallory")
    mallory.post("/api/me/tasks", {"title": "mine"}, format="json")

    listed = mallory.get("/api/me/tasks", {"search": "first"})

    assert listed.json() == []
    assert listed["X-Total-Count"] == "0"
