"""`/api/{user_id}/webhooks`: a user's webhooks, created with a secret shown once,
listed and read without it, changed, disabled and re-enabled, deleted, and tested
with a queued ping. Every bad input is a 4xx problem naming it; another user's
webhook is a 404, like a missing one."""

import base64
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from delivery import services
from delivery.models import MAX_WEBHOOKS_PER_USER, Delivery, Webhook
from testing.postgres import needs_postgres

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/todo"
NEW = {"url": URL, "events": ["task.created", "task.completed"]}


def create(api: APIClient, **changes: Any) -> dict[str, Any]:
    response = api.post("/api/me/webhooks", {**NEW, **changes}, format="json")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_a_created_webhook_is_answered_with_its_secret(api: APIClient) -> None:
    response = api.post("/api/me/webhooks", NEW, format="json")

    body = response.json()
    assert response.status_code == 201
    assert response["Location"].endswith(f"/api/me/webhooks/{body['id']}")
    assert body == {
        "id": body["id"],
        "url": URL,
        "events": ["task.created", "task.completed"],
        "enabled": True,
        "disabled_at": None,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
        "secret": body["secret"],
    }
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"), validate=True)) == 24
    assert Webhook.objects.get(id=body["id"]).secret == body["secret"]


def test_each_webhook_has_a_secret_of_its_own(api: APIClient) -> None:
    assert create(api)["secret"] != create(api)["secret"]


def test_the_secret_is_never_shown_again(api: APIClient) -> None:
    made = create(api)

    listed = api.get("/api/me/webhooks")
    read = api.get(f"/api/me/webhooks/{made['id']}")
    changed = api.patch(f"/api/me/webhooks/{made['id']}", {"enabled": False}, format="json")

    assert [found["id"] for found in listed.json()] == [made["id"]]
    for answer in (listed.json()[0], read.json(), changed.json()):
        assert "secret" not in answer
        assert made["secret"] not in json.dumps(answer)


def test_the_secret_is_in_no_log_line(api: APIClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        made = create(api)
        api.post(f"/api/me/webhooks/{made['id']}/test")

    assert made["secret"] not in caplog.text
    assert all(made["secret"] not in str(record.__dict__) for record in caplog.records)


def test_the_list_holds_the_callers_webhooks_alone_oldest_first(
    api: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    create(client_for("someone-else"))
    first, second = create(api), create(api, url="https://other.example.org/hook")

    assert [found["id"] for found in api.get("/api/me/webhooks").json()] == [
        first["id"],
        second["id"],
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/todo",
        "ftp://hooks.example.com/todo",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://192.0.0.8/hook",
        "https://user:password@hooks.example.com/hook",
        "https://hooks.example.com:99999/hook",
        "https:///no-host",
        "https://exa mple.com/hook",
        "https://a..b/hook",
        "not a url",
        "",
        "https://hooks.example.com/\x00",
        "https://hooks.example.com/" + "a" * 2030,
        5,
        None,
        ["https://hooks.example.com/todo"],
    ],
)
def test_a_url_no_webhook_may_go_to_is_a_400_naming_url(api: APIClient, url: Any) -> None:
    response = api.post("/api/me/webhooks", {**NEW, "url": url}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["url"]
    assert not Webhook.objects.exists()


def test_a_refused_url_says_why(api: APIClient) -> None:
    response = api.post("/api/me/webhooks", {**NEW, "url": "https://10.0.0.1/"}, format="json")

    assert "10.0.0.1 is not a public address" in response.json()["errors"]["url"][0]
    assert response.json()["detail"].startswith("url: ")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com",
        "https://hooks.example.com:8443/in?token=abc#frag",
        "https://xn--bcher-kva.example/hook",
        "https://b\u00fccher.example/hook",
        "https://[2606:4700::1111]/hook",
        "https://1.1.1.1/hook",
    ],
)
def test_a_public_https_url_is_taken(api: APIClient, url: str) -> None:
    assert create(api, url=url)["url"] == url


def test_a_loopback_url_is_taken_when_loopback_is_allowed(api: APIClient, settings: Any) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True

    assert create(api, url="http://127.0.0.1:8765/hook")["url"] == "http://127.0.0.1:8765/hook"


@pytest.mark.parametrize(
    "events",
    [
        [],
        ["task.exploded"],
        ["task.created", "task.created"],
        "task.created",
        [["task.created"]],
        [None],
        {"task.created": True},
        None,
        ["task.created"] * 100,
    ],
)
def test_bad_events_are_a_400_naming_events(api: APIClient, events: Any) -> None:
    response = api.post("/api/me/webhooks", {**NEW, "events": events}, format="json")

    assert response.status_code == 400
    assert [name.split(".")[0] for name in response.json()["errors"]] == ["events"]
    assert not Webhook.objects.exists()


def test_an_unknown_event_type_is_named_by_its_place(api: APIClient) -> None:
    events = ["task.created", "task.exploded"]
    response = api.post("/api/me/webhooks", {**NEW, "events": events}, format="json")

    assert list(response.json()["errors"]) == ["events.1"]


def test_every_event_type_may_be_asked_for(api: APIClient) -> None:
    every = [
        "task.created",
        "task.updated",
        "task.completed",
        "task.deleted",
        "task.restored",
        "list.created",
        "list.updated",
        "list.deleted",
        "reminder.fired",
    ]

    assert create(api, events=every)["events"] == every


@pytest.mark.parametrize("body", [{}, {"url": URL}, {"events": ["task.created"]}])
def test_a_new_webhook_needs_its_url_and_events(api: APIClient, body: dict[str, Any]) -> None:
    response = api.post("/api/me/webhooks", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"url", "events"} - set(body)


@pytest.mark.parametrize("body", ["[]", '"text"', "5", "{"])
def test_a_body_that_is_no_object_is_a_400(api: APIClient, body: str) -> None:
    response = api.post("/api/me/webhooks", body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_new_webhook_is_enabled_whatever_it_says(api: APIClient) -> None:
    assert create(api, enabled=False)["enabled"] is True


def test_one_webhook_beyond_the_limit_is_a_409(api: APIClient) -> None:
    for _ in range(MAX_WEBHOOKS_PER_USER):
        create(api)

    response = api.post("/api/me/webhooks", NEW, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "as many webhooks" in response.json()["detail"]
    assert Webhook.objects.count() == MAX_WEBHOOKS_PER_USER


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_never_pass_the_limit(user_id: str) -> None:
    """Each create counts under the owner's row lock: creates racing for the last
    places take turns, and the ones past the limit are refused."""
    UserFactory.create(id=user_id)
    start = threading.Barrier(MAX_WEBHOOKS_PER_USER + 5)
    outcomes: list[str] = []

    def create_one() -> None:
        start.wait()
        try:
            services.webhook_create(user_id=user_id, url=URL, events=["task.created"])
            outcomes.append("created")
        except services.WebhookLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create_one) for _ in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] * MAX_WEBHOOKS_PER_USER + ["refused"] * 5
    assert Webhook.objects.filter(user_id=user_id).count() == MAX_WEBHOOKS_PER_USER


def test_the_limit_is_each_users(api: APIClient, client_for: Callable[[str], APIClient]) -> None:
    other = client_for("someone-else")
    for _ in range(MAX_WEBHOOKS_PER_USER):
        create(other)

    create(api)


def test_a_deleted_webhook_frees_its_place(api: APIClient) -> None:
    made = [create(api) for _ in range(MAX_WEBHOOKS_PER_USER)]

    assert api.delete(f"/api/me/webhooks/{made[0]['id']}").status_code == 204
    create(api)


def test_a_webhook_is_read_without_its_secret(api: APIClient) -> None:
    made = create(api)

    response = api.get(f"/api/me/webhooks/{made['id']}/")

    assert response.status_code == 200
    assert response.json() == {name: value for name, value in made.items() if name != "secret"}


def test_patch_changes_the_url_and_events_and_keeps_the_secret(api: APIClient) -> None:
    made = create(api)
    changes = {"url": "https://other.example.org/in", "events": ["list.created"]}

    response = api.patch(f"/api/me/webhooks/{made['id']}", changes, format="json")

    assert response.status_code == 200
    assert response.json()["url"] == changes["url"]
    assert response.json()["events"] == ["list.created"]
    assert response.json()["updated_at"] > made["updated_at"]
    assert Webhook.objects.get(id=made["id"]).secret == made["secret"]


def test_an_empty_patch_changes_nothing(api: APIClient) -> None:
    made = create(api)

    response = api.patch(f"/api/me/webhooks/{made['id']}", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {name: value for name, value in made.items() if name != "secret"}


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "http://hooks.example.com/"},
        {"url": None},
        {"events": []},
        {"events": ["nope"]},
        {"enabled": "yes"},
        {"enabled": 1},
        {"enabled": None},
    ],
)
def test_a_bad_change_is_a_400_naming_it_and_changes_nothing(
    api: APIClient, changes: dict[str, Any]
) -> None:
    made = create(api)

    response = api.patch(f"/api/me/webhooks/{made['id']}", changes, format="json")

    assert response.status_code == 400
    assert [name.split(".")[0] for name in response.json()["errors"]] == list(changes)
    assert api.get(f"/api/me/webhooks/{made['id']}").json()["updated_at"] == made["updated_at"]


def test_disabling_sets_disabled_at_and_enabling_clears_it(api: APIClient) -> None:
    made = create(api)
    path = f"/api/me/webhooks/{made['id']}"

    disabled = api.patch(path, {"enabled": False}, format="json").json()
    enabled = api.patch(path, {"enabled": True}, format="json").json()

    assert disabled["enabled"] is False
    assert disabled["disabled_at"] is not None
    assert enabled["enabled"] is True
    assert enabled["disabled_at"] is None


def test_a_webhook_disabled_by_failed_deliveries_is_re_enabled_by_patch(api: APIClient) -> None:
    made = create(api)
    Webhook.objects.filter(id=made["id"]).update(disabled_at=timezone.now())
    path = f"/api/me/webhooks/{made['id']}"
    assert api.get(path).json()["enabled"] is False

    response = api.patch(path, {"enabled": True}, format="json")

    assert response.json()["enabled"] is True
    assert Webhook.objects.get(id=made["id"]).disabled_at is None


def test_disabling_a_disabled_webhook_keeps_when_it_was_disabled(api: APIClient) -> None:
    made = create(api)
    path = f"/api/me/webhooks/{made['id']}"
    first = api.patch(path, {"enabled": False}, format="json").json()

    again = api.patch(path, {"enabled": False}, format="json").json()

    assert again["disabled_at"] == first["disabled_at"]
    assert again["updated_at"] == first["updated_at"]


def test_delete_removes_the_webhook_and_its_deliveries(api: APIClient) -> None:
    made = create(api)
    api.post(f"/api/me/webhooks/{made['id']}/test")

    response = api.delete(f"/api/me/webhooks/{made['id']}")

    assert response.status_code == 204
    assert api.get(f"/api/me/webhooks/{made['id']}").status_code == 404
    assert not Delivery.objects.exists()


def test_a_test_queues_a_ping_delivery(api: APIClient, user_id: str) -> None:
    made = create(api)

    response = api.post(f"/api/me/webhooks/{made['id']}/test")

    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert response.json() == {"queued": True, "message_id": delivery.message_id}
    assert delivery.message_id.startswith("msg_")
    assert (delivery.user_id, delivery.webhook_id) == (user_id, made["id"])
    assert (delivery.queue, delivery.subject, delivery.type) == (
        f"webhook:{made['id']}",
        "ping",
        "ping",
    )
    assert delivery.attempts == 0
    assert delivery.next_attempt_at <= timezone.now()
    body = json.loads(delivery.body)
    assert body["type"] == "ping"
    assert body["data"] == {"webhook_id": made["id"]}
    assert body["timestamp"].endswith("Z")


def test_each_test_is_a_message_of_its_own(api: APIClient) -> None:
    made = create(api)

    first = api.post(f"/api/me/webhooks/{made['id']}/test").json()
    second = api.post(f"/api/me/webhooks/{made['id']}/test").json()

    assert first["message_id"] != second["message_id"]
    assert Delivery.objects.count() == 2


def test_testing_a_disabled_webhook_is_a_409_and_queues_nothing(api: APIClient) -> None:
    made = create(api)
    api.patch(f"/api/me/webhooks/{made['id']}", {"enabled": False}, format="json")

    response = api.post(f"/api/me/webhooks/{made['id']}/test")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "re-enable" in response.json()["detail"]
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("post", "/test")],
)
def test_another_users_webhook_is_a_404_like_a_missing_one(
    api: APIClient, client_for: Callable[[str], APIClient], method: str, suffix: str
) -> None:
    theirs = create(client_for("someone-else"))

    for webhook_id in (theirs["id"], theirs["id"] + 1000, "abc", "9" * 30, "0", "-1"):
        response = getattr(api, method)(
            f"/api/me/webhooks/{webhook_id}{suffix}", {"enabled": False}, format="json"
        )
        assert response.status_code == 404, webhook_id
        assert response["Content-Type"] == "application/problem+json"
    stored = Webhook.objects.get(id=theirs["id"])
    assert stored.disabled_at is None
    assert not Delivery.objects.exists()


def test_another_users_path_is_a_403(api: APIClient) -> None:
    assert api.get("/api/someone-else/webhooks").status_code == 403
    assert api.post("/api/someone-else/webhooks", NEW, format="json").status_code == 403


def test_without_a_token_every_route_is_a_401() -> None:
    client = APIClient()

    for response in (
        client.get("/api/me/webhooks"),
        client.post("/api/me/webhooks", NEW, format="json"),
        client.patch("/api/me/webhooks/1", {}, format="json"),
        client.post("/api/me/webhooks/1/test"),
    ):
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"


def test_put_is_not_a_method_of_a_webhook(api: APIClient) -> None:
    made = create(api)

    response = api.put(f"/api/me/webhooks/{made['id']}", NEW, format="json")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
