"""The mirror of Better Auth users, written from token claims at most every few minutes."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser
from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db


def call_as(token: str) -> int:
    response = APIClient().get("/api/me/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code


def test_first_call_creates_the_user_from_the_claims(make_token: TokenFactory) -> None:
    call_as(make_token("u1", email="ann@example.com", name="Ann", emailVerified=True))

    user = BetterAuthUser.objects.get(id="u1")
    assert (user.email, user.name, user.email_verified) == ("ann@example.com", "Ann", True)
    assert user.first_seen == user.last_seen


def test_later_claims_refresh_the_user_after_the_refresh_interval(
    make_token: TokenFactory,
) -> None:
    call_as(make_token("u1", email="old@example.com", name="Ann"))
    first = BetterAuthUser.objects.get(id="u1")
    call_as(make_token("u1", email="new@example.com", name="Ann"))
    assert BetterAuthUser.objects.get(id="u1").email == "old@example.com"

    cache.clear()  # as if USER_MIRROR_REFRESH_SECONDS had passed
    call_as(make_token("u1", email="new@example.com", name="Ann B."))

    user = BetterAuthUser.objects.get(id="u1")
    assert (user.email, user.name) == ("new@example.com", "Ann B.")
    assert user.first_seen == first.first_seen
    assert user.last_seen > first.last_seen


def test_claims_of_the_wrong_type_are_not_mirrored(make_token: TokenFactory) -> None:
    call_as(make_token("u1", email=["x"], name=5, emailVerified="yes"))

    user = BetterAuthUser.objects.get(id="u1")
    assert (user.email, user.name, user.email_verified) == ("", "", False)


def test_a_refused_token_writes_nothing(make_token: TokenFactory) -> None:
    assert call_as(make_token("u1", key="x" * 40)) == 401

    assert not BetterAuthUser.objects.exists()


def test_a_deleted_user_who_calls_again_is_mirrored_again(make_token: TokenFactory) -> None:
    token = make_token("u1")
    call_as(token)
    BetterAuthUser.objects.get(id="u1").delete()

    response = APIClient().post(
        "/api/me/tasks", {"title": "after"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 201
    assert BetterAuthUser.objects.filter(id="u1").exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_by_another_worker_can_still_create(make_token: TokenFactory) -> None:
    token = make_token("u1", email="ann@example.com")
    call_as(token)
    # Another worker's deletion (with what cascades from the user, the Inbox): its
    # signal cleared its own cache, not this one's.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tasks_tasklist WHERE user_id = %s", ["u1"])
        cursor.execute("DELETE FROM accounts_betterauthuser WHERE id = %s", ["u1"])

    response = APIClient().post(
        "/api/me/tasks", {"title": "after"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 201
    assert BetterAuthUser.objects.filter(id="u1").exists()
    call_as(token)
    assert BetterAuthUser.objects.get(id="u1").email == "ann@example.com"
