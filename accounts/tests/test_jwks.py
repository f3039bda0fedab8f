"""Tokens signed with Better Auth's asymmetric keys, verified through its JWKS."""

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from rest_framework.test import APIClient

from accounts.tests.conftest import PRIVATE_KEYS, FakeBetterAuth, SigningKey

pytestmark = pytest.mark.django_db


def hmac_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HMAC-sign by hand: PyJWT itself refuses a PEM public key as an HMAC secret."""

    def segment(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")

    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def call(token: str, path: str = "/api/me/tasks") -> Any:
    return APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize("algorithm", list(PRIVATE_KEYS))
def test_every_better_auth_algorithm_is_accepted(
    better_auth: FakeBetterAuth, algorithm: str
) -> None:
    key = better_auth.add_key(algorithm)

    assert call(better_auth.token(key)).status_code == 200


def test_the_jwks_is_fetched_once_for_many_requests(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()

    statuses = {call(better_auth.token(key, sub=f"user-{i}")).status_code for i in range(20)}

    assert statuses == {200}
    assert better_auth.fetches == 1


def test_a_new_kid_is_fetched_once(better_auth: FakeBetterAuth) -> None:
    first = better_auth.add_key()
    assert call(better_auth.token(first)).status_code == 200
    rotated = better_auth.add_key()

    assert call(better_auth.token(rotated)).status_code == 200
    assert call(better_auth.token(rotated)).status_code == 200
    assert better_auth.fetches == 2


def test_a_flood_of_unknown_kids_costs_one_refetch(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()
    assert call(better_auth.token(key)).status_code == 200
    impostor = SigningKey("unknown", "EdDSA", PRIVATE_KEYS["EdDSA"]())

    for i in range(50):
        impostor.kid = f"made-up-{i}"
        assert call(better_auth.token(impostor)).status_code == 401

    assert better_auth.fetches == 2


def test_unknown_kids_refetch_again_after_the_cooldown(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    settings.JWKS_REFETCH_COOLDOWN_SECONDS = 0
    key = better_auth.add_key()
    impostor = SigningKey("made-up", "EdDSA", PRIVATE_KEYS["EdDSA"]())

    for _ in range(3):
        call(better_auth.token(impostor))

    assert call(better_auth.token(key)).status_code == 200
    assert better_auth.fetches == 3


def test_keys_are_refetched_when_the_cache_expires(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    settings.JWKS_CACHE_SECONDS = 0
    key = better_auth.add_key()

    call(better_auth.token(key, sub="first"))
    call(better_auth.token(key, sub="second"))

    assert better_auth.fetches == 2


def test_unreachable_better_auth_with_nothing_cached_is_503(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()
    better_auth.status = 500

    response = call(better_auth.token(key))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 30


def test_while_unreachable_better_auth_is_asked_once_per_cooldown(
    better_auth: FakeBetterAuth,
) -> None:
    key = better_auth.add_key()
    better_auth.status = 500

    statuses = {call(better_auth.token(key)).status_code for _ in range(10)}

    assert statuses == {503}
    assert better_auth.fetches == 1


def test_it_recovers_when_better_auth_comes_back(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    settings.JWKS_REFETCH_COOLDOWN_SECONDS = 0
    key = better_auth.add_key()
    better_auth.status = 500
    assert call(better_auth.token(key)).status_code == 503

    better_auth.status = 200

    assert call(better_auth.token(key)).status_code == 200


def test_cached_keys_keep_serving_while_better_auth_is_down(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    settings.JWKS_CACHE_SECONDS = 0
    settings.JWKS_REFETCH_COOLDOWN_SECONDS = 0
    key = better_auth.add_key()
    assert call(better_auth.token(key, sub="before")).status_code == 200
    better_auth.status = 500

    assert call(better_auth.token(key, sub="during")).status_code == 200
    assert better_auth.fetches == 2


def test_unknown_kid_while_down_is_503_not_401(better_auth: FakeBetterAuth, settings: Any) -> None:
    settings.JWKS_CACHE_SECONDS = 0
    known = better_auth.add_key()
    assert call(better_auth.token(known)).status_code == 200
    better_auth.status = 500
    stranger = SigningKey("new-kid", "EdDSA", PRIVATE_KEYS["EdDSA"]())

    assert call(better_auth.token(stranger)).status_code == 503


@pytest.mark.parametrize(
    "body", [b"not json", b'{"keys": "none"}', b"[]", b" " * (1024 * 1024 + 1)]
)
def test_a_jwks_that_is_not_one_counts_as_unreachable(
    better_auth: FakeBetterAuth, body: bytes
) -> None:
    key = better_auth.add_key()
    better_auth.raw_body = body

    assert call(better_auth.token(key)).status_code == 503


class TestAlgorithmConfusion:
    def test_hs256_signed_with_the_public_key_is_refused(self, better_auth: FakeBetterAuth) -> None:
        key = better_auth.add_key("RS256")
        public_pem = key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        claims = {
            "sub": "user-a",
            "exp": 9999999999,
            "iss": better_auth.url,
            "aud": better_auth.url,
        }

        forged = hmac_token({"alg": "HS256", "kid": key.kid}, claims, public_pem)

        assert call(forged).status_code == 401

    @pytest.mark.parametrize(
        ("token_algorithm", "key_algorithm"),
        [("ES256", "EdDSA"), ("RS256", "ES256"), ("EdDSA", "RS256"), ("ES512", "ES256")],
    )
    def test_a_key_of_another_type_is_refused(
        self, better_auth: FakeBetterAuth, token_algorithm: str, key_algorithm: str
    ) -> None:
        published = better_auth.add_key(key_algorithm, kid="shared-kid")
        signer = SigningKey("shared-kid", token_algorithm, PRIVATE_KEYS[token_algorithm]())

        assert call(better_auth.token(signer)).status_code == 401
        assert call(better_auth.token(published)).status_code == 200

    def test_an_rsa_key_published_for_rs256_does_not_verify_ps256(
        self, better_auth: FakeBetterAuth
    ) -> None:
        key = better_auth.add_key("RS256")
        as_ps256 = SigningKey(key.kid, "PS256", key.private_key)

        assert call(better_auth.token(as_ps256)).status_code == 401

    def test_an_algorithm_outside_the_allow_list_is_refused(
        self, better_auth: FakeBetterAuth, settings: Any
    ) -> None:
        settings.JWT_ALGORITHMS = ["EdDSA"]
        key = better_auth.add_key("ES256")

        assert call(better_auth.token(key)).status_code == 401

    def test_embedded_jwk_and_jku_headers_are_ignored(self, better_auth: FakeBetterAuth) -> None:
        better_auth.add_key()
        attacker = PRIVATE_KEYS["EdDSA"]()
        public_jwk = jwt.get_algorithm_by_name("EdDSA").to_jwk(attacker.public_key(), as_dict=True)
        token = jwt.encode(
            {"sub": "user-a", "exp": 9999999999, "iss": better_auth.url, "aud": better_auth.url},
            attacker,
            algorithm="EdDSA",
            headers={"kid": "attacker", "jwk": public_jwk, "jku": "http://127.0.0.1:1/jwks"},
        )

        assert call(token).status_code == 401

    @pytest.mark.parametrize("kid", [None, "", "../../etc/passwd", "' OR 1=1 --", "k" * 300])
    def test_a_missing_or_odd_kid_is_refused(self, better_auth: FakeBetterAuth, kid: Any) -> None:
        key = better_auth.add_key()
        headers = {} if kid is None else {"kid": kid}
        token = jwt.encode(
            {"sub": "user-a", "exp": 9999999999, "iss": better_auth.url, "aud": better_auth.url},
            key.private_key,
            algorithm="EdDSA",
            headers=headers,
        )

        assert call(token).status_code == 401


def test_a_token_from_another_better_auth_is_refused(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()

    assert call(better_auth.token(key, iss="https://other.example.com")).status_code == 401
    assert call(better_auth.token(key, aud="https://other.example.com")).status_code == 401


def test_without_a_jwks_url_asymmetric_tokens_are_refused(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    key = better_auth.add_key()
    settings.BETTER_AUTH_JWKS_URL = ""

    assert call(better_auth.token(key)).status_code == 401
    assert better_auth.fetches == 0
