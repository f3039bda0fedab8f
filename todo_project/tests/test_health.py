"""Liveness and readiness probes."""

from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from todo_project import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_the_database(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_migrated() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("host", ["10.0.0.5", "10.0.0.5:8000", "[fd00::5]", "internal.invalid"])
def test_probes_answer_whatever_the_host(path: str, host: str) -> None:
    """A platform's health check calls the instance by its address, not a public name."""
    response = Client().get(path, HTTP_HOST=host)

    assert response.status_code == 200


def test_other_routes_still_need_an_allowed_host() -> None:
    response = Client().get("/api/schema/", HTTP_HOST="10.0.0.5")

    assert response.status_code == 400


def test_readyz_is_503_with_pending_migrations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_unapplied_migrations", lambda: 2)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["checks"]["migrations"] == "pending"


def test_readyz_is_503_when_the_database_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> int:
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "_unapplied_migrations", unreachable)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert b"refused" not in response.content


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_probes_refuse_other_methods_with_a_problem(path: str, method: str) -> None:
    """Not Django's HTML CSRF page: a probe has no form to protect."""
    response = getattr(Client(enforce_csrf_checks=True), method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head(path: str) -> None:
    assert Client().head(path).status_code == 200


def test_the_probes_rate_limit_is_apart_from_the_apis(settings: Any) -> None:
    """Bad-token API calls from the prober's address can't make the service look down."""
    settings.RATE_LIMIT_ANON = "2/m"
    client = Client()
    api_calls = [client.get("/api/me/tasks").status_code for _ in range(3)]

    assert api_calls == [401, 401, 429]
    assert client.get("/healthz").status_code == 200
