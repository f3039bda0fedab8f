"""The database connection settings, and the statement timeout every connection gets.

Most hosted PostgreSQL sits behind PgBouncer in transaction mode (Neon's `-pooler`
endpoints, Supabase's port 6543, a sidecar), and such a pooler refuses startup
parameters such as `options` and carries no session state from one transaction to
the next. So no connection sends a startup option, server-side cursors are off,
and the statement timeout is a default of the role in this database, written by
every `migrate` (the release step; tasks/apps.py connects the hook, as post_migrate
reaches only apps with models): PostgreSQL applies it to each new server connection
of that role, whoever pooled it.
"""

import logging
import warnings
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

REFUSED_STARTUP_PARAMETER = "unsupported startup parameter"

# On SQLite the web process and the worker write one file at once (`make run`).
# WAL lets readers go on beside the one writer. IMMEDIATE takes the write lock when a
# transaction begins, so a transaction that reads and then writes waits its turn
# (up to `timeout`) instead of failing at once with "database is locked", as a
# deferred one does when another writer commits between its read and its write.
# synchronous=NORMAL is WAL's durable-across-crashes setting: a commit survives the
# process dying, and only the last few may be lost with the machine's power.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    # Seconds a writer waits for the lock: well below gunicorn's worker timeout (30 s).
    "timeout": 20,
}


SUPPORTED_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")


def database_settings(
    url: str,
    *,
    conn_max_age: int,
    health_checks: bool,
    connect_timeout_s: int,
    pooler: bool,
) -> dict[str, Any]:
    """Django's `DATABASES["default"]` for this URL; `pooler=False` declares a direct
    connection, where server-side cursors (`QuerySet.iterator()`) may stream.
    ImproperlyConfigured for a URL of another database."""
    with warnings.catch_warnings():
        # An unknown scheme is refused below, without the URL (it holds the password).
        warnings.simplefilter("ignore")
        config: dict[str, Any] = environ.Env.db_url_config(url)
    if config.get("ENGINE") not in SUPPORTED_ENGINES:
        scheme = urlsplit(url).scheme or "no scheme"
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL (or sqlite:///PATH), not {scheme}."
        )
    # Keep connections across requests (a new PostgreSQL connection costs more than
    # most requests). A connection idle past `conn_max_age` is replaced before use,
    # which covers Neon suspending an idle compute; health checks would also catch
    # a connection dropped sooner, at the price of one extra round trip per request.
    config["CONN_MAX_AGE"] = conn_max_age
    config["CONN_HEALTH_CHECKS"] = health_checks
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = SQLITE_OPTIONS | config.get("OPTIONS", {})
        return config
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", connect_timeout_s)
    if pooler:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def apply_statement_timeout(timeout_ms: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make `timeout_ms` (0: none) the statement timeout of every later connection of
    this role to this database, pooled or not. A no-op off PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # The server's name of the database, not the URL's (a pooler may alias it);
        # ALTER ROLE takes no parameters, so the value is formatted in as an integer.
        cursor.execute(
            "DO $$ BEGIN EXECUTE format("
            "'ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = %s', "
            f"current_database(), {int(timeout_ms)}); END $$"
        )
        # A server connection opened before the ALTER (the one migrating, which a
        # pooler hands on to the web next) gets the same value now; others already
        # pooled keep theirs until the pooler replaces them (docs/operations.md).
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(timeout_ms)])


def log_unavailable(exc: Exception, using: str = DEFAULT_DB_ALIAS) -> None:
    """One log line for a failed connection or query, naming the cause as the driver
    put it (a refused connection, a wrong password, a missing database or SSL mode),
    on one line and without the database password; and what to set when the server
    (a pooler) refused a startup parameter."""
    if REFUSED_STARTUP_PARAMETER in str(exc):
        logger.error(
            "The database refused a startup parameter, as a transaction pooler "
            "(PgBouncer) does: remove `options` and other server settings from "
            "DATABASE_URL; the statement timeout is set on the role by `migrate` "
            "(docs/operations.md, The database)."
        )
    else:
        logger.error("Database unavailable (%s): %s", type(exc).__name__, _cause(exc, using))


# Enough for libpq's longest messages (an SSL or authentication failure with its hint).
MAX_CAUSE_CHARACTERS = 500


def _cause(exc: Exception, using: str) -> str:
    message = " ".join(str(exc).split())
    password = connections[using].settings_dict.get("PASSWORD")
    if password:
        message = message.replace(password, "********")
    return message[:MAX_CAUSE_CHARACTERS]
