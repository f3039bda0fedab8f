"""A fired reminder's trail to the browsers, as support staff see it in the admin: how
many browsers its push was queued for (or why none), and each attempt with the push
service's host and answer, never an endpoint's path or keys."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from delivery import push
from delivery.models import PushAttempt, PushFailure, PushOutcome, PushSubscription
from delivery.reminders import fire_due
from tasks.models import Notification, NotPushed
from testing.live import free_port
from testing.push_service import (
    BrowserSubscription,
    PushService,
    browser_subscription,
    running_push_service,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback(settings: Any) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True


@pytest.fixture
def service(loopback: None) -> Iterator[PushService]:
    with running_push_service(push.public_key() or "") as running:
        yield running


@pytest.fixture
def failing_service(loopback: None) -> Iterator[PushService]:
    """A second push service (on 127.0.0.1 too), to answer what the test says."""
    with running_push_service(push.public_key() or "") as running:
        yield running


def subscribe(user_id: str, browser: BrowserSubscription) -> PushSubscription:
    return PushSubscription.objects.create(
        user_id=user_id, endpoint=browser.endpoint, **browser.to_json()["keys"]
    )


def fire_a_reminder(api: APIClient, *, late: bool = False) -> Notification:
    """Create a task with a reminder due soon, and fire it (after the grace, if late)."""
    at = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    reminder = {"at": at.isoformat().replace("+00:00", "Z")}
    body = {"title": "Water the plants", "reminders": [reminder]}
    response = api.post("/api/me/tasks", body, format="json")
    assert response.status_code == 201, response.json()
    assert fire_due(now=at + timedelta(minutes=61 if late else 0)) == 1
    return Notification.objects.get()


def page(client: Client, name: str, *args: Any, query: str = "") -> str:
    response = client.get(reverse(f"admin:{name}", args=args) + query)
    assert response.status_code == 200, name
    return response.content.decode()


# --- Queued for how many browsers, or why none ---------------------------------------------


def test_a_reminder_of_a_user_without_a_subscription_is_queued_for_none_and_says_why(
    api: APIClient, support: Client
) -> None:
    notification = fire_a_reminder(api)

    assert (notification.pushes, notification.not_pushed) == (0, NotPushed.NO_SUBSCRIPTION)
    assert "not pushed: no subscription" in page(
        support, "tasks_notification_change", notification.id
    )
    assert not PushAttempt.objects.exists()


def test_with_push_off_a_reminder_says_so(api: APIClient, user_id: str, settings: Any) -> None:
    subscribe(user_id, browser_subscription("https://push.example.com/send/abc"))
    settings.VAPID_PRIVATE_KEY = ""

    notification = fire_a_reminder(api)

    assert (notification.pushes, notification.not_pushed) == (0, NotPushed.PUSH_OFF)


def test_a_late_reminder_says_it_was_late_not_that_nobody_subscribed(
    api: APIClient, user_id: str, support: Client
) -> None:
    subscribe(user_id, browser_subscription("https://push.example.com/send/abc"))

    notification = fire_a_reminder(api, late=True)

    assert (notification.pushes, notification.not_pushed) == (0, NotPushed.LATE)
    assert "not pushed: late beyond REMINDER_GRACE_MINUTES" in page(
        support, "tasks_notification_changelist", query=f"?user__id__exact={notification.user_id}"
    )


def test_a_reminder_is_queued_for_each_of_the_users_browsers(api: APIClient, user_id: str) -> None:
    for name in ("a", "b"):
        subscribe(user_id, browser_subscription(f"https://push.example.com/send/{name}"))

    notification = fire_a_reminder(api)

    assert (notification.pushes, notification.not_pushed) == (2, "")


# --- Each attempt and its answer -------------------------------------------------------------


@pytest.fixture
def trail(
    api: APIClient, user_id: str, service: PushService, failing_service: PushService
) -> tuple[Notification, PushSubscription, PushSubscription, list[BrowserSubscription]]:
    """A reminder queued for two browsers: one takes it at once, the other's push
    service answers 500, then 410 to the retry."""
    browsers = [service.subscribe(), failing_service.subscribe()]
    good, bad = (subscribe(user_id, browser) for browser in browsers)
    failing_service.answer(500)
    failing_service.answer(410)
    notification = fire_a_reminder(api)
    now = notification.fired_at

    assert push.deliver_due(now=now) == 2
    assert push.deliver_due(now=now + timedelta(seconds=30)) == 1
    return notification, good, bad, browsers


def test_the_trail_keeps_each_attempt_and_its_answer(trail: Any) -> None:
    notification, good, bad, _ = trail

    attempts = sorted(
        PushAttempt.objects.filter(notification=notification).values_list(
            "created_at", "subscription_id", "endpoint_host", "status_code", "outcome"
        )
    )

    fired = notification.fired_at
    assert attempts == [
        (fired, good.id, "127.0.0.1", 201, PushOutcome.DELIVERED),
        (fired, bad.id, "127.0.0.1", 500, PushOutcome.RETRYING),
        (fired + timedelta(seconds=30), bad.id, "127.0.0.1", 410, PushOutcome.GONE),
    ]
    assert list(PushSubscription.objects.all()) == [good]


def test_the_failures_list_is_the_failed_attempts_each_written_once(trail: Any) -> None:
    failures = PushFailure.objects.order_by("created_at").values_list("status_code", "reason")

    assert list(failures) == [
        (500, "HTTP 500; retrying in 30 s"),
        (410, "the subscription is gone; removed"),
    ]
    assert PushAttempt.objects.count() == 3


def test_support_sees_the_trail_by_host_never_the_path_or_keys(trail: Any, support: Client) -> None:
    notification, _, bad, browsers = trail

    shown = [
        page(support, "tasks_notification_change", notification.id),
        page(support, "tasks_notification_changelist", query=f"?q={notification.user_id}"),
        page(
            support,
            "delivery_pushattempt_changelist",
            query=f"?notification__id__exact={notification.id}",
        ),
        page(support, "delivery_pushfailure_changelist"),
        page(support, "accounts_betterauthuser_change", notification.user_id),
    ]

    trail_page, listing, attempts, failures, user_page = shown
    assert "queued for 2 browsers" in trail_page
    for answer in (
        "HTTP 201",
        "HTTP 500",
        "HTTP 410",
        "Delivered",
        "Retrying",
        "gone: subscription removed",
    ):
        assert answer in trail_page
        assert answer in attempts
    assert f"browser {bad.id}" in trail_page
    assert "3 attempts, 1 delivered" in listing
    assert "HTTP 201" not in failures
    assert reverse("admin:tasks_notification_changelist") in user_page
    secrets = [
        part
        for browser in browsers
        for part in (browser.endpoint.split("/push/")[1], *browser.to_json()["keys"].values())
    ]
    for html in (trail_page, attempts, failures):
        assert "127.0.0.1" in html
    for html in shown:
        for secret in secrets:
            assert secret not in html


def test_an_attempt_that_got_no_answer_says_so(
    api: APIClient, user_id: str, support: Client, loopback: None
) -> None:
    subscribe(user_id, browser_subscription(f"http://127.0.0.1:{free_port()}/push/nobody-home"))
    notification = fire_a_reminder(api)

    push.deliver_due(now=notification.fired_at)

    attempt = PushAttempt.objects.get()
    assert (attempt.notification_id, attempt.status_code) == (notification.id, None)
    assert attempt.outcome == PushOutcome.RETRYING
    assert "no answer" in page(support, "tasks_notification_change", notification.id)


def test_a_push_that_is_no_reminder_names_no_notification(
    service: PushService, user_id: str, api: APIClient
) -> None:
    api.get("/api/me/notifications")  # the user's mirror row
    subscribe(user_id, service.subscribe())
    push.enqueue(user_id=user_id, payload={"type": "hello"}, topic="hello", ttl=60)

    push.deliver_due()

    assert PushAttempt.objects.get().notification_id is None


# --- What was kept before -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_failures_and_notifications_kept_before_join_the_trail() -> None:
    before = [("delivery", "0004_support_sees_delivery"), ("tasks", "0019_task_changed_via")]
    after = [("delivery", "0005_push_attempts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("accounts", "BetterAuthUser").objects.create(id="ann")
    # The database gives each user an Inbox (tasks migration 0017).
    inbox = old.get_model("tasks", "TaskList").objects.get(user=user, is_inbox=True)
    task = old.get_model("tasks", "Task").objects.create(user=user, list=inbox, title="t")
    fired = datetime(2030, 1, 1, tzinfo=UTC)
    for pushed in (True, False):
        old.get_model("tasks", "Notification").objects.create(
            user=user, task=task, title="t", remind_at=fired, fired_at=fired, pushed=pushed
        )
    for reason in (
        "HTTP 500; retrying in 30 s",
        "the subscription is gone; removed",
        "gave up after 3 attempts: HTTP 500",
        "refused: push.example.net resolves to 10.0.0.1",
    ):
        old.get_model("delivery", "PushFailure").objects.create(
            user=user, endpoint_host="push.example.com", reason=reason
        )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps

    notifications = new.get_model("tasks", "Notification").objects.order_by("id")
    assert [(n.pushes, n.not_pushed) for n in notifications] == [(None, ""), (0, "late")]
    attempts = new.get_model("delivery", "PushAttempt").objects.order_by("id")
    assert [a.outcome for a in attempts] == ["retrying", "gone", "given_up", "refused"]

    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
