"""`/api/push/public-key` and `/api/{user_id}/push-subscriptions`: a browser subscribes to
reminders; support staff see the subscriptions by host alone."""

import base64
import re
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from delivery import push
from delivery.models import PushFailure, PushOutcome, PushSubscription
from delivery.services import MAX_PUSH_SUBSCRIPTIONS
from testing.push_service import b64url, browser_subscription

pytestmark = pytest.mark.django_db

ENDPOINT = "https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN"


def subscription_json(endpoint: str = ENDPOINT) -> dict[str, Any]:
    return browser_subscription(endpoint).to_json()


def test_the_public_key_needs_no_token_and_is_the_vapid_keys_point() -> None:
    response = APIClient().get("/api/push/public-key")

    assert response.status_code == 200
    point = base64.urlsafe_b64decode(response.json()["public_key"] + "=")
    key = push.signing_key()
    assert key is not None
    expected = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert point == expected
    assert len(point) == 65
    assert "=" not in response.json()["public_key"]


def test_without_a_vapid_key_the_public_key_is_503(settings: Any) -> None:
    settings.VAPID_PRIVATE_KEY = ""

    response = APIClient().get("/api/push/public-key")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "VAPID_PRIVATE_KEY" in response.json()["detail"]
    assert "are off on this server" in response.json()["detail"]


def test_without_a_vapid_key_subscribing_is_503_saying_push_is_off(
    api: APIClient, settings: Any
) -> None:
    settings.VAPID_PRIVATE_KEY = ""

    response = api.post("/api/me/push-subscriptions", subscription_json(), format="json")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "are off on this server" in response.json()["detail"]
    assert not PushSubscription.objects.exists()


def test_generate_vapid_keys_prints_a_pair_the_service_takes(settings: Any) -> None:
    printed = StringIO()

    call_command("generate_vapid_keys", stdout=printed)

    private_line, public_line = printed.getvalue().splitlines()
    settings.VAPID_PRIVATE_KEY = private_line.removeprefix("VAPID_PRIVATE_KEY=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", settings.VAPID_PRIVATE_KEY)
    assert public_line.endswith(f": {push.public_key()}")
    assert APIClient().get("/api/push/public-key").json()["public_key"] == push.public_key()


def test_the_public_key_is_rate_limited_as_anonymous_calls_are(settings: Any) -> None:
    settings.RATE_LIMIT_ANON = "2/m"
    client = APIClient()

    statuses = [client.get("/api/push/public-key").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_new_subscription_is_201_with_its_location(api: APIClient, user_id: str) -> None:
    response = api.post(f"/api/{user_id}/push-subscriptions", subscription_json(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "endpoint", "created_at"}
    assert body["endpoint"] == ENDPOINT
    assert response["Location"].endswith(f"/api/{user_id}/push-subscriptions/{body['id']}")
    assert PushSubscription.objects.get(id=body["id"]).user_id == user_id


def test_the_same_endpoint_again_is_200_with_the_keys_renewed(api: APIClient) -> None:
    first = api.post("/api/me/push-subscriptions", subscription_json(), format="json").json()
    renewed = subscription_json()

    response = api.post("/api/me/push-subscriptions", renewed, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    stored = PushSubscription.objects.get(id=first["id"])
    assert (stored.p256dh, stored.auth) == (renewed["keys"]["p256dh"], renewed["keys"]["auth"])
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize("expiration", [None, 1767225600000, 1767225600000.5])
def test_expiration_time_is_ignored(api: APIClient, expiration: Any) -> None:
    body = {**subscription_json(), "expirationTime": expiration}

    assert api.post("/api/me/push-subscriptions", body, format="json").status_code == 201


def test_the_list_never_shows_the_keys(api: APIClient) -> None:
    api.post("/api/me/push-subscriptions", subscription_json(), format="json")
    api.post("/api/me/push-subscriptions", subscription_json(f"{ENDPOINT}-2"), format="json")

    response = api.get("/api/me/push-subscriptions")

    assert response.status_code == 200
    assert [item["endpoint"] for item in response.json()] == [ENDPOINT, f"{ENDPOINT}-2"]
    assert all(set(item) == {"id", "endpoint", "created_at"} for item in response.json())


def test_delete_is_204_and_then_404(api: APIClient) -> None:
    created = api.post("/api/me/push-subscriptions", subscription_json(), format="json").json()

    assert api.delete(f"/api/me/push-subscriptions/{created['id']}").status_code == 204
    assert api.delete(f"/api/me/push-subscriptions/{created['id']}").status_code == 404
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("raw", ["0", "abc", "9" * 40, "-1", "\uff11"])
def test_an_id_that_names_nothing_is_404(api: APIClient, raw: str) -> None:
    assert api.delete(f"/api/me/push-subscriptions/{raw}").status_code == 404


def test_another_users_subscription_is_404_and_stays(
    api: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    theirs = client_for("someone-else").post(
        "/api/me/push-subscriptions", subscription_json(), format="json"
    )

    response = api.delete(f"/api/me/push-subscriptions/{theirs.json()['id']}")

    assert response.status_code == 404
    assert PushSubscription.objects.filter(id=theirs.json()["id"]).exists()


def test_an_endpoint_subscribed_by_another_user_moves_to_them(
    api: APIClient, user_id: str, client_for: Callable[[str], APIClient]
) -> None:
    """One browser, two users in turn: the first's reminders stop showing up there."""
    client_for("someone-else").post(
        "/api/me/push-subscriptions", subscription_json(), format="json"
    )

    response = api.post("/api/me/push-subscriptions", subscription_json(), format="json")

    assert response.status_code == 201
    assert list(PushSubscription.objects.values_list("user_id", flat=True)) == [user_id]


def test_other_users_routes_are_403_and_no_token_is_401(api: APIClient) -> None:
    assert api.get("/api/someone-else/push-subscriptions").status_code == 403
    assert APIClient().get("/api/me/push-subscriptions").status_code == 401
    assert (
        APIClient().post("/api/me/push-subscriptions", subscription_json(), format="json")
    ).status_code == 401


def test_a_user_holds_at_most_the_cap(api: APIClient) -> None:
    for n in range(MAX_PUSH_SUBSCRIPTIONS):
        body = subscription_json(f"{ENDPOINT}-{n}")
        assert api.post("/api/me/push-subscriptions", body, format="json").status_code == 201

    beyond = api.post("/api/me/push-subscriptions", subscription_json(), format="json")
    again = api.post(
        "/api/me/push-subscriptions", subscription_json(f"{ENDPOINT}-0"), format="json"
    )

    assert beyond.status_code == 409
    assert beyond["Content-Type"] == "application/problem+json"
    assert again.status_code == 200
    assert PushSubscription.objects.count() == MAX_PUSH_SUBSCRIPTIONS


def _with_keys(**keys: str) -> dict[str, Any]:
    body = subscription_json()
    body["keys"].update(keys)
    return body


def _with_endpoint(endpoint: Any) -> dict[str, Any]:
    return {**subscription_json(), "endpoint": endpoint}


NOT_ON_THE_CURVE = b64url(b"\x04" + b"\x01" * 64)
COMPRESSED = b64url(b"\x02" + b"\x01" * 32)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with_endpoint("http://push.example.com/x"), "endpoint"),
        (_with_endpoint("https://10.0.0.1/x"), "endpoint"),
        (_with_endpoint("https://[::1]/x"), "endpoint"),
        (_with_endpoint("https://localhost/x"), "endpoint"),
        (_with_endpoint("http://127.0.0.1:8080/x"), "endpoint"),
        (_with_endpoint("https://user:secret@push.example.com/x"), "endpoint"),
        (_with_endpoint("https://push.example.com:99999/x"), "endpoint"),
        (_with_endpoint("https://[not-an-address/x"), "endpoint"),
        (_with_endpoint("push.example.com/x"), "endpoint"),
        (_with_endpoint("https:///x"), "endpoint"),
        (_with_endpoint("https://push.example.com/a b"), "endpoint"),
        (_with_endpoint("https://push.example.com/é"), "endpoint"),
        (_with_endpoint("https://push.example.com/" + "x" * 2030), "endpoint"),
        (_with_endpoint(42), "endpoint"),
        (_with_keys(p256dh="not base64!"), "keys.p256dh"),
        (_with_keys(p256dh=NOT_ON_THE_CURVE), "keys.p256dh"),
        (_with_keys(p256dh=COMPRESSED), "keys.p256dh"),
        (_with_keys(p256dh=b64url(b"\x04" + b"\x01" * 63)), "keys.p256dh"),
        (_with_keys(auth=b64url(b"x" * 15)), "keys.auth"),
        (_with_keys(auth="a+b/"), "keys.auth"),
        ({"endpoint": ENDPOINT}, "keys"),
        ({"keys": subscription_json()["keys"]}, "endpoint"),
    ],
)
def test_a_bad_subscription_is_400_naming_the_field(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/me/push-subscriptions", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(f"{field}:")
    assert not PushSubscription.objects.exists()


def test_loopback_endpoints_are_taken_when_allowed(api: APIClient, settings: Any) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True
    endpoints = ["http://127.0.0.1:8080/push/a", "http://[::1]:8080/push/b", "http://localhost/c"]

    statuses = [
        api.post("/api/me/push-subscriptions", subscription_json(e), format="json").status_code
        for e in endpoints
    ]

    assert statuses == [201, 201, 201]


# --- The admin -------------------------------------------------------------------------


def test_support_sees_subscriptions_by_host_alone(support: Client, api: APIClient) -> None:
    body = subscription_json()
    created = api.post("/api/me/push-subscriptions", body, format="json").json()

    listing = support.get(reverse("admin:delivery_pushsubscription_changelist")).content.decode()
    page = support.get(
        reverse("admin:delivery_pushsubscription_change", args=[created["id"]])
    ).content.decode()

    for html in (listing, page):
        assert "fcm.googleapis.com" in html
        assert "dpH5lCsTSSM" not in html
        assert body["keys"]["p256dh"] not in html
        assert body["keys"]["auth"] not in html
    assert 'name="endpoint"' not in page


def test_support_sees_failures_newest_first(support: Client, api: APIClient, user_id: str) -> None:
    api.get("/api/me/push-subscriptions")  # the user's mirror row
    for host, reason in [("old.example", "HTTP 500"), ("new.example", "HTTP 503")]:
        PushFailure.objects.create(
            user_id=user_id, endpoint_host=host, outcome=PushOutcome.GIVEN_UP, reason=reason
        )

    listing = support.get(reverse("admin:delivery_pushfailure_changelist")).content.decode()

    assert listing.index("new.example") < listing.index("old.example")
    assert support.get(reverse("admin:delivery_pushfailure_add")).status_code == 403
