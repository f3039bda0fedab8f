"""The Dapr publisher (EVENTS_PUBLISHER=dapr, contract Part 6) against a sidecar played
on loopback: CloudEvents to `task-events`, `reminders` and `task-updates` through the
pub/sub API; a sidecar down for a while delays events, never loses them, and one
task's arrive in order."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser
from delivery.loop import DeliveryLoop
from delivery.models import Delivery, Event
from delivery.reminders import fire_due
from testing.live import free_port
from testing.receiver import Receiver, running_receiver

pytestmark = pytest.mark.django_db

PUBLISH = "/v1.0/publish/pubsub/"


@pytest.fixture
def sidecar(settings: Any) -> Iterator[Receiver]:
    with running_receiver() as running:
        settings.EVENTS_PUBLISHER = "dapr"
        settings.DAPR_HTTP_ENDPOINT = running.url
        settings.DAPR_PUBSUB_NAME = "pubsub"
        settings.EVENTS_RETRY_SCHEDULE = (0.0,)
        yield running


def published(sidecar: Receiver, topic: str) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in sidecar.to(PUBLISH + topic)]


def test_a_change_is_a_cloud_event_on_task_events_and_task_updates(
    api: APIClient, user_id: str, sidecar: Receiver, loop: DeliveryLoop
) -> None:
    task = api.post("/api/me/tasks", {"title": "Plan the trip"}, format="json").json()
    loop.drain()

    (event,) = published(sidecar, "task-events")
    assert event["specversion"] == "1.0"
    assert event["id"].startswith("evt_")
    assert event["datacontenttype"] == "application/json"
    data = event["data"]
    assert (data["event_type"], data["task_id"], data["user_id"]) == (
        "created",
        task["id"],
        user_id,
    )
    assert data["task_data"] == task
    assert data["timestamp"].endswith("Z")
    (update,) = published(sidecar, "task-updates")
    assert (update["data"]["type"], update["data"]["data"]) == ("task.created", task)
    (request, _) = sidecar.received
    assert request.headers["Content-Type"] == "application/cloudevents+json"


def test_a_fired_reminder_is_published_on_reminders(
    api: APIClient, user_id: str, sidecar: Receiver, loop: DeliveryLoop
) -> None:
    at = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    due = (at + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    task = api.post(
        "/api/me/tasks",
        {"title": "Dentist", "due_date": due, "reminders": [{"at": at.isoformat()}]},
        format="json",
    ).json()
    fire_due(now=at)
    loop.drain()

    (reminder,) = published(sidecar, "reminders")
    assert reminder["data"] == {
        "task_id": task["id"],
        "title": "Dentist",
        "due_at": due,
        "remind_at": at.isoformat().replace("+00:00", "Z"),
        "user_id": user_id,
    }


def test_a_sidecar_that_is_down_delays_events_and_loses_none(
    api: APIClient, sidecar: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    settings.DAPR_HTTP_ENDPOINT = f"http://127.0.0.1:{free_port()}"  # nothing listens
    task = api.post("/api/me/tasks", {"title": "One"}, format="json").json()
    for title in ("Two", "Three"):
        api.patch(f"/api/me/tasks/{task['id']}", {"title": title}, format="json")
    loop.drain(timeout=2)
    assert Delivery.objects.filter(attempts__gte=1).exists()

    sidecar.answer(PUBLISH, status=500)  # up, but failing
    settings.DAPR_HTTP_ENDPOINT = sidecar.url
    Delivery.objects.update(next_attempt_at=timezone.now())
    loop.drain(timeout=2)
    sidecar.answer(PUBLISH, status=204)
    Delivery.objects.update(next_attempt_at=timezone.now())
    loop.drain()

    assert not Delivery.objects.exists()
    delivered = [event["data"]["task_data"]["title"] for event in published(sidecar, "task-events")]
    assert delivered[-3:] == ["One", "Two", "Three"]


def test_a_deleted_users_events_go_nowhere_and_hold_back_no_one(
    api: APIClient, user_id: str, sidecar: Receiver, loop: DeliveryLoop, client_for: Any
) -> None:
    api.post("/api/me/tasks", {"title": "Mine"}, format="json")
    BetterAuthUser.objects.filter(id=user_id).delete()
    client_for("someone-else").post("/api/me/tasks", {"title": "Theirs"}, format="json")

    loop.drain()

    titles = [event["data"]["task_data"]["title"] for event in published(sidecar, "task-events")]
    assert titles == ["Theirs"]
    assert not Event.objects.filter(user_id=user_id).exists()
    assert not Event.objects.filter(pending=True).exists()
