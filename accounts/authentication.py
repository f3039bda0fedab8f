"""Authentication of API calls by the JWTs Better Auth issues.

simplejwt's machinery does the cryptography and the standard claims (`TokenBackend`:
signature, `exp`/`nbf`/`iat` with leeway, `iss`, `aud`) and gives the stateless
`request.user` (`TokenUser`, whose id is `sub`). Its own authentication classes and
its JWKS client are not used: they expect simplejwt's `token_type` and `jti`
claims, which Better Auth's tokens do not carry, and fetch keys with no cool-down.
So the header parsing, the choice of key by `alg` and `kid` (`keys.py`, `jwks.py`),
and the claims Better Auth's tokens must have (`exp`, a string `sub`) are ours.
"""

from typing import Any

import jwt
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.models import TokenUser

from accounts.keys import REFUSED_DETAIL, backend_for
from accounts.services import user_record_seen

MAX_TOKEN_BYTES = 8192
MAX_SUBJECT_LENGTH = 255

EXPIRED_DETAIL = "The access token has expired."


def verify_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid Better Auth token; raise AuthenticationFailed.

    Raises KeysUnavailable (503) when only Better Auth, unreachable, could tell.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise AuthenticationFailed(REFUSED_DETAIL) from None
    backend = backend_for(header)
    try:
        # simplejwt hints its Token class here; PyJWT underneath takes the string.
        claims = backend.decode(token)  # type: ignore[arg-type]
    except TokenBackendExpiredToken:
        raise AuthenticationFailed(EXPIRED_DETAIL) from None
    except TokenBackendError:
        raise AuthenticationFailed(REFUSED_DETAIL) from None

    subject = claims.get("sub")
    if "exp" not in claims or not isinstance(subject, str):
        raise AuthenticationFailed(REFUSED_DETAIL)
    if not 0 < len(subject) <= MAX_SUBJECT_LENGTH or "\x00" in subject:
        raise AuthenticationFailed(REFUSED_DETAIL)
    return claims


class BetterAuthJWTAuthentication(BaseAuthentication):
    """`Authorization: Bearer <JWT>`; `request.user` is a TokenUser whose id is `sub`."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, dict[str, Any]] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2 or len(parts[1]) > MAX_TOKEN_BYTES:
            raise AuthenticationFailed(REFUSED_DETAIL)
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(REFUSED_DETAIL) from None
        claims = verify_token(token)
        user_record_seen(claims)
        return TokenUser(claims), claims  # type: ignore[arg-type]

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
