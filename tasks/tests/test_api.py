"""The task routes as the contract words them: create, read, update, toggle, delete."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser
from tasks.models import Priority, Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

TASK_FIELDS = {
    "id",
    "user_id",
    "list_id",
    "parent_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_date",
    "tags",
    "time_zone",
    "recurrence",
    "repeat_from",
    "reminders",
    "created_at",
    "updated_at",
    "version",
    "position",
}


def create(api: APIClient, **body: Any) -> Any:
    return api.post("/api/me/tasks", {"title": "Write report", **body}, format="json")


def test_create_answers_201_with_the_task_and_its_location(api: APIClient, user_id: str) -> None:
    response = create(api)

    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert task["user_id"] == user_id
    assert response["Location"] == f"http://testserver/api/me/tasks/{task['id']}"
    assert api.get(response["Location"]).json() == task


def test_location_names_the_task_as_the_request_named_its_user(
    api: APIClient, user_id: str
) -> None:
    response = api.post(f"/api/{user_id}/tasks", {"title": "x"}, format="json")

    assert response["Location"].endswith(f"/api/{user_id}/tasks/{response.json()['id']}")


def test_location_of_a_sub_that_needs_escaping_leads_to_the_task(client_for: Any) -> None:
    api = client_for("a b%c")
    response = api.post("/api/a%20b%25c/tasks", {"title": "x"}, format="json")

    assert response["Location"].endswith(f"/api/a%20b%25c/tasks/{response.json()['id']}")
    assert api.get(response["Location"]).json() == response.json()


def test_a_sub_with_a_slash_can_create_through_me(client_for: Any) -> None:
    """The contract treats `sub` as opaque; a "/" can't be in the URL, but `me` can."""
    response = client_for("team/alice").post("/api/me/tasks", {"title": "x"}, format="json")

    assert response.status_code == 201
    assert response["Location"].endswith(f"/api/me/tasks/{response.json()['id']}")


def test_create_applies_the_defaults(api: APIClient) -> None:
    task = create(api).json()

    assert task["description"] == ""
    assert task["completed"] is False
    assert task["completed_at"] is None
    assert task["priority"] == "medium"
    assert task["due_date"] is None
    assert task["tags"] == []
    assert task["created_at"] == task["updated_at"]
    assert task["created_at"].endswith("Z")


def test_create_trims_the_title(api: APIClient) -> None:
    assert create(api, title="  Buy milk \n").json()["title"] == "Buy milk"


def test_create_completed_sets_completed_at(api: APIClient) -> None:
    task = create(api, completed=True).json()

    assert task["completed"] is True
    assert task["completed_at"] is not None


def test_create_ignores_read_only_and_unknown_fields(api: APIClient, user_id: str) -> None:
    response = create(
        api,
        id=999,
        user_id="someone-else",
        created_at="2000-01-01T00:00:00Z",
        completed_at="2000-01-01T00:00:00Z",
        colour="red",
    )

    task = response.json()
    assert response.status_code == 201
    assert task["id"] != 999
    assert task["user_id"] == user_id
    assert not task["created_at"].startswith("2000")
    assert task["completed_at"] is None
    assert "colour" not in task


def test_create_stores_due_date_in_utc(api: APIClient) -> None:
    task = create(api, due_date="2030-05-01T12:00:00+02:00").json()

    assert task["due_date"] == "2030-05-01T10:00:00Z"


def test_create_folds_case_insensitive_duplicate_tags(api: APIClient) -> None:
    task = create(api, tags=["Work", " work ", "home", "WORK"]).json()

    assert task["tags"] == ["Work", "home"]


def test_create_accepts_any_unicode_title(api: APIClient) -> None:
    title = "Tâche 📝 ✓ " + "字" * 190

    assert create(api, title=title).json()["title"] == title


def test_me_and_own_id_are_the_same_collection(api: APIClient, user_id: str) -> None:
    task = create(api).json()

    assert api.get(f"/api/{user_id}/tasks/{task['id']}").json() == task
    assert api.get(f"/api/me/tasks/{task['id']}").json() == task


def test_get_returns_the_task(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id, title="Read")

    response = api.get(f"/api/me/tasks/{task.id}")

    assert response.status_code == 200
    assert response.json()["title"] == "Read"


@pytest.mark.parametrize("path", ["/api/me/tasks/", "/api/me/tasks"])
def test_trailing_slash_is_the_same_resource(api: APIClient, user_id: str, path: str) -> None:
    TaskFactory.create(user_id=user_id)

    response = api.get(path)

    assert response.status_code == 200
    assert len(response.json()) == 1


def test_another_users_task_is_404_like_a_missing_one(api: APIClient) -> None:
    theirs = TaskFactory.create(user_id="someone-else")

    other = api.get(f"/api/me/tasks/{theirs.id}")
    missing = api.get("/api/me/tasks/987654")

    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


@pytest.mark.parametrize(
    "task_id", ["abc", "0", "-1", "1.5", str(10**30), "\u0661", "9" * 4300, "9" * 4301]
)
def test_an_id_that_cannot_exist_is_404(api: APIClient, task_id: str) -> None:
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api, method)(f"/api/me/tasks/{task_id}", {}, format="json")
        assert response.status_code == 404, method
    assert api.patch(f"/api/me/tasks/{task_id}/complete").status_code == 404


@pytest.mark.parametrize(
    "edit", [{"title": "Renamed"}, {"title": "Renamed", "description": "As the form sends it"}]
)
def test_put_keeps_the_fields_it_is_not_sent(api: APIClient, user_id: str, edit: dict) -> None:
    """What the frontends' edit forms send: only the fields the form shows."""
    task = TaskFactory.create(
        user_id=user_id,
        description="Keep me",
        completed=True,
        priority=Priority.HIGH,
        tags=["work", "q3"],
        due_date=datetime(2030, 5, 1, 10, tzinfo=UTC),
    )
    before = api.get(f"/api/me/tasks/{task.id}").json()

    response = api.put(f"/api/me/tasks/{task.id}", edit, format="json")

    assert response.status_code == 200
    assert response.json() == {
        **before,
        "description": "Keep me",
        **edit,
        "updated_at": response.json()["updated_at"],
        "version": before["version"] + 1,
    }
    assert response.json()["updated_at"] > before["updated_at"]
    assert api.get(f"/api/me/tasks/{task.id}").json() == response.json()


def test_put_of_the_values_a_task_has_changes_nothing(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id, title="Same", completed=True)
    before = api.get(f"/api/me/tasks/{task.id}").json()

    response = api.put(
        f"/api/me/tasks/{task.id}", {"title": "Same", "completed": True}, format="json"
    )

    assert response.json() == before


def test_put_requires_the_title(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    response = api.put(f"/api/me/tasks/{task.id}", {"description": "x"}, format="json")

    assert response.status_code == 400
    assert "title" in response.json()["errors"]


def test_patch_changes_only_the_fields_sent(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id, title="Keep", description="old")

    body = api.patch(f"/api/me/tasks/{task.id}", {"description": "new"}, format="json").json()

    assert (body["title"], body["description"]) == ("Keep", "new")
    assert body["updated_at"] > body["created_at"]


def test_patch_with_empty_object_changes_nothing(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    before = api.get(f"/api/me/tasks/{task.id}").json()

    response = api.patch(f"/api/me/tasks/{task.id}", {}, format="json")

    assert response.status_code == 200
    assert response.json() == before
    assert api.get(f"/api/me/tasks/{task.id}").json() == before


def test_patch_completed_sets_and_clears_completed_at(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    done = api.patch(f"/api/me/tasks/{task.id}", {"completed": True}, format="json").json()
    undone = api.patch(f"/api/me/tasks/{task.id}", {"completed": False}, format="json").json()

    assert done["completed_at"] is not None
    assert undone["completed_at"] is None


def test_patch_completed_true_keeps_completed_at(api: APIClient, user_id: str) -> None:
    task = create(api, completed=True).json()

    again = api.patch(
        f"/api/me/tasks/{task['id']}", {"completed": True, "title": "x"}, format="json"
    )

    assert again.json()["completed_at"] == task["completed_at"]


def test_patch_tags_updates_the_tag_filter(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id, tags=["old"])

    api.patch(f"/api/me/tasks/{task.id}", {"tags": ["New"]}, format="json")

    assert [t["id"] for t in api.get("/api/me/tasks?tag=new").json()] == [task.id]
    assert api.get("/api/me/tasks?tag=old").json() == []


def test_update_cannot_move_a_task_to_another_user(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    api.put(f"/api/me/tasks/{task.id}", {"title": "x", "user_id": "thief"}, format="json")

    assert Task.objects.get(id=task.id).user_id == user_id


def test_toggle_flips_completion_and_back(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    first = api.patch(f"/api/me/tasks/{task.id}/complete")
    second = api.patch(f"/api/me/tasks/{task.id}/complete")

    assert first.status_code == second.status_code == 200
    assert first.json()["completed"] is True
    assert first.json()["completed_at"] is not None
    assert second.json()["completed"] is False
    assert second.json()["completed_at"] is None


def test_toggle_with_empty_object_toggles(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    body = api.patch(f"/api/me/tasks/{task.id}/complete", {}, format="json").json()

    assert body["completed"] is True


def test_set_completed_is_idempotent(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    url = f"/api/me/tasks/{task.id}/complete"

    first = api.patch(url, {"completed": True}, format="json").json()
    second = api.patch(url, {"completed": True}, format="json").json()

    assert second == first
    assert second["completed"] is True


def test_set_not_completed_clears_completed_at(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    url = f"/api/me/tasks/{task.id}/complete"
    api.patch(url)

    body = api.patch(url, {"completed": False}, format="json").json()

    assert (body["completed"], body["completed_at"]) == (False, None)


@pytest.mark.parametrize("value", ["yes", 1, None, "true"])
def test_set_completed_needs_a_boolean(api: APIClient, user_id: str, value: Any) -> None:
    task = TaskFactory.create(user_id=user_id)

    response = api.patch(f"/api/me/tasks/{task.id}/complete", {"completed": value}, format="json")

    assert response.status_code == 400
    assert "completed" in response.json()["errors"]


def test_toggle_of_another_users_task_is_404_and_changes_nothing(api: APIClient) -> None:
    theirs = TaskFactory.create(user_id="someone-else")

    response = api.patch(f"/api/me/tasks/{theirs.id}/complete")

    assert response.status_code == 404
    assert Task.objects.get(id=theirs.id).completed is False


def test_delete_answers_204_and_the_task_is_gone(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    response = api.delete(f"/api/me/tasks/{task.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(f"/api/me/tasks/{task.id}").status_code == 404


def test_delete_of_another_users_task_is_404_and_keeps_it(api: APIClient) -> None:
    theirs = TaskFactory.create(user_id="someone-else")

    assert api.delete(f"/api/me/tasks/{theirs.id}").status_code == 404
    assert Task.objects.filter(id=theirs.id).exists()


def test_other_users_writes_never_touch_my_tasks(client_for: Any, user_id: str) -> None:
    mine = TaskFactory.create(user_id=user_id, title="Mine")
    intruder = client_for("intruder")

    for method in ("put", "patch", "delete"):
        assert (
            getattr(intruder, method)(
                f"/api/me/tasks/{mine.id}", {"title": "x"}, format="json"
            ).status_code
            == 404
        )
        assert (
            getattr(intruder, method)(
                f"/api/{user_id}/tasks/{mine.id}", {"title": "x"}, format="json"
            ).status_code
            == 403
        )

    assert Task.objects.get(id=mine.id).title == "Mine"


def test_a_due_date_far_in_the_past_and_future_round_trips(api: APIClient) -> None:
    past = create(api, due_date="0001-01-01T00:00:00Z").json()
    future = create(api, due_date="9999-12-31T23:59:59Z").json()

    assert past["due_date"] == "0001-01-01T00:00:00Z"
    assert future["due_date"] == "9999-12-31T23:59:59Z"


def test_completed_at_is_recent(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)

    body = api.patch(f"/api/me/tasks/{task.id}/complete").json()

    completed_at = datetime.fromisoformat(body["completed_at"])
    assert abs(completed_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_deleting_a_user_deletes_their_tasks(api: APIClient, user_id: str) -> None:
    create(api)

    BetterAuthUser.objects.get(id=user_id).delete()

    assert not Task.objects.filter(user_id=user_id).exists()


def test_a_create_beyond_the_task_cap_is_409(
    api: APIClient, client_for: Any, user_id: str, settings: Any
) -> None:
    settings.MAX_TASKS_PER_USER = 3
    TaskFactory.create_batch(2, user_id=user_id)

    statuses = [create(api).status_code for _ in range(2)]
    refused = create(api)

    assert statuses == [201, 409]
    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    assert Task.objects.filter(user_id=user_id).count() == 3
    assert create(client_for("someone-else")).status_code == 201


def test_the_trash_counts_toward_the_cap_until_it_is_emptied(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.MAX_TASKS_PER_USER = 1
    task = create(api).json()
    api.delete(f"/api/me/tasks/{task['id']}")
    assert create(api).status_code == 409

    api.delete("/api/me/trash")

    assert create(api).status_code == 201
