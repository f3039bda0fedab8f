"""Webhooks delivered by the delivery loop (contract Part 6) to a receiver on loopback:
Standard Webhooks headers and signatures, retries under the same `webhook-id` and the
webhook disabled after the last, in order per task, no redirect followed, the address
rules, the total deadline, and fairness between users."""

import base64
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook as Verifier

from accounts.tests.factories import UserFactory
from delivery.loop import DeliveryLoop
from delivery.models import Delivery, Webhook
from testing.receiver import Receiver, running_receiver

pytestmark = pytest.mark.django_db

ALL = ["task.created", "task.updated", "task.completed", "task.deleted", "task.restored"]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.PUSH_ALLOW_LOOPBACK = True
    with running_receiver() as running:
        yield running


def hook(user_id: str, url: str, events: list[str] = ALL) -> Webhook:
    UserFactory.create(id=user_id)
    return Webhook.objects.create(user_id=user_id, url=url, events=events, secret=new_secret())


def test_a_change_reaches_the_webhook_signed_as_standard_webhooks_say(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop
) -> None:
    webhook = hook(user_id, receiver.url + "/hook")
    task = api.post("/api/me/tasks", {"title": "Water the ferns"}, format="json").json()

    loop.drain()

    (request,) = receiver.to("/hook")
    body = Verifier(webhook.secret).verify(request.body, request.headers)
    assert body["type"] == "task.created"
    assert body["data"] == task
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    assert request.headers["webhook-signature"].startswith("v1,")
    assert not Delivery.objects.exists()


def test_only_the_types_it_wants_and_only_its_users(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop
) -> None:
    hook(user_id, receiver.url + "/mine", ["task.completed"])
    hook("someone-else", receiver.url + "/theirs")
    task = api.post("/api/me/tasks", {"title": "Call Ada"}, format="json").json()
    api.patch(f"/api/me/tasks/{task['id']}", {"completed": True}, format="json")

    loop.drain()

    assert [request.path for request in receiver.received] == ["/mine"]


def test_a_failure_is_retried_with_the_same_id_then_the_webhook_is_disabled(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE = (0.0, 0.0)
    webhook = hook(user_id, receiver.url + "/down")
    receiver.answer("/down", status=500)
    api.post("/api/me/tasks", {"title": "Lost?"}, format="json")

    loop.drain()

    attempts = receiver.to("/down")
    assert len(attempts) == 3  # the first, and one after each delay
    assert len({request.headers["webhook-id"] for request in attempts}) == 1
    webhook.refresh_from_db()
    assert webhook.disabled_at is not None
    assert not Delivery.objects.exists()


def test_re_enabling_sends_what_waited_with_a_fresh_schedule(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE = (0.0, 3600.0)
    webhook = hook(user_id, receiver.url + "/flaky")
    receiver.answer("/flaky", status=500)
    first = api.post("/api/me/tasks", {"title": "One"}, format="json").json()
    api.patch(f"/api/me/tasks/{first['id']}", {"title": "One, renamed"}, format="json")
    loop.drain(timeout=2)
    Delivery.objects.update(next_attempt_at=timezone.now())
    loop.drain(timeout=2)  # the created's last try: the webhook is disabled
    webhook.refresh_from_db()
    assert webhook.disabled_at is not None
    receiver.answer("/flaky", status=204)

    response = api.patch(f"/api/me/webhooks/{webhook.id}", {"enabled": True}, format="json")
    loop.drain()

    assert response.status_code == 200
    assert b"task.updated" in receiver.to("/flaky")[-1].body
    assert not Delivery.objects.exists()


def test_a_disabled_webhook_gets_nothing_until_it_is_enabled(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop
) -> None:
    webhook = hook(user_id, receiver.url + "/paused")
    Webhook.objects.filter(id=webhook.id).update(disabled_at=timezone.now())
    api.post("/api/me/tasks", {"title": "Later"}, format="json")
    loop.drain()
    assert receiver.received == []


def test_one_tasks_deliveries_go_in_order_and_wait_for_a_failed_one(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE = (3600.0,)
    hook(user_id, receiver.url + "/hook")
    receiver.answer("/hook", status=503)
    first = api.post("/api/me/tasks", {"title": "First"}, format="json").json()
    api.patch(f"/api/me/tasks/{first['id']}", {"title": "First, renamed"}, format="json")

    loop.drain()

    (attempt,) = receiver.received  # the update waits behind the created, due in an hour
    assert b"task.created" in attempt.body
    Delivery.objects.filter(attempts=1).update(next_attempt_at=timezone.now())
    receiver.answer("/hook", status=204)
    loop.drain()
    assert [request.body.split(b'"')[3] for request in receiver.received] == [
        b"task.created",
        b"task.created",
        b"task.updated",
    ]


def test_a_redirect_is_not_followed(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop
) -> None:
    hook(user_id, receiver.url + "/moved")
    receiver.answer("/moved", status=307, location=receiver.url + "/elsewhere")
    api.post("/api/me/tasks", {"title": "Stay"}, format="json")

    loop.drain(timeout=2)

    assert receiver.to("/elsewhere") == []
    (delivery,) = Delivery.objects.all()
    assert delivery.attempts == 1
    assert delivery.last_error.endswith("HTTP 307")


def test_a_loopback_url_is_refused_without_push_allow_loopback(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    hook(user_id, receiver.url + "/hook")
    settings.PUSH_ALLOW_LOOPBACK = False
    api.post("/api/me/tasks", {"title": "Nowhere"}, format="json")

    loop.drain(timeout=2)

    assert receiver.received == []
    assert "not an https URL" in Delivery.objects.get().last_error


def test_a_tarpit_is_cut_off_at_the_deadline(
    api: APIClient, user_id: str, receiver: Receiver, loop: DeliveryLoop, settings: Any
) -> None:
    settings.DELIVERY_TIMEOUT_SECONDS = 1.0
    hook(user_id, receiver.url + "/tarpit")
    receiver.answer("/tarpit", drip=0.3)  # a byte every 0.3 s: each read well inside 1 s
    api.post("/api/me/tasks", {"title": "Slowly"}, format="json")

    started = time.monotonic()
    loop.drain(timeout=10)

    assert time.monotonic() - started < 3
    assert "no answer within the deadline" in Delivery.objects.get().last_error


def test_one_users_backlog_does_not_hold_back_anothers(
    user_id: str, receiver: Receiver, loop: DeliveryLoop
) -> None:
    """2,000 deliveries queued for one user, to a receiver that takes 20 ms each; one
    for another user, queued last, goes out within the loop's first turns."""
    busy = hook("busy-user", receiver.url + "/busy")
    receiver.answer("/busy", delay=0.02)
    Delivery.objects.bulk_create(
        Delivery(
            user_id="busy-user",
            webhook=busy,
            queue=f"webhook:{busy.id}",
            subject=f"task:{n}",
            message_id=f"msg_{n}",
            type="task.updated",
            body="{}",
        )
        for n in range(2000)
    )
    other = hook(user_id, receiver.url + "/other")
    Delivery.objects.create(
        user_id=user_id,
        webhook=other,
        queue=f"webhook:{other.id}",
        subject="task:1",
        message_id="msg_other",
        type="task.updated",
        body="{}",
    )

    started = time.monotonic()
    while not receiver.to("/other") and time.monotonic() - started < 60:
        loop.turn()
        time.sleep(0.01)

    (delivered,) = receiver.to("/other")
    assert delivered.at - started < 5
    assert len(receiver.to("/busy")) < 2000
