"""Tokens signed with Better Auth's asymmetric keys, verified through its JWKS."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
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


def test_without_a_jwks_url_asymmetric_tokens_are_refused(
    better_auth: FakeBetterAuth, settings: Any
) -> None:
    key = better_auth.add_key()
    settings.BETTER_AUTH_JWKS_URL = ""

    assert call(better_auth.token(key)).status_code == 401
    assert better_auth.fetches == 0


def forged(better_auth: FakeBetterAuth, key: SigningKey, **headers: Any) -> str:
    """Valid claims signed by an attacker's own key, naming the real key's `kid`
    unless told otherwise (None: no kid); `jwk=True` embeds the attacker's public key."""
    attacker = PRIVATE_KEYS["EdDSA"]()
    if headers.pop("jwk", False):
        algorithm = jwt.get_algorithm_by_name("EdDSA")
        headers["jwk"] = algorithm.to_jwk(attacker.public_key(), as_dict=True)
    headers = {
        name: value for name, value in {"kid": key.kid, **headers}.items() if value is not None
    }
    return jwt.encode(better_auth.claims(), attacker, algorithm="EdDSA", headers=headers)


def public_key_as_hmac_secret(better_auth: FakeBetterAuth, key: SigningKey) -> str:
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hmac_token({"alg": "HS256", "kid": key.kid}, better_auth.claims(), public_pem)


ATTACKER_URL = "http://127.0.0.1:1/keys"
# The token attacks of issue 5, against a service that trusts Better Auth's JWKS.
ATTACKS: dict[str, Callable[[FakeBetterAuth, SigningKey], str]] = {
    "alg none": lambda ba, key: jwt.encode(
        ba.claims(), "", algorithm="none", headers={"kid": key.kid}
    ),
    "HS256 signed with the JWKS public key": public_key_as_hmac_secret,
    "another key under the real kid": lambda ba, key: forged(ba, key),
    "unknown kid": lambda ba, key: forged(ba, key, kid="unknown"),
    "no kid": lambda ba, key: forged(ba, key, kid=None),
    "empty kid": lambda ba, key: forged(ba, key, kid=""),
    "kid of 300 characters": lambda ba, key: forged(ba, key, kid="k" * 300),
    "path in kid": lambda ba, key: forged(ba, key, kid="../../../../etc/passwd"),
    "SQL in kid": lambda ba, key: forged(ba, key, kid="' OR '1'='1"),
    "jku header": lambda ba, key: forged(ba, key, kid="attacker", jku=ATTACKER_URL),
    "x5u header": lambda ba, key: forged(ba, key, kid="attacker", x5u=ATTACKER_URL),
    "jwk header": lambda ba, key: forged(ba, key, kid="attacker", jwk=True),
    "truncated": lambda ba, key: ba.token(key)[:-6],
    "padded": lambda ba, key: ba.token(key) + "==",
    "over 8 KiB": lambda ba, key: ba.token(key, filler="x" * 8192),
    "expired": lambda ba, key: ba.token(key, exp=int(time.time()) - 60),
    "not yet valid": lambda ba, key: ba.token(key, nbf=int(time.time()) + 120),
    "issued in the future": lambda ba, key: ba.token(key, iat=int(time.time()) + 120),
    "wrong issuer": lambda ba, key: ba.token(key, iss="https://evil.example"),
    "wrong audience": lambda ba, key: ba.token(key, aud="https://evil.example"),
    "no sub": lambda ba, key: ba.token(key, sub=None),
    "empty sub": lambda ba, key: ba.token(key, sub=""),
    "integer sub": lambda ba, key: ba.token(key, sub=12345),
    "10 KiB sub": lambda ba, key: ba.token(key, sub="x" * 10240),
}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_token_attacks_are_401(better_auth: FakeBetterAuth, algorithm: str, attack: str) -> None:
    key = better_auth.add_key(algorithm)

    response = call(ATTACKS[attack](better_auth, key))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_the_whole_attack_suite_costs_one_refetch_at_most(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()
    tokens = [make(better_auth, key) for make in ATTACKS.values() for _ in range(5)]

    statuses = {call(token).status_code for token in tokens}

    assert statuses == {401}
    assert better_auth.fetches <= 2  # the first fetch, one refetch for the unknown kids
    assert call(better_auth.token(key)).status_code == 200


def test_another_users_sub_is_403_on_my_url(better_auth: FakeBetterAuth) -> None:
    key = better_auth.add_key()

    response = call(better_auth.token(key, sub="mallory"), path="/api/user-a/tasks")

    assert response.status_code == 403
