"""Tokens already verified, remembered until they expire.

A client sends the same token with every call for its whole lifetime (15 minutes
by default), so checking its signature and claims once is enough: later calls
only check that it hasn't expired since. The memory is per process and bounded;
it is forgotten whenever a setting that decides validity changes (in tests), and
a token verified here stays accepted until its `exp` even if its key leaves the
JWKS meanwhile (it could not be revoked before `exp` anyway).
"""

import threading
import time
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

MAX_REMEMBERED = 10_000
VALIDITY_SETTINGS = {
    "BETTER_AUTH_SECRET",
    "BETTER_AUTH_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_LEEWAY_SECONDS",
    "JWT_MAX_LIFETIME_SECONDS",
    "JWT_ALGORITHMS",
}

_claims_by_token: dict[str, tuple[dict[str, Any], float]] = {}
_lock = threading.Lock()


def recall(token: str) -> dict[str, Any] | None:
    """The claims of `token` if it was verified and has not expired since."""
    remembered = _claims_by_token.get(token)
    if remembered is None:
        return None
    claims, expires_at = remembered
    if time.time() >= expires_at:
        _claims_by_token.pop(token, None)
        return None
    return claims


def remember(token: str, claims: dict[str, Any], leeway: float) -> None:
    with _lock:
        if len(_claims_by_token) >= MAX_REMEMBERED:
            # Drop the oldest tenth; dicts keep insertion order.
            for stale in list(_claims_by_token)[: MAX_REMEMBERED // 10]:
                del _claims_by_token[stale]
        _claims_by_token[token] = (claims, float(claims["exp"]) + leeway)


@receiver(setting_changed)
def forget_all_when_validity_rules_change(setting: str, **_: Any) -> None:
    if setting in VALIDITY_SETTINGS:
        _claims_by_token.clear()
