"""Database settings for Neon: direct and pooler endpoints, timeouts, outages."""

from typing import Any

import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from todo_project.database import database_settings, is_pooler_url

DIRECT = "postgres://u:p@ep-cool-river-123456.eu-central-1.aws.neon.tech/todo?sslmode=require"
POOLER = (
    "postgres://u:p@ep-cool-river-123456-pooler.eu-central-1.aws.neon.tech/todo?sslmode=require"
)


def settings_for(url: str, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"conn_max_age": 60, "health_checks": False}
    options |= {"statement_timeout_ms": 5000, "connect_timeout_s": 5}
    options["pooler"] = is_pooler_url(url)
    return database_settings(url, **{**options, **overrides})


def test_neon_pooler_endpoints_are_recognised() -> None:
    assert is_pooler_url(POOLER)
    assert not is_pooler_url(DIRECT)
    assert not is_pooler_url("postgres://localhost/todo")


def test_direct_endpoint_gets_the_statement_timeout_as_a_startup_option() -> None:
    config = settings_for(DIRECT)

    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000"
    assert config["OPTIONS"]["sslmode"] == "require"
    assert "DISABLE_SERVER_SIDE_CURSORS" not in config


def test_pooler_endpoint_gets_no_startup_option_and_no_server_side_cursors() -> None:
    config = settings_for(POOLER)

    assert "options" not in config["OPTIONS"]
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert config["OPTIONS"]["sslmode"] == "require"


def test_connections_persist_without_a_health_check_round_trip() -> None:
    config = settings_for(DIRECT)

    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, False)


def test_sqlite_gets_no_postgres_options(tmp_path: Any) -> None:
    config = settings_for(f"sqlite:///{tmp_path}/db.sqlite3")

    assert "options" not in config.get("OPTIONS", {})


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_statement_timeout_is_in_force() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (timeout,) = cursor.fetchone()

    assert timeout == "5s"


@pytest.mark.django_db
def test_a_lost_database_is_a_503_problem(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(**_kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("tasks.queries.task_page", unreachable)

    response = api.get("/api/me/tasks")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    assert b"refused" not in response.content
