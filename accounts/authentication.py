"""Authentication of API calls by the JWTs Better Auth issues.

simplejwt's machinery does the cryptography and the standard claims (`TokenBackend`:
signature, `exp`/`nbf`/`iat` with leeway, `iss`, `aud`) and gives the stateless
`request.user` (`TokenUser`, whose id is `sub`). Its own authentication classes and
its JWKS client are not used: they expect simplejwt's `token_type` and `jti`
claims, which Better Auth's tokens do not carry, and fetch keys with no cool-down.
So the header parsing, the choice of key by `alg` and `kid` (`keys.py`, `jwks.py`),
and the claims Better Auth's tokens must have (numeric times, a bounded lifetime, a
text `sub`) are ours.
"""

import binascii
import json
import re
import time
from typing import Any

import jwt
from django.conf import settings
from jwt.utils import base64url_decode
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.models import TokenUser

from accounts import verified
from accounts.exceptions import EXPIRED_DETAIL, TokenRefused
from accounts.keys import backend_for
from accounts.services import user_record_seen

MAX_TOKEN_BYTES = 8192
MAX_SUBJECT_LENGTH = 255
# JWS compact serialization (RFC 7515): three unpadded base64url parts, none empty.
# PyJWT alone would accept a signature with "==" padding after it.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
TIME_CLAIMS = ("exp", "iat", "nbf")
# Seconds since 1970 that a float still holds exactly (year 285 million): no real time
# is beyond it, and arithmetic on a larger integer could overflow.
MAX_TIME = 2**53
# C0 and C1 controls and DEL: a user id holding them would end up in logs and URLs.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def verify_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid Better Auth token; raise TokenRefused (401).

    Raises KeysUnavailable (503) when only Better Auth, unreachable, could tell.
    """
    if not COMPACT_JWS.fullmatch(token):
        raise TokenRefused("malformed token")
    check_unique_names(token)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenRefused("malformed token") from None
    backend = backend_for(header)
    try:
        # simplejwt hints its Token class here; PyJWT underneath takes the string.
        claims = backend.decode(token)  # type: ignore[arg-type]
    except TokenBackendExpiredToken:
        raise TokenRefused("expired", EXPIRED_DETAIL) from None
    except TokenBackendError as error:
        # PyJWT's own message (bad signature, wrong issuer, ...) from `raise ... from`.
        raise TokenRefused(f"invalid: {error.__cause__ or error}") from None

    check_times(claims)
    check_subject(claims.get("sub"))
    return claims


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise TokenRefused("a header or claim name given twice")
    return members


def check_unique_names(token: str) -> None:
    """Refuse a token whose header or claims name a member twice: JSON parsers disagree
    on which of `{"sub": "alice", "sub": "bob"}` counts (RFC 7515 section 5.2 lets a
    verifier refuse it), and Better Auth never writes one."""
    for part in token.split(".")[:2]:
        try:
            json.loads(base64url_decode(part), object_pairs_hook=_unique_members)
        except (ValueError, binascii.Error):
            raise TokenRefused("malformed token") from None


def check_times(claims: dict[str, Any]) -> None:
    """`exp` (required), `iat` and `nbf` are JSON numbers, and the token lives no longer
    than JWT_MAX_LIFETIME_SECONDS (PyJWT takes `"123"` and 10^30 alike)."""
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenRefused(f"{name} is not a number")
        if not abs(value) <= MAX_TIME:  # NaN too
            raise TokenRefused(f"{name} is out of range")
    if "exp" not in claims:
        raise TokenRefused("no exp claim")
    born = claims.get("iat", time.time())
    if claims["exp"] - born > settings.JWT_MAX_LIFETIME_SECONDS:
        raise TokenRefused("lifetime over JWT_MAX_LIFETIME_SECONDS")


def check_subject(subject: Any) -> None:
    """`sub` is 1..255 characters of text that UTF-8 can carry, with no control character."""
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
        raise TokenRefused("sub missing, not a string, or too long")
    if CONTROL_CHARACTER.search(subject):
        raise TokenRefused("sub with a control character")
    try:
        subject.encode("utf-8")
    except UnicodeEncodeError:
        raise TokenRefused("sub with a lone surrogate") from None


class BetterAuthJWTAuthentication(BaseAuthentication):
    """`Authorization: Bearer <JWT>`; `request.user` is a TokenUser whose id is `sub`."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, dict[str, Any]] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2 or len(parts[1]) > MAX_TOKEN_BYTES:
            raise TokenRefused("malformed Authorization header or oversized token")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise TokenRefused("token is not ASCII") from None
        claims = verified.recall(token)
        if claims is None:
            claims = verify_token(token)
            verified.remember(token, claims, leeway=settings.JWT_LEEWAY_SECONDS)
        user_record_seen(claims)
        return TokenUser(claims), claims  # type: ignore[arg-type]

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
