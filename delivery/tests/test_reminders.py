"""Reminders (contract Part 3): remind_at, firing once through the delivery loop,
notifications, and the push each firing queues."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from delivery import push
from delivery.models import PushMessage, PushSubscription
from delivery.reminders import fire_due
from tasks.models import Notification, NotPushed, Task
from testing.push_service import running_push_service

pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def soon(minutes: int = 30) -> datetime:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def subscribe(user_id: str) -> None:
    """A push subscription of the user's (its pushes are queued, never sent here)."""
    PushSubscription.objects.create(
        user_id=user_id, endpoint="https://push.example.com/a", p256dh="k", auth="a"
    )


def create(api: APIClient, **body: Any) -> Any:
    response = api.post("/api/me/tasks", {"title": "Call the dentist", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_remind_at_is_the_due_date_less_before_minutes_or_the_at(api: APIClient) -> None:
    due, at = soon(120), soon()
    task = create(api, due_date=iso(due), reminders=[{"before_minutes": 30}, {"at": iso(at)}])

    assert [r["remind_at"] for r in task["reminders"]] == [
        iso(due - timedelta(minutes=30)),
        iso(at),
    ]


def test_relative_reminders_move_with_the_due_date(api: APIClient) -> None:
    task = create(api, due_date=iso(soon(120)), reminders=[{"before_minutes": 10}])
    later = soon(240)

    moved = api.patch(f"/api/me/tasks/{task['id']}", {"due_date": iso(later)}, format="json")

    assert moved.json()["reminders"][0]["remind_at"] == iso(later - timedelta(minutes=10))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reminders": [{"before_minutes": 10}]}, "reminders"),
        ({"reminders": [{"before_minutes": 40321}]}, "reminders"),
        ({"reminders": [{}]}, "reminders"),
        ({"reminders": [{"at": "2027-01-01T09:00"}]}, "reminders"),
        ({"reminders": [{"at": "2027-01-01T09:00:00Z"}] * 11}, "reminders"),
    ],
)
def test_a_bad_reminder_is_a_400(api: APIClient, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/me/tasks", {"title": "x", **body}, format="json")

    assert response.status_code == 400
    assert next(iter(response.json()["errors"])).startswith(field)


def test_a_due_reminder_fires_once_as_a_notification_and_a_push(
    api: APIClient, user_id: str
) -> None:
    subscribe(user_id)
    at = soon()
    task = create(api, reminders=[{"at": iso(at)}])

    assert fire_due(now=at - timedelta(seconds=1)) == 0
    assert fire_due(now=at) == 1
    assert fire_due(now=at + timedelta(minutes=5)) == 0

    (notification,) = api.get("/api/me/notifications").json()
    assert notification["task_id"] == task["id"]
    assert (notification["title"], notification["read"]) == ("Call the dentist", False)
    assert api.get(f"/api/me/tasks/{task['id']}").json()["reminders"][0]["remind_at"] is None
    (message,) = PushMessage.objects.all()
    # Due at once: the loop's turn that fired it sends it (delivery.loop).
    assert message.next_attempt_at <= timezone.now()
    assert message.payload["type"] == "reminder"
    assert message.payload["notification_id"] == notification["id"]
    assert message.payload["task"]["id"] == task["id"]


def test_with_web_push_off_a_reminder_still_fires_as_a_notification(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.VAPID_PRIVATE_KEY = ""
    subscribe(user_id)  # from before push was turned off
    at = soon()
    task = create(api, reminders=[{"at": iso(at)}])

    assert fire_due(now=at) == 1

    (notification,) = api.get("/api/me/notifications").json()
    assert notification["task_id"] == task["id"]
    assert not PushMessage.objects.exists()


def test_a_reminder_of_a_completed_or_trashed_task_does_not_fire(api: APIClient) -> None:
    at = soon()
    done = create(api, reminders=[{"at": iso(at)}])
    trashed = create(api, reminders=[{"at": iso(at)}])
    api.patch(f"/api/me/tasks/{done['id']}/complete", format="json")
    api.delete(f"/api/me/tasks/{trashed['id']}")

    assert fire_due(now=at) == 0
    assert not Notification.objects.exists()
    assert not Task.objects.filter(next_remind_at__isnull=False).exists()


def test_a_reminder_missed_beyond_the_grace_is_listed_not_pushed(
    api: APIClient, user_id: str
) -> None:
    subscribe(user_id)
    at = soon()
    create(api, reminders=[{"at": iso(at)}])

    assert fire_due(now=at + timedelta(minutes=61)) == 1

    assert Notification.objects.get().not_pushed == NotPushed.LATE
    assert not PushMessage.objects.exists()


def test_notifications_are_the_owners_newest_first_paged_and_marked_read(
    api: APIClient, client_for: Any
) -> None:
    other_api = client_for("someone-else")
    at = soon()
    for index in range(3):
        create(api, title=f"R{index}", reminders=[{"at": iso(at + timedelta(minutes=index))}])
    fire_due(now=at + timedelta(minutes=5))

    first = api.get("/api/me/notifications", {"limit": 2})
    assert [n["title"] for n in first.json()] == ["R2", "R1"]
    assert first["X-Total-Count"] == "3"
    second = api.get(first["Link"].split(">")[0].lstrip("<"))
    assert [n["title"] for n in second.json()] == ["R0"]

    notification = first.json()[0]
    read = api.post(f"/api/me/notifications/{notification['id']}/read")
    assert read.json()["read"] is True
    assert other_api.post(f"/api/me/notifications/{notification['id']}/read").status_code == 404
    assert other_api.get("/api/me/notifications").json() == []


def test_completing_a_recurring_task_rearms_its_relative_reminder(api: APIClient) -> None:
    due = soon(60)
    task = create(
        api, due_date=iso(due), recurrence="FREQ=DAILY", reminders=[{"before_minutes": 15}]
    )
    fire_due(now=due - timedelta(minutes=15))

    done = api.patch(f"/api/me/tasks/{task['id']}/complete", format="json").json()

    assert done["reminders"][0]["remind_at"] == iso(due + timedelta(days=1, minutes=-15))


def test_a_fired_reminder_reaches_the_browser_encrypted_and_signed(
    api: APIClient, settings: Any
) -> None:
    """The whole way: the API subscribes a browser of a push service on loopback, the
    reminder fires, the push is sent, and the service decrypts it as the browser
    would and verifies its VAPID signature."""
    settings.PUSH_ALLOW_LOOPBACK = True
    at = soon()
    with running_push_service(push.public_key() or "") as service:
        browser = service.subscribe()
        subscribed = api.post("/api/me/push-subscriptions", browser.to_json(), format="json")
        assert subscribed.status_code == 201, subscribed.json()
        task = create(api, due_date=iso(at + timedelta(hours=1)), reminders=[{"at": iso(at)}])

        fire_due(now=at)
        assert push.deliver_due() == 1

    (received,) = service.received
    (notification,) = api.get("/api/me/notifications").json()
    assert received.problem is None
    assert received.payload == {
        "type": "reminder",
        "notification_id": notification["id"],
        "task": {"id": task["id"], "title": "Call the dentist", "due_date": task["due_date"]},
        "remind_at": iso(at),
    }
    assert received.headers["topic"].startswith(f"t{task['id']}-")
    assert received.headers["urgency"] == "high"


def test_an_edit_keeps_a_reminder_that_is_due_but_not_fired_yet(api: APIClient) -> None:
    at = datetime.now(UTC) + timedelta(seconds=1)
    task = create(api, reminders=[{"at": iso(at)}])
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.1)

    # Due now, and the worker has not run yet; an edit form sends the task back.
    edited = api.put(
        f"/api/me/tasks/{task['id']}",
        {"title": "Call the dentist", "reminders": task["reminders"]},
        format="json",
    )

    assert edited.json()["reminders"][0]["remind_at"] == iso(at)
    assert fire_due(now=at + timedelta(seconds=20)) == 1
