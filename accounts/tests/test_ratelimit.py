"""Rate limits: per `sub` with a valid token, per client address without one."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db


def test_user_over_the_limit_gets_429_with_retry_after(settings: Any, api: APIClient) -> None:
    settings.RATE_LIMIT_USER = "3/m"

    statuses = [api.get("/api/me/tasks").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/me/tasks")
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429


def test_users_are_limited_separately(settings: Any, client_for: Any) -> None:
    settings.RATE_LIMIT_USER = "2/m"
    first, second = client_for("u1"), client_for("u2")
    for _ in range(2):
        first.get("/api/me/tasks")

    assert first.get("/api/me/tasks").status_code == 429
    assert second.get("/api/me/tasks").status_code == 200


def test_refused_tokens_count_against_the_client_address(
    settings: Any, make_token: TokenFactory
) -> None:
    settings.RATE_LIMIT_ANON = "2/m"
    bad = APIClient(HTTP_AUTHORIZATION="Bearer nonsense")

    statuses = [bad.get("/api/me/tasks").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
    assert APIClient().get("/api/me/tasks", REMOTE_ADDR="10.9.9.9").status_code == 401


def test_valid_token_is_not_counted_as_anonymous(settings: Any, api: APIClient) -> None:
    settings.RATE_LIMIT_ANON = "1/m"

    assert [api.get("/api/me/tasks").status_code for _ in range(3)] == [200, 200, 200]


def test_off_disables_the_limit(settings: Any, api: APIClient) -> None:
    settings.RATE_LIMIT_USER = None

    assert {api.get("/api/me/tasks").status_code for _ in range(5)} == {200}
