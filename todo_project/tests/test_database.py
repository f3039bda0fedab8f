"""Database settings for Neon and any pooler: no startup options, the statement timeout
on the role, outages."""

import os
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from testing.live import free_port
from testing.postgres import needs_postgres
from todo_project.database import database_settings, log_unavailable

DIRECT = "postgres://u:p@ep-cool-river-123456.eu-central-1.aws.neon.tech/todo?sslmode=require"
POOLERS = [
    "postgres://u:p@ep-cool-river-123456-pooler.eu-central-1.aws.neon.tech/todo?sslmode=require",
    "postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
    "postgres://u:p@pgbouncer.internal:5432/todo",
    "postgres://u:p@127.0.0.1:6432/todo",
]


def settings_for(url: str, **overrides: Any) -> dict[str, Any]:
    options = {"conn_max_age": 60, "health_checks": False, "connect_timeout_s": 5, "pooler": True}
    return database_settings(url, **(options | overrides))


@pytest.mark.parametrize("url", [DIRECT, *POOLERS])
def test_no_host_gets_a_startup_option_a_pooler_would_refuse(url: str) -> None:
    config = settings_for(url)

    assert set(config["OPTIONS"]) <= {"connect_timeout", "sslmode"}
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_a_declared_direct_connection_may_use_server_side_cursors() -> None:
    config = settings_for(DIRECT, pooler=False)

    assert "DISABLE_SERVER_SIDE_CURSORS" not in config
    assert config["OPTIONS"] == {"connect_timeout": 5, "sslmode": "require"}


def test_connections_persist_without_a_health_check_round_trip() -> None:
    config = settings_for(DIRECT)

    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, False)


def test_sqlite_gets_no_postgres_options(tmp_path: Any) -> None:
    config = settings_for(f"sqlite:///{tmp_path}/db.sqlite3")

    assert "OPTIONS" not in config or "options" not in config["OPTIONS"]


def test_sqlite_writers_wait_their_turn_instead_of_finding_it_locked(tmp_path: Any) -> None:
    """The web process and the worker share the file (`make run`): a transaction takes
    the write lock when it begins, and waits for it (test_worker.py has both at once)."""
    options = settings_for(f"sqlite:///{tmp_path}/db.sqlite3")["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL" in options["init_command"].split("; ")
    assert options["timeout"] >= 5


@pytest.mark.django_db
@needs_postgres
def test_migrate_leaves_the_statement_timeout_on_the_role_for_new_connections() -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params) as fresh:
        (timeout,) = fresh.execute("SHOW statement_timeout").fetchone()  # type: ignore[misc]

    assert timeout == "5s"


def test_a_refused_startup_parameter_logs_what_to_set(caplog: pytest.LogCaptureFixture) -> None:
    refused = OperationalError(
        'connection failed: connection to server at "10.0.0.7", port 6432 failed: '
        "FATAL:  unsupported startup parameter: options"
    )

    log_unavailable(refused)

    (record,) = caplog.records
    assert "remove `options`" in record.getMessage()


def driver_error(url: str) -> psycopg.OperationalError:
    """What psycopg raises connecting to `url` (on loopback)."""
    with pytest.raises(psycopg.OperationalError) as raised:
        psycopg.connect(url, connect_timeout=2)
    return raised.value


def test_an_outage_log_line_names_the_cause(caplog: pytest.LogCaptureFixture) -> None:
    log_unavailable(driver_error(f"postgres://todo@127.0.0.1:{free_port()}/todo"))

    (record,) = caplog.records
    assert record.getMessage().startswith("Database unavailable (OperationalError): ")
    assert "Connection refused" in record.getMessage()
    assert "\n" not in record.getMessage()


@needs_postgres
def test_an_outage_log_line_names_a_missing_database(caplog: pytest.LogCaptureFixture) -> None:
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]

    log_unavailable(driver_error(f"{server}/todo_no_such_database"))

    (record,) = caplog.records
    assert 'database "todo_no_such_database" does not exist' in record.getMessage()


def test_an_outage_log_line_never_holds_the_password(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "hunter2-secret")
    error = OperationalError('invalid connection option "passwrd=hunter2-secret"')

    log_unavailable(error)

    (record,) = caplog.records
    assert "hunter2-secret" not in record.getMessage()
    assert "invalid connection option" in record.getMessage()


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
