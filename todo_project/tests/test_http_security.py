"""CORS for the frontend's origin, HTTPS behind the platform's proxy, client addresses."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.ratelimit import client_address
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

FRONTEND = "https://app.example.com"


@pytest.fixture(autouse=True)
def _frontend_origin(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


def header_set(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_preflight_for_bearer_json_calls_passes(method: str) -> None:
    requested = "authorization, content-type, if-match, if-none-match, idempotency-key"
    response = Client().options(
        "/api/me/tasks/1",
        HTTP_ORIGIN=FRONTEND,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=requested,
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert method in response["Access-Control-Allow-Methods"]
    assert header_set(requested) <= header_set(response["Access-Control-Allow-Headers"])


def test_preflight_from_another_origin_gets_no_grant() -> None:
    response = Client().options(
        "/api/me/tasks",
        HTTP_ORIGIN="https://evil.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert "Access-Control-Allow-Origin" not in response


def test_the_paging_retry_and_sign_in_headers_are_exposed(api: APIClient) -> None:
    response = api.get("/api/me/tasks", HTTP_ORIGIN=FRONTEND)

    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert header_set(response["Access-Control-Expose-Headers"]) == {
        "etag",
        "link",
        "location",
        "retry-after",
        "x-total-count",
        "x-request-id",
        "idempotency-replayed",
        "www-authenticate",
    }


def test_errors_carry_cors_headers_too() -> None:
    response = Client().get("/api/me/tasks", HTTP_ORIGIN=FRONTEND)

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == FRONTEND


def test_plain_http_is_redirected_to_https(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/api/me/tasks")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_are_not_redirected(settings: Any, path: str) -> None:
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get(path).status_code == 200


def test_https_is_served_with_hsts(settings: Any) -> None:
    """The scheme comes from the server (gunicorn, from a trusted proxy's header)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000

    response = Client().get("/api/me/tasks", secure=True)

    assert response.status_code == 401
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_client_cannot_claim_https_by_a_header(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True

    response = Client().get("/api/me/tasks", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301


def test_client_address_headers_count_only_from_a_trusted_proxy(settings: Any, rf: Any) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/8"]

    from_proxy = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.1.2.3")
    from_client = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="198.51.100.9")

    assert client_address(from_proxy) == "203.0.113.7"
    assert client_address(from_client) == "198.51.100.9"


@pytest.mark.parametrize(
    ("forwarded", "count", "expected"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7", 1, "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
        ("", 1, "127.0.0.1"),
        ("203.0.113.7", 2, "127.0.0.1"),
    ],
)
def test_client_address_trusts_only_the_proxies_hops(
    settings: Any, rf: Any, forwarded: str, count: int, expected: str
) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = count

    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_without_a_configured_header_forwarded_for_is_ignored(rf: Any) -> None:
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_address(request) == "127.0.0.1"


def test_rate_limits_count_the_real_client_behind_the_proxy(settings: Any) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]
    settings.RATE_LIMIT_ANON = "1/m"
    proxy = Client(REMOTE_ADDR="10.0.0.1")

    first = proxy.get("/api/me/tasks", HTTP_X_FORWARDED_FOR="203.0.113.7")
    other_client = proxy.get("/api/me/tasks", HTTP_X_FORWARDED_FOR="203.0.113.8")
    spoofing = proxy.get("/api/me/tasks", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")

    assert (first.status_code, other_client.status_code, spoofing.status_code) == (401, 401, 429)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_html_pages_allow_only_their_own_origin(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'; script-src 'self';")
    assert "http" not in policy


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/me/tasks", 200),
        ("get", "/api/me/tasks/{id}", 200),
        ("get", "/api/me/tasks/987654", 404),
        ("post", "/api/me/tasks", 400),
        ("get", "/api/someone-else/tasks", 403),
        ("get", "/api/no/such/route", 404),
    ],
)
def test_api_responses_are_private_and_vary_by_token(
    api: APIClient, user_id: str, method: str, path: str, status: int
) -> None:
    task = TaskFactory.create(user_id=user_id)

    response = getattr(api, method)(path.format(id=task.id), {}, format="json")

    assert response.status_code == status
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in [name.strip() for name in response["Vary"].split(",")]


def test_a_refused_token_is_private_too() -> None:
    response = Client().get("/api/me/tasks", HTTP_AUTHORIZATION="Bearer x.y.z")

    assert response.status_code == 401
    assert response["Cache-Control"] == "private, no-cache"
