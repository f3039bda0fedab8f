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


def test_probes_refuse_writes() -> None:
    assert Client().post("/healthz").status_code == 405
