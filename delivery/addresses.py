"""Where anything may be sent: an https URL whose host resolves to public addresses
alone (every outlet's rule: webhooks, Web Push, anything else that calls out), or, with
PUSH_ALLOW_LOOPBACK, http(s) to a loopback host (development and tests).

The rules are our own list of IANA's special-purpose blocks, not the interpreter's
tables alone: they don't change with its patch level. delivery.http checks them when
connecting, on the address actually connected to.
"""

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

# The hosts PUSH_ALLOW_LOOPBACK admits, as urlsplit spells them.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IANA's special-purpose blocks that are not globally reachable (RFC 6890 and its
# registries), refused whatever the interpreter's own tables say: Python before
# 3.11.10 calls 192.0.0.8 (IPv4 dummy address) global, and this machine runs 3.11.7
# (CVE-2024-4032). A few global anycast addresses inside these blocks go too; no push
# service lives there.
SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


class AddressRefused(Exception):
    """The URL is not https on public addresses alone: never sent to."""


class LookupFailed(Exception):
    """DNS gave no answer now: try again later."""


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to, in the order to try them (an address literal:
    itself). The one place this module asks DNS; tests replace it."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """Whether `address` is a globally reachable unicast address: not loopback,
    private, link-local, site-local, multicast, reserved or unspecified, nor an IPv6
    form of such an IPv4 address (mapped, 6to4, NAT64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that address: it is what counts.
        if ip.ipv4_mapped is not None:
            return is_public(str(ip.ipv4_mapped))
        if ip in _NAT64:
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)))
        if ip.sixtofour is not None and not is_public(str(ip.sixtofour)):
            return False
        if ip.is_site_local:
            return False
    if any(ip in block for block in SPECIAL_PURPOSE if block.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _loopback_allowed(parts: SplitResult) -> bool:
    return settings.PUSH_ALLOW_LOOPBACK and parts.hostname in LOOPBACK_HOSTS


def url_refusal(endpoint: str) -> str | None:
    """Why `endpoint` can never be pushed to, by its URL alone: not https (nor, with
    PUSH_ALLOW_LOOPBACK, http to a loopback host), credentials in it, no host, a bad
    port, or an address literal that is not public. None if it may be (when sending,
    `check_endpoint` also resolves its host)."""
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return "not a URL"
    loopback = _loopback_allowed(parts)
    if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
        return "not an https URL"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL"
    if not parts.hostname:
        return "no host"
    try:
        parts.port  # noqa: B018 (raises for a port out of range or not a number)
    except ValueError:
        return "a bad port"
    host = parts.hostname
    if not loopback and _is_address(host) and not is_public(host):
        return f"{host} is not a public address"
    if not loopback and (host == "localhost" or host.endswith((".localhost", ".localhost."))):
        return "a loopback host"
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_url(endpoint: str) -> str:
    """The address to connect to for `endpoint`: the first its host resolves to.

    Raise AddressRefused unless it is https and every address its host resolves to
    is public (`is_public`); with PUSH_ALLOW_LOOPBACK, http or https to 127.0.0.1,
    [::1] or localhost resolving to loopback addresses alone is allowed too. Raise
    LookupFailed when DNS gives no answer now.
    """
    if refusal := url_refusal(endpoint):
        raise AddressRefused(refusal)
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as error:
        raise LookupFailed(f"DNS lookup failed ({type(error).__name__})") from error
    if not addresses:
        raise LookupFailed("DNS gave no address")
    loopback = _loopback_allowed(parts)
    for address in addresses:
        if not (is_public(address) or (loopback and _is_loopback(address))):
            raise AddressRefused(f"{host} resolves to {address}, not a public address")
    return addresses[0]
