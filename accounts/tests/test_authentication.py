"""Better Auth token verification: what is accepted, and the 401 matrix."""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from rest_framework.test import APIClient

from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db

NOW = int(time.time())
ISSUER = "https://auth.example.com"


def call(token: str | None, path: str = "/api/me/tasks", header: str | None = None) -> Any:
    authorization = header if header is not None else f"Bearer {token}"
    return APIClient().get(path, HTTP_AUTHORIZATION=authorization)


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_hmac_tokens_signed_with_the_secret_are_accepted(
    make_token: TokenFactory, algorithm: str
) -> None:
    assert call(make_token("u1", algorithm=algorithm)).status_code == 200


def test_better_auth_user_claims_are_accepted(make_token: TokenFactory) -> None:
    token = make_token("u1", email="a@example.com", name="A", emailVerified=True, image=None)

    assert call(token).status_code == 200


def test_scheme_is_case_insensitive(make_token: TokenFactory) -> None:
    assert call(None, header=f"bearer {make_token('u1')}").status_code == 200


def test_nbf_and_iat_within_leeway_are_accepted(make_token: TokenFactory) -> None:
    assert call(make_token("u1", nbf=NOW + 20, iat=NOW + 20)).status_code == 200


def test_a_seven_day_token_is_accepted(make_token: TokenFactory) -> None:
    assert call(make_token("u1", iat=NOW, exp=NOW + 7 * 86400)).status_code == 200


def test_a_unicode_sub_is_accepted(make_token: TokenFactory) -> None:
    assert call(make_token("usér-✓")).status_code == 200


def rsa_free_es256_token() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode({"sub": "u1", "exp": NOW + 900}, key, algorithm="ES256")


REFUSED: dict[str, Callable[[TokenFactory], str]] = {
    "wrong secret": lambda make: make("u1", key="another-secret-that-is-long-enough-32b"),
    "expired": lambda make: make("u1", iat=NOW - 3600, exp=NOW - 60),
    "expired beyond leeway": lambda make: make("u1", exp=NOW - 31),
    "no exp": lambda make: make("u1", exp=None),
    "nbf in the future": lambda make: make("u1", nbf=NOW + 120),
    "iat in the future": lambda make: make("u1", iat=NOW + 120),
    "no sub": lambda make: make(None),
    "empty sub": lambda make: make(""),
    "integer sub": lambda make: make(12345),
    "sub over 255 characters": lambda make: make("x" * 256),
    "10 KiB sub": lambda make: make("x" * 10240),
    "sub with NUL": lambda make: make("a\x00b"),
    "sub with a newline": lambda make: make("a\nb"),
    "sub with DEL": lambda make: make("a\x7fb"),
    "sub with a lone surrogate": lambda make: make("a\ud800b"),
    "exp as a string": lambda make: make("u1", exp=str(NOW + 900)),
    "exp as a boolean": lambda make: make("u1", exp=True),
    "exp of 10^30": lambda make: make("u1", exp=10**30),
    "exp of 10^400, no iat": lambda make: make("u1", iat=None, exp=10**400),
    "iat as a string": lambda make: make("u1", iat=str(NOW)),
    "nbf as a string": lambda make: make("u1", nbf=str(NOW)),
    "living 31 days": lambda make: make("u1", iat=NOW, exp=NOW + 31 * 86400),
    "31 days left, no iat": lambda make: make("u1", iat=None, exp=NOW + 31 * 86400),
    "alg none": lambda make: jwt.encode({"sub": "u1", "exp": NOW + 900}, "", algorithm="none"),
    "asymmetric without JWKS": lambda make: rsa_free_es256_token(),
    "tampered payload": lambda make: tamper(make("u1")),
    "truncated": lambda make: make("u1")[:-5],
    "padded signature": lambda make: make("u1") + "==",
    "padded header": lambda make: make("u1").replace(".", "=.", 1),
    "a fourth segment": lambda make: make("u1") + ".e30",
    "signed, over 8 KiB": lambda make: make("u1", filler="x" * 8192),
    "garbage": lambda make: "not-a-jwt",
    "two segments": lambda make: "a.b",
    "empty": lambda make: "",
}


def tamper(token: str) -> str:
    header, _payload, signature = token.split(".")
    forged = jwt.utils.base64url_encode(b'{"sub":"admin","exp":9999999999}').decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("case", REFUSED)
def test_refused_tokens_are_401_problems(make_token: TokenFactory, case: str) -> None:
    token = REFUSED[case](make_token)

    response = call(token)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 401
    if token:
        assert token not in response.content.decode()


def hs256(header: str, claims: str, secret: str) -> str:
    """A token signed for real over JSON written by hand, as no JWT library writes it."""
    signing_input = f"{b64url(header.encode())}.{b64url(claims.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("header", "claims", "status"),
    [
        ('{"alg":"HS256","typ":"JWT"}', f'{{"sub":"alice","exp":{NOW + 600}}}', 200),
        ('{"alg":"HS256","typ":"JWT"}', f'{{"sub":"alice","sub":"bob","exp":{NOW + 600}}}', 401),
        ('{"alg":"HS256","alg":"HS256"}', f'{{"sub":"alice","exp":{NOW + 600}}}', 401),
    ],
    ids=["each name once", "a claim twice", "a header name twice"],
)
def test_a_name_given_twice_in_the_header_or_claims_is_refused(
    header: str, claims: str, status: int, settings: Any
) -> None:
    response = call(hs256(header, claims, settings.BETTER_AUTH_SECRET), path="/api/alice/tasks")

    assert response.status_code == status


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer  ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer a b",
        "Bearer " + "a" * 9000,
        "Bearer tökén",
    ],
)
def test_malformed_authorization_headers_are_401(header: str) -> None:
    response = call(None, header=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_says_so(make_token: TokenFactory) -> None:
    response = call(make_token("u1", exp=NOW - 120))

    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/me/tasks",
        "/api/me/tasks/1",
        "/api/me/tasks/abc",
        "/api/someone/tasks/1/complete",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_without_a_token_every_route_is_401_whatever_else_is_wrong(path: str, method: str) -> None:
    response = APIClient().generic(
        method.upper(), path, "{bad json", content_type="application/json"
    )

    assert response.status_code == 401


class TestIssuerAndAudience:
    @pytest.fixture(autouse=True)
    def _configured(self, settings: Any) -> None:
        settings.JWT_ISSUER = ISSUER
        settings.JWT_AUDIENCE = ISSUER

    def test_matching_iss_and_aud_are_accepted(self, make_token: TokenFactory) -> None:
        assert call(make_token("u1", iss=ISSUER, aud=ISSUER)).status_code == 200

    def test_audience_list_containing_ours_is_accepted(self, make_token: TokenFactory) -> None:
        assert call(make_token("u1", iss=ISSUER, aud=["other", ISSUER])).status_code == 200

    @pytest.mark.parametrize(
        "claims",
        [
            {"iss": "https://evil.example.com", "aud": ISSUER},
            {"iss": ISSUER, "aud": "https://evil.example.com"},
            {"aud": ISSUER},
            {"iss": ISSUER},
        ],
    )
    def test_wrong_or_missing_iss_or_aud_is_401(
        self, make_token: TokenFactory, claims: dict[str, str]
    ) -> None:
        assert call(make_token("u1", **claims)).status_code == 401


def test_iss_and_aud_are_unchecked_when_not_configured(make_token: TokenFactory) -> None:
    assert call(make_token("u1", iss="anyone", aud="anything")).status_code == 200


def test_leeway_is_configurable(make_token: TokenFactory, settings: Any) -> None:
    settings.JWT_LEEWAY_SECONDS = 0

    assert call(make_token("u1", exp=NOW - 5)).status_code == 401


def test_without_a_secret_no_hmac_token_is_accepted(
    make_token: TokenFactory, settings: Any
) -> None:
    token = make_token("u1")
    settings.BETTER_AUTH_SECRET = ""

    assert call(token).status_code == 401


def test_another_users_path_is_403(make_token: TokenFactory) -> None:
    response = call(make_token("u1"), path="/api/u2/tasks")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_own_id_in_the_path_is_allowed(make_token: TokenFactory) -> None:
    assert call(make_token("u1"), path="/api/u1/tasks").status_code == 200
