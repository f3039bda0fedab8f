"""A Web Push service on loopback that checks every push as a real one and the browser
behind it would: the VAPID token verified (RFC 8292, ES256 against the public key it
names, `aud`, `exp`, `sub`), the body decrypted with the browser's private key and
auth secret (RFC 8291, aes128gcm). Its answers can be set per request (201, 404, 410,
429, 500, with headers), and every push is recorded.

`browser_subscription()` makes what a browser's `pushManager.subscribe()` would: a
fresh P-256 key pair and a 16-byte auth secret.
"""

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece  # type: ignore[import-untyped]
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from testing.live import serving


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """A browser's side of a subscription: the keys only it holds, and its endpoint."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def to_json(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives, as the frontend posts it."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }


def browser_subscription(endpoint: str) -> BrowserSubscription:
    """A fresh subscription for `endpoint`, as a browser makes one."""
    return BrowserSubscription(endpoint)


@dataclass
class ReceivedPush:
    """One POST the service got: the path, headers, and (when the checks passed) the
    decrypted payload and verified VAPID claims; `answer` is the status it gave."""

    path: str
    headers: dict[str, str]
    answer: int
    answer_headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None
    claims: dict[str, Any] | None = None
    problem: str | None = None


@dataclass
class PushService:
    """The running service: `url`, what it `received`, the `answers` still to give."""

    url: str
    vapid_public_key: str
    subscriptions: dict[str, BrowserSubscription] = field(default_factory=dict)
    received: list[ReceivedPush] = field(default_factory=list)
    # Answers to give, in order, as (status, headers); once used up, 201.
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # Seconds to wait before answering (to hold a push in flight).
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, host: str | None = None) -> BrowserSubscription:
        """A browser subscription whose endpoint is here, named by `host` (default: the
        address it listens on)."""
        port = self.url.rsplit(":", 1)[1]
        path = f"/push/{secrets.token_urlsafe(16)}"
        base = self.url if host is None else f"http://{host}:{port}"
        subscription = browser_subscription(f"{base}{path}")
        self.subscriptions[path] = subscription
        return subscription

    def answer(self, status: int, **headers: str) -> None:
        self.answers.append((status, headers))

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> ReceivedPush:
        with self.lock:
            status, answer_headers = self.answers.pop(0) if self.answers else (201, {})
        push = ReceivedPush(path, headers, status, answer_headers)
        try:
            push.claims = self._verify_vapid(headers)
            push.payload = json.loads(self._decrypt(path, headers, body))
        except Exception as error:  # any failed check: refused, as a push service would
            push.problem = f"{type(error).__name__}: {error}"
            push.answer = 403 if push.claims is None else 400
        with self.lock:
            self.received.append(push)
        return push

    def _verify_vapid(self, headers: dict[str, str]) -> dict[str, Any]:
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme.lower() == "vapid", scheme
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert fields["k"] == self.vapid_public_key, "signed with another key"
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(fields["k"])
        )
        audience = f"http://{headers['host']}"
        claims: dict[str, Any] = jwt.decode(
            fields["t"],
            public_key,
            algorithms=["ES256"],
            audience=audience,
            options={"require": ["aud", "exp", "sub"]},
        )
        assert claims["exp"] <= time.time() + 24 * 3600, "exp more than 24 hours ahead"
        assert claims["sub"].startswith(("mailto:", "https://")), claims["sub"]
        return claims

    def _decrypt(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        assert headers["content-encoding"] == "aes128gcm", headers.get("content-encoding")
        subscription = self.subscriptions[path]
        plain: bytes = http_ece.decrypt(
            body,
            private_key=subscription.private_key,
            auth_secret=subscription.auth_secret,
            version="aes128gcm",
        )
        return plain


@contextmanager
def running_push_service(vapid_public_key: str, host: str = "127.0.0.1") -> Iterator[PushService]:
    """Serve a PushService on `host` (a loopback address), on a free port, in a thread."""
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    service = PushService(f"http://{host}:{server.server_port}", vapid_public_key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            if service.delay:
                time.sleep(service.delay)
            push = service.handle(self.path, headers, body)
            self.send_response(push.answer)
            for name, value in push.answer_headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    with serving(server):
        yield service
