"""The key that verifies a Better Auth token, chosen by the token's `alg` and `kid`.

HS256/384/512 tokens verify only with `BETTER_AUTH_SECRET`; EdDSA, ES256, ES512,
RS256 and PS256 tokens only with the JWKS key their `kid` names, and only if that
key's type fits the algorithm. No key serves two families, so an HS256 token
"signed" with a public key can never verify. Other header fields (`jku`, `x5u`,
`jwk`) are ignored. Verification itself is simplejwt's `TokenBackend`.
"""

import json
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend

from accounts.exceptions import TokenRefused
from accounts.jwks import jwks_cache

MAX_KID_LENGTH = 255


def backend_for(header: dict[str, Any]) -> TokenBackend:
    """A backend able to verify a token with this header; TokenRefused if none."""
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in settings.JWT_ALGORITHMS:
        raise TokenRefused("algorithm not allowed")
    claims = (settings.JWT_ISSUER, settings.JWT_AUDIENCE, settings.JWT_LEEWAY_SECONDS)
    if algorithm in settings.HMAC_ALGORITHMS:
        if not settings.BETTER_AUTH_SECRET:
            raise TokenRefused("HMAC token but no BETTER_AUTH_SECRET")
        return _hmac_backend(algorithm, settings.BETTER_AUTH_SECRET, *claims)
    jwk = _jwk_for(algorithm, header.get("kid"))
    if jwk is None:
        raise TokenRefused("no JWKS key of that kid and type")
    backend = _asymmetric_backend(algorithm, json.dumps(jwk, sort_keys=True), *claims)
    if backend is None:
        raise TokenRefused("unusable JWKS key")
    return backend


def hmac_backend(algorithm: str) -> TokenBackend:
    """The backend that signs with `BETTER_AUTH_SECRET`; ValueError if it can't be used."""
    usable = algorithm in settings.HMAC_ALGORITHMS and algorithm in settings.JWT_ALGORITHMS
    if not usable or not settings.BETTER_AUTH_SECRET:
        raise ValueError(
            f"{algorithm} is not an allowed HMAC algorithm, or BETTER_AUTH_SECRET is unset."
        )
    return backend_for({"alg": algorithm})


def _jwk_for(algorithm: str, kid: Any) -> dict[str, Any] | None:
    """The JWKS key `kid` names, if its type fits `algorithm`."""
    cache = jwks_cache()
    if cache is None or not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        return None
    jwk = cache.get(kid)
    if jwk is None:
        return None
    key_type, curves = settings.ASYMMETRIC_ALGORITHMS[algorithm]
    fits = jwk.get("kty") == key_type and (curves is None or jwk.get("crv") in curves)
    return jwk if fits and jwk.get("alg", algorithm) == algorithm else None


@lru_cache(maxsize=16)
def _hmac_backend(
    algorithm: str, secret: str, issuer: str | None, audience: str | None, leeway: int
) -> TokenBackend:
    return TokenBackend(
        algorithm, signing_key=secret, issuer=issuer, audience=audience, leeway=leeway
    )


@lru_cache(maxsize=64)
def _asymmetric_backend(
    algorithm: str, jwk_json: str, issuer: str | None, audience: str | None, leeway: int
) -> TokenBackend | None:
    try:
        key = jwt.PyJWK(json.loads(jwk_json), algorithm=algorithm).key
    except (jwt.PyJWTError, ValueError):
        return None
    return TokenBackend(
        algorithm, verifying_key=key, issuer=issuer, audience=audience, leeway=leeway
    )
