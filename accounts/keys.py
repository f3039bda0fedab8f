"""The keys that verify Better Auth tokens.

HS256/384/512 tokens are verified with `BETTER_AUTH_SECRET` through simplejwt's
`TokenBackend`, one per algorithm, built once per configuration.
"""

from functools import lru_cache

from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend


def hmac_backend(algorithm: str) -> TokenBackend | None:
    """The backend for an allowed HMAC `algorithm`, or None when it can't be used."""
    if algorithm not in settings.JWT_HMAC_ALGORITHMS or not settings.BETTER_AUTH_SECRET:
        return None
    return _backend(
        algorithm,
        settings.BETTER_AUTH_SECRET,
        settings.JWT_ISSUER,
        settings.JWT_AUDIENCE,
        settings.JWT_LEEWAY_SECONDS,
    )


@lru_cache(maxsize=16)
def _backend(
    algorithm: str, secret: str, issuer: str | None, audience: str | None, leeway: int
) -> TokenBackend:
    return TokenBackend(
        algorithm, signing_key=secret, issuer=issuer, audience=audience, leeway=leeway
    )
