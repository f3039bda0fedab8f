"""Support staff in the Django admin see a user's activity, webhooks and waiting
deliveries, and change nothing; a webhook's secret is shown to nobody, its URL in the
list by host alone; a superuser may re-enable a disabled webhook."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from delivery import services
from delivery.models import Delivery, Event, Webhook

pytestmark = pytest.mark.django_db

SECRET = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1zaG93"
URL = "https://hooks.example.com/t/s3cr3t-path-token"


@pytest.fixture
def customer() -> Any:
    return UserFactory.create(id="Yk3uJ0bq8XyW2mQp", email="ann@example.com")


@pytest.fixture
def webhook(customer: Any) -> Webhook:
    return Webhook.objects.create(user=customer, url=URL, events=["task.created"], secret=SECRET)


def page(client: Client, name: str, *args: Any, query: str = "") -> str:
    response = client.get(reverse(f"admin:{name}", args=args) + query)
    assert response.status_code == 200, name
    return response.content.decode()


def test_support_sees_a_webhook_by_host_and_never_its_secret(
    support: Client, webhook: Webhook
) -> None:
    listing = page(support, "delivery_webhook_changelist")
    detail = page(support, "delivery_webhook_change", webhook.id)

    assert "hooks.example.com" in listing
    assert "s3cr3t-path-token" not in listing
    for shown in (listing, detail):
        assert SECRET not in shown
        assert "secret" not in shown.lower()


def test_nobody_sees_a_webhooks_secret(admin_client: Client, webhook: Webhook) -> None:
    for shown in (
        page(admin_client, "delivery_webhook_changelist"),
        page(admin_client, "delivery_webhook_change", webhook.id),
        page(admin_client, "delivery_webhook_changelist", query="?q=whsec_"),
    ):
        assert SECRET not in shown


def test_a_disabled_webhook_shows_when(support: Client, webhook: Webhook) -> None:
    Webhook.objects.filter(id=webhook.id).update(disabled_at=timezone.now())

    listing = page(support, "delivery_webhook_changelist", query="?disabled_at__isempty=0")

    assert "hooks.example.com" in listing
    assert "icon-no" in listing  # the `enabled` column's false


def test_support_cannot_change_delete_or_re_enable_a_webhook(
    support: Client, webhook: Webhook
) -> None:
    Webhook.objects.filter(id=webhook.id).update(disabled_at=timezone.now())

    changed = support.post(
        reverse("admin:delivery_webhook_change", args=[webhook.id]), {"url": "https://x.org/"}
    )
    deleted = support.post(reverse("admin:delivery_webhook_delete", args=[webhook.id]))
    re_enabled = support.post(
        reverse("admin:delivery_webhook_changelist"),
        {"action": "re_enable", "_selected_action": [webhook.id]},
    )

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert re_enabled.status_code in (200, 302)
    webhook.refresh_from_db()
    assert webhook.url == URL
    assert webhook.disabled_at is not None


def test_a_superuser_re_enables_a_disabled_webhook(admin_client: Client, webhook: Webhook) -> None:
    Webhook.objects.filter(id=webhook.id).update(disabled_at=timezone.now())

    response = admin_client.post(
        reverse("admin:delivery_webhook_changelist"),
        {"action": "re_enable", "_selected_action": [webhook.id]},
    )

    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.disabled_at is None


def test_support_reads_a_users_activity_from_their_page(support: Client, customer: Any) -> None:
    mine = Event.objects.create(
        user=customer, type="task.created", task_id=1, title="Buy oat milk", data={}, source="mcp"
    )
    UserFactory.create(id="someone-else")
    Event.objects.create(
        user_id="someone-else", type="task.created", title="Not hers", data={}, source="api"
    )

    user_page = page(support, "accounts_betterauthuser_change", customer.id)
    listing_url = reverse("admin:delivery_event_changelist") + f"?user__id__exact={customer.id}"
    listing = support.get(listing_url).content.decode()
    detail = page(support, "delivery_event_change", mine.id)

    assert listing_url in user_page
    assert "Buy oat milk" in listing
    assert "Not hers" not in listing
    assert "Buy oat milk" in detail


@pytest.mark.parametrize("query", ["ann@example.com", "Yk3uJ0bq8XyW2mQp"])
def test_support_finds_a_users_activity_by_email_or_id(
    support: Client, customer: Any, query: str
) -> None:
    Event.objects.create(
        user=customer, type="list.created", list_id=3, title="Groceries", data={}, source="api"
    )

    listing = page(support, "delivery_event_changelist", query=f"?q={query}")

    assert "Groceries" in listing


def test_the_activity_of_a_deleted_user_is_still_listed(support: Client) -> None:
    Event.objects.create(
        user_id="gone-user", type="task.deleted", task_id=9, title="Orphan", data={}, source="api"
    )

    assert "Orphan" in page(support, "delivery_event_changelist")
    assert "Orphan" in page(support, "delivery_event_changelist", query="?q=gone-user")


def test_support_filters_the_activity_by_type_and_source(support: Client, customer: Any) -> None:
    for event_type, source, title in (
        ("task.created", "api", "Made by API"),
        ("task.completed", "chat", "Done in chat"),
    ):
        Event.objects.create(
            user=customer, type=event_type, task_id=1, title=title, data={}, source=source
        )

    by_type = page(support, "delivery_event_changelist", query="?type__exact=task.completed")
    by_source = page(support, "delivery_event_changelist", query="?source__exact=api")

    assert "Done in chat" in by_type
    assert "Made by API" not in by_type
    assert "Made by API" in by_source
    assert "Done in chat" not in by_source


def test_support_cannot_change_or_delete_an_event(support: Client, customer: Any) -> None:
    made = Event.objects.create(
        user=customer, type="task.created", task_id=1, title="Kept", data={}, source="api"
    )

    changed = support.post(reverse("admin:delivery_event_change", args=[made.id]), {"title": "X"})
    deleted = support.post(reverse("admin:delivery_event_delete", args=[made.id]))

    assert changed.status_code == 403
    assert deleted.status_code == 403
    made.refresh_from_db()
    assert made.title == "Kept"


def test_support_sees_a_waiting_delivery_and_cannot_touch_it(
    support: Client, webhook: Webhook
) -> None:
    delivery = services.ping(webhook)
    Delivery.objects.filter(id=delivery.id).update(attempts=3, last_error="HTTP 502")

    listing = page(support, "delivery_delivery_changelist")
    detail = page(support, "delivery_delivery_change", delivery.id)
    deleted = support.post(reverse("admin:delivery_delivery_delete", args=[delivery.id]))

    assert f"webhook:{webhook.id}" in listing
    assert "HTTP 502" in listing
    assert delivery.message_id in detail
    assert SECRET not in listing + detail
    assert deleted.status_code == 403
    assert Delivery.objects.filter(id=delivery.id).exists()
