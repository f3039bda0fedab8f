"""Every write path records its events in the write's own transaction (the triggers
of delivery's migration 0002, and delivery.events for lists and reminders): the type,
the subject as the REST API answers it, and the door it came through."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agents.tests.conftest import post_mcp, rpc
from delivery import payloads
from delivery.models import Event
from tasks import queries
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.chat_model import ChatModel, running_chat_model

pytestmark = pytest.mark.django_db


def recorded(**filters: Any) -> list[tuple[str, int | None, str]]:
    """The events recorded, oldest first: (type, task or list id, source)."""
    return [
        (event.type, event.task_id or event.list_id, event.source)
        for event in Event.objects.filter(**filters).order_by("id")
    ]


def test_each_kind_of_task_write_is_its_event_from_the_api(api: APIClient, user_id: str) -> None:
    task = api.post("/api/me/tasks", {"title": "Water the plants"}, format="json").json()
    api.patch(f"/api/me/tasks/{task['id']}", {"title": "Water the ferns"}, format="json")
    api.patch(f"/api/me/tasks/{task['id']}", {"title": "Water the ferns"}, format="json")
    api.patch(f"/api/me/tasks/{task['id']}/complete", {"completed": True}, format="json")
    api.delete(f"/api/me/tasks/{task['id']}")
    api.post(f"/api/me/trash/{task['id']}/restore")

    assert recorded() == [
        ("task.created", task["id"], "api"),
        ("task.updated", task["id"], "api"),  # the same title again is no change
        ("task.completed", task["id"], "api"),
        ("task.deleted", task["id"], "api"),
        ("task.restored", task["id"], "api"),
    ]


def test_an_events_subject_is_the_task_as_the_api_answered_it(api: APIClient) -> None:
    created = api.post(
        "/api/me/tasks",
        {"title": "Call Ada", "due_date": "2026-05-01", "tags": ["home"]},
        format="json",
    ).json()
    updated = api.patch(
        f"/api/me/tasks/{created['id']}", {"priority": "high"}, format="json"
    ).json()

    first, second = Event.objects.order_by("id")
    assert payloads.dumps(payloads.subject(first)) == payloads.dumps(created)
    assert payloads.dumps(payloads.subject(second)) == payloads.dumps(updated)


def test_a_write_that_rolls_back_records_nothing(user_id: str) -> None:
    TaskFactory(user_id=user_id)
    before = Event.objects.count()

    def write_then_fail() -> None:
        with transaction.atomic():
            queries.task_insert(user_id=user_id, fields={"title": "Never"})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert Event.objects.count() == before


def test_bulk_writes_record_an_event_per_task(api: APIClient) -> None:
    ids = [
        api.post("/api/me/tasks", {"title": f"T{n}"}, format="json").json()["id"] for n in range(3)
    ]
    Event.objects.all().delete()

    response = api.post("/api/me/tasks/bulk", {"action": "complete", "ids": ids}, format="json")

    assert response.status_code == 200, response.content
    assert recorded() == [("task.completed", task_id, "api") for task_id in ids]


def test_list_writes_are_events(api: APIClient) -> None:
    made = api.post("/api/me/lists", {"name": "Groceries"}, format="json").json()
    api.patch(f"/api/me/lists/{made['id']}", {"color": "#00aa00"}, format="json")
    api.patch(f"/api/me/lists/{made['id']}", {"color": "#00aa00"}, format="json")
    api.delete(f"/api/me/lists/{made['id']}")

    assert recorded() == [
        ("list.created", made["id"], "api"),
        ("list.updated", made["id"], "api"),
        ("list.deleted", made["id"], "api"),
    ]
    created = Event.objects.order_by("id").first()
    assert created is not None
    assert payloads.dumps(payloads.subject(created)) == payloads.dumps(made)


def test_the_admins_writes_are_the_admins(admin_client: Client, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    admin_client.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "mark_completed", "_selected_action": [task.id]},
    )
    admin_client.post(reverse("admin:tasks_task_delete", args=[task.id]), {"post": "yes"})

    assert recorded(type__in=["task.completed", "task.deleted"]) == [
        ("task.completed", task.id, "admin"),
        ("task.deleted", task.id, "admin"),
    ]


def test_the_mcp_tools_writes_are_the_mcp_servers(
    client_for: Callable[[str], APIClient], user_id: str
) -> None:
    call = rpc("tools/call", {"name": "add_task", "arguments": {"title": "From an agent"}})
    assert post_mcp(client_for(user_id), call).status_code == 200

    assert [(kind, source) for kind, _, source in recorded()] == [("task.created", "mcp")]


def test_the_chats_tool_calls_are_the_chats(api: APIClient, settings: Any) -> None:
    with running_chat_model() as model:
        settings.CHAT_API_BASE_URL, settings.CHAT_MODEL = model.url, "test-model"
        scripted: ChatModel = model
        scripted.call(("add_task", {"title": "Buy oat milk"})).say("Added it.")
        assert (
            api.post("/api/me/chat", {"message": "Add oat milk"}, format="json").status_code == 200
        )

    assert [(kind, source) for kind, _, source in recorded()] == [("task.created", "chat")]


def test_the_workers_writes_are_the_workers(user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    Event.objects.all().delete()

    queries.task_update(user_id=user_id, task_id=task.id, fields={"title": "Moved by a job"})

    assert recorded() == [("task.updated", task.id, "worker")]


def test_on_sqlite_an_events_copy_holds_every_column_of_the_task(user_id: str) -> None:
    """SQLite's triggers name the columns (delivery's migration 0002): a column added to
    tasks_task must be installed again with them."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL copies the whole row (to_jsonb)")
    TaskFactory.create(user_id=user_id)

    event = Event.objects.get()

    columns = {field.attname for field in Task._meta.concrete_fields}
    assert set(event.data) == columns - {"tag_keys", "changed_via"}
