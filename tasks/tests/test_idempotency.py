"""Retry-safe creates (contract Part 2): `Idempotency-Key` makes a create happen once."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from tasks import queries
from tasks.models import IdempotentRequest, Task

pytestmark = pytest.mark.django_db


def create(api: APIClient, body: Any, key: str = "k-1", **headers: Any) -> Any:
    return api.post("/api/me/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_a_retry_gets_the_first_response_and_creates_nothing(api: APIClient, user_id: str) -> None:
    first = create(api, {"title": "Once", "tags": ["a"]})
    again = create(api, {"tags": ["a"], "title": "Once"})  # the same JSON, keys reordered

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (again["Location"], again["ETag"]) == (first["Location"], first["ETag"])
    assert again["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_me_and_the_users_id_are_one_path(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Once"})
    again = api.post(
        f"/api/{user_id}/tasks/", {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert again["Idempotency-Replayed"] == "true"
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_the_same_key_with_another_body_is_422(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Once"})

    response = create(api, {"title": "Other"})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_keys_are_per_user(api: APIClient, client_for: Any) -> None:
    create(api, {"title": "Mine"})

    theirs = create(client_for("them"), {"title": "Mine"})

    assert theirs.status_code == 201
    assert "Idempotency-Replayed" not in theirs


def test_a_key_still_in_flight_is_409_with_retry_after(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Once"})
    IdempotentRequest.objects.update(status=None)  # as if the first were still running

    response = create(api, {"title": "Once"})

    assert response.status_code == 409
    assert response["Retry-After"] == "1"


def test_a_crashed_requests_claim_is_taken_over(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Lost"}, key="crashed")
    Task.objects.filter(user_id=user_id).delete()  # its transaction rolled back
    IdempotentRequest.objects.update(status=None, created_at=timezone.now() - timedelta(minutes=2))

    response = create(api, {"title": "Lost"}, key="crashed")

    assert response.status_code == 201
    assert "Idempotency-Replayed" not in response
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_a_key_older_than_a_day_is_new_again(api: APIClient, user_id: str) -> None:
    create(api, {"title": "Yesterday"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = create(api, {"title": "Today"})

    assert response.status_code == 201
    assert "Idempotency-Replayed" not in response
    assert Task.objects.filter(user_id=user_id).count() == 2


def test_a_refusal_is_kept_and_replayed(api: APIClient, user_id: str) -> None:
    first = create(api, {"title": ""})
    again = create(api, {"title": ""})

    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"
    assert again["Idempotency-Replayed"] == "true"


def test_a_server_error_is_not_kept(
    api: APIClient, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**_kwargs: Any) -> None:
        raise OperationalError("connection lost")

    with monkeypatch.context() as patched:
        patched.setattr(queries, "task_insert", unavailable)
        assert create(api, {"title": "Retry me"}).status_code == 503
    assert not IdempotentRequest.objects.exists()

    assert create(api, {"title": "Retry me"}).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "k€", "tab\there"])
def test_a_key_that_is_not_1_to_255_printable_ascii_is_400(api: APIClient, key: str) -> None:
    response = create(api, {"title": "x"}, key=key)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


def test_a_create_with_a_key_costs_two_queries_more(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    """The claim, the insert, the kept response; here the atomic block around the last
    two is a savepoint and its release (in the test's transaction), in production a
    transaction of its own."""
    api.get("/api/me/tasks/0")  # mirrors the user

    with django_assert_num_queries(3 + 2):
        assert create(api, {"title": "Counted"}).status_code == 201
    with django_assert_num_queries(2):
        assert create(api, {"title": "Counted"})["Idempotency-Replayed"] == "true"


def test_the_purge_forgets_keys_older_than_a_day(api: APIClient) -> None:
    create(api, {"title": "Old"}, key="old")
    create(api, {"title": "New"}, key="new")
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    call_command("purge_trash", stdout=StringIO())

    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
