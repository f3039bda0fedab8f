"""The database connection settings, from `DATABASE_URL` and the timeouts.

Neon's `-pooler` endpoints run PgBouncer in transaction mode: a connection there
carries no session state from one transaction to the next, so server-side cursors
are off, and startup parameters such as `options` are refused, so the statement
timeout has to be a role default there (`ALTER ROLE … SET statement_timeout`, see
the README) rather than an option of the connection.
"""

from typing import Any
from urllib.parse import urlsplit

import environ


def is_pooler_url(url: str) -> bool:
    """Whether the URL names a Neon pooler endpoint (its host's first label ends in -pooler)."""
    host = urlsplit(url).hostname or ""
    return host.split(".")[0].endswith("-pooler")


def database_settings(
    url: str,
    *,
    conn_max_age: int,
    health_checks: bool,
    statement_timeout_ms: int,
    connect_timeout_s: int,
    pooler: bool,
) -> dict[str, Any]:
    """Django's `DATABASES["default"]` for this URL."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    # Keep connections across requests (a new PostgreSQL connection costs more than
    # most requests). A connection idle past `conn_max_age` is replaced before use,
    # which covers Neon suspending an idle compute; health checks would also catch
    # a connection dropped sooner, at the price of one extra round trip per request.
    config["CONN_MAX_AGE"] = conn_max_age
    config["CONN_HEALTH_CHECKS"] = health_checks
    if config["ENGINE"] != "django.db.backends.postgresql":
        return config
    options = config.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", connect_timeout_s)
    if pooler:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif statement_timeout_ms:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return config
