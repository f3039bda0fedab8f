"""Shared by every app's tests: real signed tokens, authenticated clients, live servers."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import jwks, verified

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session", autouse=True)
def _collected_static() -> None:
    """Static files as production serves them (hashed names need the manifest)."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    """The test client speaks plain HTTP; production's HTTPS redirect has its own test."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Rate limits, user-mirror write marks, JWKS caches and verified tokens start empty."""
    cache.clear()
    jwks._cache_for.cache_clear()
    verified._claims_by_token.clear()


@pytest.fixture
def make_token(settings: Any) -> TokenFactory:
    """Sign a token with PyJWT as Better Auth would; any claim can be overridden or dropped.

    `make_token("u1")` is valid for 15 minutes. Pass `exp=None` (or any claim as None)
    to leave it out, `key=`/`algorithm=`/`headers=` to sign otherwise.
    """

    def factory(
        sub: Any = "user-a",
        *,
        key: Any = None,
        algorithm: str = "HS256",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {"sub": sub, "iat": now, "exp": now + 900, **claims}
        payload = {name: value for name, value in payload.items() if value is not None}
        signing_key = settings.BETTER_AUTH_SECRET if key is None else key
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers=headers)

    return factory


@pytest.fixture
def user_id() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def client_for(make_token: TokenFactory) -> Callable[[str], APIClient]:
    """An API client whose every request carries a valid token for the given user."""

    def factory(sub: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(sub)}")
        return client

    return factory


@pytest.fixture
def api(client_for: Callable[[str], APIClient], user_id: str) -> APIClient:
    """A client authenticated as `user_id`."""
    return client_for(user_id)


ROOT = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 20) -> None:
    """Poll `url` until the server behind it answers at all."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def service_env(**settings: str) -> dict[str, str]:
    """An environment for the service in a subprocess: fresh secrets, plain HTTP."""
    return {
        # The virtualenv's python and gunicorn first, as on a platform.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "BETTER_AUTH_SECRET": secrets.token_urlsafe(40),
        "SECURE_HTTPS": "false",
        **settings,
    }


@contextmanager
def live_service(env: dict[str, str], *command: str) -> Iterator[str]:
    """Migrate, then run `command` (default: the Procfile's web) on a free port; yield its URL."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    web = command or (sys.executable, "-m", "gunicorn", "todo_project.wsgi")
    server = subprocess.Popen(web, cwd=ROOT, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def live_token(env: dict[str, str], sub: str = "u1") -> str:
    """A token the service started with `env` accepts, for `sub`, valid for ever."""
    return jwt.encode({"sub": sub, "exp": 9999999999}, env["BETTER_AUTH_SECRET"], algorithm="HS256")


def fetch(
    url: str,
    token: str | None = None,
    *,
    method: str = "GET",
    body: Any = None,
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP call to a live service: status, headers and raw body, errors included.
    A `body` is sent as JSON; bytes are sent as they are, with the headers given."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body
    if body is not None and not isinstance(body, bytes):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


needs_postgres = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="runs in the PostgreSQL pass (DATABASE_URL)",
)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A database of its own on the PostgreSQL server in DATABASE_URL, dropped afterwards."""
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"todo_live_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url
