"""What one user may keep of Idempotency-Key responses is bounded in bytes (M5):
a new key past MAX_KEPT_RESPONSE_BYTES is a 429 with `Retry-After`, nothing done;
replays are served as before."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from tasks import idempotency, queries
from tasks.models import IdempotentRequest, Task

pytestmark = pytest.mark.django_db


def create(api: APIClient, body: Any, key: str) -> Any:
    return api.post("/api/me/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def bulk_create(api: APIClient, count: int, key: str) -> Any:
    body = {"action": "create", "tasks": [{"title": f"Task {n}"} for n in range(count)]}
    return api.post("/api/me/tasks/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def kept_bytes(user_id: str) -> int:
    total = IdempotentRequest.objects.filter(user_id=user_id).aggregate(total=Sum("size"))
    return total["total"] or 0


def test_each_kept_response_records_its_size(api: APIClient, user_id: str) -> None:
    response = create(api, {"title": "Sized"}, key="k-1")

    kept = IdempotentRequest.objects.get(user_id=user_id)
    assert kept.size == idempotency.kept_size(
        scope=kept.scope,
        key="k-1",
        body=kept.body,
        content_type=kept.content_type,
        headers=idempotency.json.dumps(kept.headers, ensure_ascii=False),
    )
    # Kept compact, as answered: no larger than the response body itself.
    assert len(kept.body.encode()) <= len(response.content)


def test_a_new_key_at_the_cap_is_429_with_retry_after(
    api: APIClient, user_id: str, settings: Any
) -> None:
    create(api, {"title": "First"}, key="k-1")
    settings.MAX_KEPT_RESPONSE_BYTES = kept_bytes(user_id)
    # The oldest was kept an hour ago: it is forgotten in 23 hours.
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=1))

    refused = create(api, {"title": "Second"}, key="k-2")

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:todo-api:problem:kept-responses-full"
    assert "without an Idempotency-Key" in refused.json()["detail"]
    assert 23 * 3600 - 5 <= int(refused["Retry-After"]) <= 23 * 3600
    assert list(Task.objects.filter(user_id=user_id).values_list("title", flat=True)) == ["First"]
    assert IdempotentRequest.objects.filter(user_id=user_id).count() == 1
    # Without a key the request is served.
    plain = api.post("/api/me/tasks", {"title": "Second"}, format="json")
    assert plain.status_code == 201


def test_retry_after_is_at_least_a_second(api: APIClient, user_id: str, settings: Any) -> None:
    create(api, {"title": "First"}, key="k-1")
    settings.MAX_KEPT_RESPONSE_BYTES = kept_bytes(user_id)
    # Forgotten in under a second: Retry-After rounds that up to 1, never down to 0. The
    # 900 ms leave the request time to come before the row is forgotten on a busy machine.
    IdempotentRequest.objects.update(
        created_at=timezone.now() - timedelta(hours=24) + timedelta(milliseconds=900)
    )

    refused = create(api, {"title": "Second"}, key="k-2")

    assert (refused.status_code, refused["Retry-After"]) == (429, "1")


def test_at_the_cap_a_kept_key_is_still_replayed(
    api: APIClient, user_id: str, settings: Any
) -> None:
    first = create(api, {"title": "Kept"}, key="k-1")
    create(api, {"title": "Refused"}, key="k-2")
    settings.MAX_KEPT_RESPONSE_BYTES = 1

    again = create(api, {"title": "Kept"}, key="k-1")
    other_body = create(api, {"title": "Other"}, key="k-1")
    IdempotentRequest.objects.filter(key="k-2").update(status=None)
    in_flight = create(api, {"title": "Refused"}, key="k-2")

    assert (again.status_code, again["Idempotency-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert other_body.status_code == 422
    assert (in_flight.status_code, in_flight["Retry-After"]) == (409, "1")


def test_at_the_cap_expired_responses_are_forgotten_to_make_room(
    api: APIClient, user_id: str, settings: Any
) -> None:
    create(api, {"title": "Yesterday"}, key="old")
    settings.MAX_KEPT_RESPONSE_BYTES = kept_bytes(user_id)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = create(api, {"title": "Today"}, key="new")

    assert response.status_code == 201
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]


def test_an_expired_key_sent_again_counts_as_a_new_one(
    api: APIClient, user_id: str, settings: Any
) -> None:
    create(api, {"title": "Yesterday"}, key="k-1")
    create(api, {"title": "Today"}, key="k-2")
    settings.MAX_KEPT_RESPONSE_BYTES = kept_bytes(user_id)
    IdempotentRequest.objects.filter(key="k-1").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    # Its old row is forgotten; what is left (k-2) is under the cap again, so it runs.
    again = create(api, {"title": "Yesterday again"}, key="k-1")
    assert again.status_code == 201
    assert "Idempotency-Replayed" not in again
    # Now at the cap, a third key is refused.
    assert create(api, {"title": "Third"}, key="k-3").status_code == 429


def test_a_server_error_releases_its_reservation(
    api: APIClient, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**_kwargs: Any) -> None:
        raise OperationalError("connection lost")

    monkeypatch.setattr(queries, "task_insert", unavailable)
    assert create(api, {"title": "Retry me"}, key="k-1").status_code == 503
    assert kept_bytes(user_id) == 0


def test_a_running_request_counts_its_reservation(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Running"}, key="k-1")
    IdempotentRequest.objects.update(status=None, size=idempotency.RESERVED_BYTES)

    assert kept_bytes(user_id) == idempotency.RESERVED_BYTES


def test_what_a_user_keeps_stays_under_the_cap_plus_one_response(
    api: APIClient, user_id: str, settings: Any
) -> None:
    """The bound: MAX_KEPT_RESPONSE_BYTES plus the one response that passed the check
    just under it; here with bulk creates of 100, the largest kind of response."""
    settings.MAX_KEPT_RESPONSE_BYTES = 200_000
    largest = 0
    refused = 0
    for n in range(12):
        response = bulk_create(api, 100, key=f"bulk-{n}")
        if response.status_code == 429:
            refused += 1
            continue
        assert response.status_code == 201
        largest = max(largest, IdempotentRequest.objects.get(key=f"bulk-{n}").size)
        deleted = api.post("/api/me/tasks/bulk", {"action": "delete", "where": {}}, format="json")
        assert deleted.status_code == 200
        assert api.delete("/api/me/trash").status_code == 204

    assert refused > 0
    assert kept_bytes(user_id) < settings.MAX_KEPT_RESPONSE_BYTES + largest
    assert largest < idempotency.RESERVED_BYTES
