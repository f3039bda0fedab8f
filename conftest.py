"""Fixtures of every app's tests: real signed tokens, authenticated clients, scratch
databases. Helpers that tests import are in the `testing` package."""

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts import jwks, verified
from testing.postgres import scratch_postgres
from testing.tokens import TokenFactory


@pytest.fixture(scope="session", autouse=True)
def _collected_static() -> None:
    """Static files as production serves them (hashed names need the manifest)."""
    call_command("collectstatic", interactive=False, verbosity=0)


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A scratch database on the PostgreSQL server of DATABASE_URL."""
    with scratch_postgres() as url:
        yield url


# What the admin fixtures' staff sign in with (they are logged in directly).
STAFF_PASSWORD = "a staff password 123"


@pytest.fixture
def support(db: None) -> Client:
    """A staff member in the `support` group (made by a data migration), logged in to
    the admin."""
    staff = User.objects.create_user("sam", password=STAFF_PASSWORD, is_staff=True)
    staff.groups.add(Group.objects.get(name="support"))
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def admin_client(db: None) -> Client:
    """A superuser, logged in to the admin."""
    client = Client()
    client.force_login(User.objects.create_superuser("root", password=STAFF_PASSWORD))
    return client
