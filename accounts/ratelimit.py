"""Per-caller rate limits (`RATE_LIMIT_USER`, `RATE_LIMIT_ANON`), counted by django-ratelimit.

A caller with a valid token is counted by its `sub`; any other call by its client
address. Counters live in the default cache (`CACHE_URL`).
"""

import functools
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled
from rest_framework.request import Request


def client_address(request: HttpRequest | Request) -> str:
    """The caller's address: REMOTE_ADDR, or, when that is a trusted proxy's
    (FORWARDED_ALLOW_IPS), the trusted entry of CLIENT_IP_HEADER.

    With `X-Forwarded-For: spoofed, client, proxy1` and TRUSTED_PROXY_COUNT=2 the
    client is `client`: every entry right of it was appended by our own proxies.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    header = settings.CLIENT_IP_HEADER
    if header and from_trusted_proxy(remote):
        hops = [hop.strip() for hop in request.headers.get(header, "").split(",") if hop.strip()]
        if len(hops) >= settings.TRUSTED_PROXY_COUNT:
            return hops[-settings.TRUSTED_PROXY_COUNT]
    return remote


def from_trusted_proxy(address: str) -> bool:
    """Whether `address` is one of FORWARDED_ALLOW_IPS (`*`: any)."""
    if "*" in settings.FORWARDED_ALLOW_IPS:
        return True
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in _networks(tuple(settings.FORWARDED_ALLOW_IPS)))


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in entries)


def enforce_rate_limit(request: Request, *, anonymous_group: str = "api-anon") -> None:
    """Count this call against its caller (anonymous calls in `anonymous_group`, by
    address); raise Throttled (429) once over the limit."""
    if request.user:
        group, key, rate = "api-user", str(request.user.id), settings.RATE_LIMIT_USER
    else:
        group, key, rate = anonymous_group, client_address(request), settings.RATE_LIMIT_ANON
    if rate is None:
        return
    usage = get_usage(
        request, group=group, key=lambda _group, _request: key, rate=rate, increment=True
    )
    if usage and usage["should_limit"]:
        raise Throttled(wait=max(1, usage["time_left"]))


class RateLimitedViewMixin:
    """Counts every call of a DRF view, including the ones authentication refuses.

    DRF would throttle only after authentication and permissions pass, so a flood
    of bad tokens would never be limited; counting here sees every call.
    """

    # The probes count apart: bad-token calls from the prober's address must not make
    # the platform think the service is down.
    anonymous_rate_group = "api-anon"

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)  # type: ignore[misc]
        finally:
            enforce_rate_limit(request, anonymous_group=self.anonymous_rate_group)
