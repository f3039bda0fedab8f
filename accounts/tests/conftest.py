"""A stand-in Better Auth JWKS endpoint on loopback, serving real public keys."""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from testing.live import serving

# Each algorithm Better Auth offers, with a fresh private key of the fitting type.
PRIVATE_KEYS: dict[str, Callable[[], Any]] = {
    "EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES512": lambda: ec.generate_private_key(ec.SECP521R1()),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "PS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        """As Better Auth's /jwks lists it: the public key, `alg`, `kid`, no `use`."""
        jwk: dict[str, Any] = jwt.get_algorithm_by_name(self.algorithm).to_jwk(
            self.private_key.public_key(), as_dict=True
        )
        return {**jwk, "alg": self.algorithm, "kid": self.kid}


@dataclass
class FakeBetterAuth:
    """The JWKS endpoint: `keys` it publishes (or `raw_body`), its `status`, `fetches` seen."""

    url: str
    keys: list[SigningKey] = field(default_factory=list)
    status: int = 200
    raw_body: bytes | None = None
    fetches: int = 0

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/api/auth/jwks"

    def add_key(self, algorithm: str = "EdDSA", kid: str | None = None) -> SigningKey:
        key = SigningKey(
            kid or f"{algorithm}-{len(self.keys)}", algorithm, PRIVATE_KEYS[algorithm]()
        )
        self.keys.append(key)
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """The claims Better Auth's jwt plugin signs, for `user-a` unless overridden;
        an override of None leaves that claim out."""
        now = int(time.time())
        claims = {"sub": "user-a", "iat": now, "exp": now + 900, "iss": self.url, "aud": self.url}
        return {name: value for name, value in {**claims, **overrides}.items() if value is not None}

    def token(self, key: SigningKey, **claims: Any) -> str:
        """A token as Better Auth's jwt plugin signs it, with `claims` as in `claims()`."""
        return jwt.encode(
            self.claims(**claims),
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )


@pytest.fixture
def better_auth(settings: Any) -> Iterator[FakeBetterAuth]:
    """Serve a JWKS on loopback and point the service at it, iss and aud included."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeBetterAuth(url=f"http://127.0.0.1:{server.server_port}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.fetches += 1
            body = fake.raw_body
            if body is None:
                body = json.dumps({"keys": [key.public_jwk() for key in fake.keys]}).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    settings.BETTER_AUTH_JWKS_URL = fake.jwks_url
    settings.JWT_ISSUER = settings.JWT_AUDIENCE = fake.url
    with serving(server):
        yield fake
