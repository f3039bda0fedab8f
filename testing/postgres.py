"""Tests that need PostgreSQL, and scratch databases on its server.

With TEST_POOLER_URL set (`.ci/run` sets it to its PgBouncer in transaction mode), a
scratch database is reached through that pooler, so every live service a test starts
on one runs as it would behind Neon's or any platform's pooler.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

# The suite runs twice in CI: on SQLite, then on PostgreSQL via DATABASE_URL.
needs_postgres = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="runs in the PostgreSQL pass (DATABASE_URL)",
)


POOLER_URL = os.environ.get("TEST_POOLER_URL", "")


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A database of its own on the PostgreSQL server in DATABASE_URL, dropped
    afterwards; its URL goes through TEST_POOLER_URL when that is set."""
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"todo_live_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POOLER_URL or server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def direct_url(url: str) -> str:
    """The scratch database at `url`, reached directly, never through TEST_POOLER_URL:
    what a LISTEN needs (a transaction pooler can't carry one)."""
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    return f"{server}/{url.rsplit('/', 1)[1]}"
