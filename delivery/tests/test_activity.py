"""`GET /api/{user_id}/activity`: the caller's events, newest first, keyset-paged like
the notifications; and the daily job that forgets what is older than
ACTIVITY_RETENTION_DAYS once the outlets have had it."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from delivery.jobs import forget_old_activity
from delivery.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api: APIClient) -> APIClient:
    assert api.get("/api/me/activity").status_code == 200  # mirrors the user
    return api


def event(user_id: str, title: str = "Water the plants", **fields: Any) -> Event:
    """An event as the triggers write one: a task created through the API."""
    UserFactory.create(id=user_id)
    values = {"type": "task.created", "task_id": 1, "source": "api", "data": {}, **fields}
    return Event.objects.create(user_id=user_id, title=title, **values)


def next_page(response: Any) -> str:
    link: str = response["Link"]
    return link[1 : link.index(">")]


def test_what_the_api_did_is_the_activity_newest_first(api: APIClient) -> None:
    task_list = api.post("/api/me/lists", {"name": "Home"}, format="json").json()
    task = api.post(
        "/api/me/tasks", {"title": "Water the plants", "list_id": task_list["id"]}, format="json"
    ).json()
    api.patch(f"/api/me/tasks/{task['id']}/complete", {"completed": True}, format="json")

    response = api.get("/api/me/activity")

    assert response.status_code == 200
    found = response.json()
    assert [(item["type"], item["task_id"], item["list_id"]) for item in found] == [
        ("task.completed", task["id"], task_list["id"]),
        ("task.created", task["id"], task_list["id"]),
        ("list.created", None, task_list["id"]),
    ]
    assert [item["title"] for item in found] == ["Water the plants", "Water the plants", "Home"]
    assert {item["source"] for item in found} == {"api"}
    assert [item["id"] for item in found] == sorted((item["id"] for item in found), reverse=True)
    assert response["X-Total-Count"] == "3"
    assert "Link" not in response


def test_an_item_holds_exactly_the_contracts_fields(api: APIClient, user_id: str) -> None:
    made = event(user_id, task_id=42, list_id=7, source="mcp")

    (item,) = api.get("/api/me/activity").json()

    assert item == {
        "id": made.id,
        "type": "task.created",
        "task_id": 42,
        "list_id": 7,
        "title": "Water the plants",
        "at": made.at.isoformat().replace("+00:00", "Z"),
        "source": "mcp",
    }


def test_the_activity_is_the_callers_alone(api: APIClient, user_id: str) -> None:
    event("someone-else", "Theirs")
    mine = event(user_id, "Mine")

    assert [item["id"] for item in api.get("/api/me/activity").json()] == [mine.id]


def test_the_activity_is_paged_by_cursor(api: APIClient, user_id: str) -> None:
    made = [event(user_id, f"Task {number}") for number in range(5)]

    first = api.get("/api/me/activity", {"limit": 2})
    second = api.get(next_page(first))
    last = api.get(next_page(second))

    pages = [[item["id"] for item in page.json()] for page in (first, second, last)]
    assert pages == [[made[4].id, made[3].id], [made[2].id, made[1].id], [made[0].id]]
    assert {page["X-Total-Count"] for page in (first, second, last)} == {"5"}
    assert "Link" not in last


def test_an_event_written_during_a_walk_does_not_shift_it(api: APIClient, user_id: str) -> None:
    made = [event(user_id, f"Task {number}") for number in range(4)]
    first = api.get("/api/me/activity", {"limit": 2})

    event(user_id, "Newer")
    second = api.get(next_page(first))

    assert [item["id"] for item in second.json()] == [made[1].id, made[0].id]


def test_the_list_is_two_queries(
    api: APIClient, user_id: str, django_assert_num_queries: Any
) -> None:
    for number in range(3):
        event(user_id, f"Task {number}")

    with django_assert_num_queries(2):
        response = api.get("/api/me/activity?limit=2")

    assert response.status_code == 200
    assert len(response.json()) == 2


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"cursor": "not a cursor"},
        {"cursor": "eyJ4Ijox"},
        {"type": "task.exploded"},
        {"task_id": "abc"},
        {"task_id": 0},
        {"list_id": "9" * 30},
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api: APIClient, query: dict[str, Any]) -> None:
    response = api.get("/api/me/activity", query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == list(query)


def test_another_lists_cursor_is_refused(api: APIClient) -> None:
    for number in range(3):
        api.post("/api/me/tasks", {"title": f"Task {number}"}, format="json")
    tasks_cursor = next_page(api.get("/api/me/tasks", {"limit": 1})).split("cursor=")[1]

    response = api.get("/api/me/activity", {"cursor": tasks_cursor})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


def test_type_task_and_list_narrow_the_activity(api: APIClient, user_id: str) -> None:
    created = event(user_id, task_id=1, list_id=7)
    completed = event(user_id, type="task.completed", task_id=1, list_id=7)
    other_task = event(user_id, task_id=2, list_id=8)

    def ids(**query: Any) -> list[int]:
        response = api.get("/api/me/activity", query)
        assert response.status_code == 200
        return [item["id"] for item in response.json()]

    assert ids(type="task.created") == [other_task.id, created.id]
    assert ids(task_id=1) == [completed.id, created.id]
    assert ids(list_id=8) == [other_task.id]
    assert ids(type="task.completed", task_id=2) == []


def test_another_users_activity_is_a_403(api: APIClient) -> None:
    assert api.get("/api/someone-else/activity").status_code == 403


def test_the_activity_needs_a_token() -> None:
    assert APIClient().get("/api/me/activity").status_code == 401


def test_old_activity_the_outlets_had_is_forgotten(user_id: str, settings: Any) -> None:
    settings.ACTIVITY_RETENTION_DAYS = 90
    now = timezone.now()
    old = event(user_id, "Old", at=now - timedelta(days=91), pending=False)
    old_but_owed = event(user_id, "Owed", at=now - timedelta(days=91), pending=True)
    recent = event(user_id, "Recent", at=now - timedelta(days=89), pending=False)

    forgotten = forget_old_activity(now=now)

    assert forgotten == 1
    assert set(Event.objects.values_list("id", flat=True)) == {old_but_owed.id, recent.id}
    assert not Event.objects.filter(id=old.id).exists()


def test_forgetting_follows_the_retention_setting(user_id: str, settings: Any) -> None:
    settings.ACTIVITY_RETENTION_DAYS = 7
    now = timezone.now()
    event(user_id, at=now - timedelta(days=8), pending=False)

    assert forget_old_activity(now=now) == 1
    assert forget_old_activity(now=now) == 0
