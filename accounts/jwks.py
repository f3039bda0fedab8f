"""Better Auth's public keys (its JWKS), fetched lazily and shared by a worker's threads.

The set is kept `JWKS_CACHE_SECONDS`. A token whose `kid` the set lacks triggers one
refetch, then no other for `JWKS_REFETCH_COOLDOWN_SECONDS`, so a flood of made-up
`kid`s cannot hammer Better Auth. When Better Auth can't be reached, the keys
already fetched keep serving; with none to serve, the caller gets a 503.
"""

import json
import logging
import threading
import time
import urllib.request
from functools import lru_cache
from typing import Any

from django.conf import settings

from accounts.exceptions import KeysUnavailable

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES = 1024 * 1024


class JWKSCache:
    """The JWKS at `url` by `kid`; `get` is safe to call from many threads."""

    def __init__(self, url: str, *, max_age: float, cooldown: float, timeout: float) -> None:
        self.url = url
        self.max_age = max_age
        self.cooldown = cooldown
        self.timeout = timeout
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._attempted_at = 0.0
        self._refetched_at: float | None = None
        self._last_fetch_failed = False
        self._lock = threading.Lock()

    def get(self, kid: str) -> dict[str, Any] | None:
        """The JWK with this `kid`, or None if Better Auth has no such key.

        Raises KeysUnavailable when the key isn't cached and Better Auth can't be
        reached to ask.
        """
        if self._is_fresh() and kid in self._keys:
            return self._keys[kid]
        with self._lock:
            if self._should_fetch(kid):
                self._fetch()
            if kid in self._keys:
                return self._keys[kid]
            if self._last_fetch_failed:
                raise KeysUnavailable(wait=self._cooldown_left(self._attempted_at))
            return None

    def _is_fresh(self) -> bool:
        return self._fetched_at is not None and time.monotonic() - self._fetched_at < self.max_age

    def _cooldown_left(self, since: float) -> float:
        return max(0.0, self.cooldown - (time.monotonic() - since))

    def _should_fetch(self, kid: str) -> bool:
        if self._last_fetch_failed and self._cooldown_left(self._attempted_at):
            return False  # Better Auth was just unreachable: don't hammer it
        if not self._is_fresh():
            return True
        if kid in self._keys:
            return False
        # An unknown `kid` may be a freshly rotated key: ask again, once per cool-down.
        if self._refetched_at is not None and self._cooldown_left(self._refetched_at):
            return False
        self._refetched_at = time.monotonic()
        return True

    def _fetch(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            self._keys = self._download()
        except (OSError, ValueError) as error:
            self._last_fetch_failed = True
            logger.warning("JWKS fetch from %s failed: %s", self.url, type(error).__name__)
            return
        self._fetched_at = self._attempted_at
        self._last_fetch_failed = False

    def _download(self) -> dict[str, dict[str, Any]]:
        # The URL is a setting, checked at start-up to be http(s).
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            body = response.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        document = json.loads(body)
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("not a JWKS")
        return {
            key["kid"]: key
            for key in keys
            if isinstance(key, dict) and isinstance(key.get("kid"), str)
        }


def jwks_cache() -> JWKSCache | None:
    """The process's cache for the configured JWKS URL, or None when none is set."""
    if not settings.BETTER_AUTH_JWKS_URL:
        return None
    return _cache_for(
        settings.BETTER_AUTH_JWKS_URL,
        settings.JWKS_CACHE_SECONDS,
        settings.JWKS_REFETCH_COOLDOWN_SECONDS,
        settings.JWKS_FETCH_TIMEOUT_SECONDS,
    )


@lru_cache(maxsize=4)
def _cache_for(url: str, max_age: float, cooldown: float, timeout: float) -> JWKSCache:
    return JWKSCache(url, max_age=max_age, cooldown=cooldown, timeout=timeout)
