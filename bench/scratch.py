"""A scratch PostgreSQL database for a benchmark that runs Django in its own process."""

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_database(pg: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """Create the database `name` afresh at `pg` (a server URL), point this process's
    production settings at it (with fresh secrets), yield its URL, and drop it after
    (unless `keep`). The caller migrates it as far as it needs."""
    import psycopg

    url = f"{pg}/{name}"
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(50),
        BETTER_AUTH_SECRET=secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="todo_project.settings",
    )
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not keep:
            with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
