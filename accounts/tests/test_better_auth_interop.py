"""Against a REAL Better Auth server (interop/server.mjs, better-auth from npm).

For every algorithm its jwt plugin offers, and for the HS256 custom signer: a user
signs up, takes a token from `GET /api/auth/token`, and uses it here; a token from
another Better Auth instance is refused. Needs Node and `npm ci --prefix interop`
(`make test` runs it when npm is on the PATH; CI fails instead of skipping).
"""

import http.cookiejar
import json
import os
import secrets
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser
from testing.live import INTEROP, fetch, free_port, live_service, require_node, service_env
from testing.postgres import database_independent

ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256", "HS256"]

pytestmark = pytest.mark.django_db


@dataclass
class BetterAuthServer:
    algorithm: str
    secret: str
    url: str
    process: subprocess.Popen[str]

    def sign_up_and_get_token(self, email: str) -> str:
        """What the frontend does: sign up with e-mail and password, then ask for a JWT."""
        cookies = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        sign_up = urllib.request.Request(
            f"{self.url}/api/auth/sign-up/email",
            data=json.dumps(
                {"email": email, "password": "a long password 1", "name": "Ann"}
            ).encode(),
            headers={"Content-Type": "application/json", "Origin": self.url},
        )
        cookies.open(sign_up, timeout=10).read()
        with cookies.open(f"{self.url}/api/auth/token", timeout=10) as response:
            token: str = json.load(response)["token"]
        return token


def start_better_auth(algorithm: str) -> BetterAuthServer:
    port = free_port()
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "BA_ALG": algorithm, "BA_PORT": str(port), "BETTER_AUTH_SECRET": secret}
    process = subprocess.Popen(
        ["node", "server.mjs"], cwd=INTEROP, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    if "listening" not in process.stdout.readline():
        process.kill()
        pytest.fail(f"Better Auth ({algorithm}) did not start")
    return BetterAuthServer(algorithm, secret, f"http://127.0.0.1:{port}", process)


@pytest.fixture(scope="module", params=ALGORITHMS)
def instances(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[BetterAuthServer, BetterAuthServer]]:
    """Two independent Better Auth servers signing with the same algorithm."""
    require_node()
    ours, theirs = start_better_auth(request.param), start_better_auth(request.param)
    yield ours, theirs
    for server in (ours, theirs):
        server.process.kill()
        server.process.wait()


@pytest.fixture
def configured(
    instances: tuple[BetterAuthServer, BetterAuthServer], settings: Any
) -> BetterAuthServer:
    """The service configured as its README says for that mode, and nothing more."""
    ours, _ = instances
    settings.JWT_ISSUER = settings.JWT_AUDIENCE = ours.url
    if ours.algorithm == "HS256":
        settings.BETTER_AUTH_SECRET = ours.secret
        settings.BETTER_AUTH_JWKS_URL = ""
    else:
        settings.BETTER_AUTH_SECRET = ""
        settings.BETTER_AUTH_JWKS_URL = f"{ours.url}/api/auth/jwks"
    return ours


def test_a_real_token_lists_creates_toggles_and_deletes(configured: BetterAuthServer) -> None:
    token = configured.sign_up_and_get_token(f"ann-{configured.algorithm.lower()}@example.com")
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api.get("/api/me/tasks").status_code == 200
    created = api.post("/api/me/tasks", {"title": "Buy oat milk"}, format="json")
    assert created.status_code == 201
    task_url = f"/api/{created.json()['user_id']}/tasks/{created.json()['id']}"
    assert api.patch(f"{task_url}/complete").json()["completed"] is True
    assert api.delete(task_url).status_code == 204

    mirrored = BetterAuthUser.objects.get(id=created.json()["user_id"])
    assert mirrored.email == f"ann-{configured.algorithm.lower()}@example.com"


def test_a_token_from_another_better_auth_is_refused(
    configured: BetterAuthServer, instances: tuple[BetterAuthServer, BetterAuthServer]
) -> None:
    _, theirs = instances
    token = theirs.sign_up_and_get_token("mallory@example.com")

    response = APIClient().get("/api/me/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401


@database_independent
@pytest.mark.parametrize("algorithm", ["EdDSA", "HS256"])
def test_a_live_service_configured_by_environment_alone(algorithm: str, tmp_path: Path) -> None:
    """gunicorn with only BETTER_AUTH_URL (JWKS mode) or only the secret (HS256 mode)."""
    require_node()
    auth = start_better_auth(algorithm)
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BETTER_AUTH_URL=auth.url if algorithm != "HS256" else "",
        BETTER_AUTH_SECRET=auth.secret if algorithm == "HS256" else "",
    )
    try:
        with live_service(env) as base:
            token = auth.sign_up_and_get_token("live@example.com")
            assert fetch(f"{base}/api/me/tasks", token)[0] == 200
    finally:
        auth.process.terminate()
        auth.process.wait()
