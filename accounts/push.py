"""Web Push delivery (RFC 8030): an outbox row per subscription and message, sent
encrypted (RFC 8291, aes128gcm) and signed (RFC 8292, VAPID) through pywebpush,
retried with backoff, and only ever to public addresses.

`enqueue()` queues a message for each of a user's subscriptions; `deliver_due()`,
run by the worker, sends what is due. Each message is claimed before it is sent
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, then its `next_attempt_at` moved a
lease ahead and committed), so two workers never send one message at once, and one
claimed by a worker that died is sent again when the lease runs out.

The endpoint's address is checked when sending, not only when subscribing: a name
that resolved to a public address yesterday may resolve to 10.0.0.1 today. The
connection then goes to the very address checked (TLS still verified for the host
name), so DNS can't change its answer between the check and the connect. Nothing
here logs or records an endpoint's path or a subscription's keys: the path is the
capability to push to that browser. Only the host is.
"""

import base64
import functools
import ipaddress
import json
import logging
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task
from py_vapid import Vapid  # type: ignore[import-untyped]
from py_vapid import jwt as vapid_jwt
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter

from accounts.models import PushFailure, PushMessage, PushSubscription

logger = logging.getLogger(__name__)

URGENCIES = frozenset(PushMessage.Urgency.values)
# RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet.
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
# What one aes128gcm record carries to every push service: the 4096 bytes of body
# they must accept (RFC 8030 §7.2), less 86 of header and 17 of delimiter and tag.
MAX_PAYLOAD_BYTES = 3993
# Connect and read timeouts of one push, in seconds.
TIMEOUT = (5, 10)
# Messages are claimed this many at a time, each claim for LEASE: a batch's sends,
# each bounded by TIMEOUT, end well within it. (A push service that drips its answer
# a byte per read timeout could outlast it; then that one service may get the
# message twice, which it can't tell from a retry.)
CLAIM_BATCH = 10
LEASE = timedelta(minutes=5)
# Retries wait 30 s, 1, 2, 4 … minutes, at most an hour; a Retry-After at most a day.
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
MAX_RETRY_AFTER_SECONDS = 86400
# How long a VAPID token is valid; RFC 8292 §2 allows at most 24 hours.
VAPID_TOKEN_SECONDS = 12 * 3600
# The hosts PUSH_ALLOW_LOOPBACK admits, as urlsplit spells them.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_PORTS = {"https": 443, "http": 80}
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


class EndpointRefused(Exception):
    """The endpoint is not https on public addresses alone: never sent to."""


class _TryLater(Exception):
    """The push could not be sent now (no DNS answer, no connection, a timeout)."""


class _Undeliverable(Exception):
    """The push can never be sent (its TTL ran out, the keys can't encrypt)."""


# --- The VAPID key ---------------------------------------------------------------------


@functools.cache
def _key_from(private_key: str) -> ec.EllipticCurvePrivateKey:
    raw = base64.urlsafe_b64decode(private_key + "=" * (-len(private_key) % 4))
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def signing_key() -> ec.EllipticCurvePrivateKey | None:
    """The VAPID private key (VAPID_PRIVATE_KEY); None when none is set."""
    return _key_from(settings.VAPID_PRIVATE_KEY) if settings.VAPID_PRIVATE_KEY else None


def public_key() -> str | None:
    """The VAPID public key browsers subscribe with (`applicationServerKey`): the
    uncompressed P-256 point, base64url without padding; None when none is set."""
    key = signing_key()
    return None if key is None else public_key_of(key)


def public_key_of(key: ec.EllipticCurvePrivateKey) -> str:
    """`key`'s public half as browsers take it (see `public_key`)."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def new_key_pair() -> tuple[str, str]:
    """A fresh VAPID key pair from py-vapid: the private key as VAPID_PRIVATE_KEY takes
    it (the raw P-256 scalar, base64url) and its public key."""
    vapid = Vapid()
    vapid.generate_keys()
    scalar: int = vapid.private_key.private_numbers().private_value
    return _b64url(scalar.to_bytes(32, "big")), public_key_of(vapid.private_key)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- Where a push may go ---------------------------------------------------------------


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


def check_endpoint(endpoint: str) -> str:
    """The address to connect to for `endpoint`: the first its host resolves to.

    Raise EndpointRefused unless it is https and every address its host resolves to
    is public (`is_public`); with PUSH_ALLOW_LOOPBACK, http or https to 127.0.0.1,
    [::1] or localhost resolving to loopback addresses alone is allowed too. Raise
    _TryLater when DNS gives no answer now.
    """
    if refusal := url_refusal(endpoint):
        raise EndpointRefused(refusal)
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as error:
        raise _TryLater(f"DNS lookup failed ({type(error).__name__})") from error
    if not addresses:
        raise _TryLater("DNS gave no address")
    loopback = _loopback_allowed(parts)
    for address in addresses:
        if not (is_public(address) or (loopback and _is_loopback(address))):
            raise EndpointRefused(f"{host} resolves to {address}, not a public address")
    return addresses[0]


class _HostNameAdapter(HTTPAdapter):
    """Sends to whatever address the URL names, while TLS (SNI and the certificate
    check) is for `host_name`, the endpoint's own host."""

    def __init__(self, host_name: str) -> None:
        self.host_name = host_name  # set first: HTTPAdapter's __init__ makes the pools
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["server_hostname"] = self.host_name
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


class _PinnedSession(requests.Session):
    """A session to one endpoint's checked address: no proxy from the environment
    (it would connect elsewhere) and no redirect (it would go unchecked)."""

    def __init__(self, host_name: str) -> None:
        super().__init__()
        self.trust_env = False
        adapter = _HostNameAdapter(host_name)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def _authority(host: str, port: int | None) -> str:
    bracketed = f"[{host}]" if ":" in host else host
    return f"{bracketed}:{port}" if port else bracketed


# --- Queueing and sending ----------------------------------------------------------------


def enqueue(
    *, user_id: str, payload: dict[str, Any], topic: str, ttl: int, urgency: str = "normal"
) -> int:
    """Queue `payload` (JSON; datetimes as ISO 8601) for each of the user's push
    subscriptions, due now; how many were queued (0 without subscriptions, or without
    a VAPID key, when nothing could ever send them).

    Raise ValueError for a topic that is not 1..32 URL-safe base64 characters, an
    unknown urgency, a negative ttl, or a payload over MAX_PAYLOAD_BYTES.
    """
    if not TOPIC.fullmatch(topic):
        raise ValueError("topic must be 1 to 32 characters of A-Z, a-z, 0-9, '-' and '_'.")
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {sorted(URGENCIES)}.")
    if ttl < 0:
        raise ValueError("ttl must be 0 or more seconds.")
    body = _payload_bytes(payload)
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"The payload is over {MAX_PAYLOAD_BYTES} bytes as JSON.")
    if signing_key() is None:
        return 0
    stored = json.loads(body)
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a subscription deleted meanwhile waits rather than breaks the insert.
        subscriptions = list(
            PushSubscription.objects.select_for_update()
            .filter(user_id=user_id)
            .values_list("id", flat=True)
        )
        PushMessage.objects.bulk_create(
            PushMessage(
                subscription_id=subscription_id,
                payload=stored,
                topic=topic,
                ttl=ttl,
                urgency=urgency,
                next_attempt_at=now,
                created_at=now,
            )
            for subscription_id in subscriptions
        )
    return len(subscriptions)


def _payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send up to `limit` messages due at `now` (default: the current time); how many
    were handled (sent, retried later, or given up). Does nothing without a VAPID key.

    2xx: the message is done. 404 or 410: the subscription is gone, and with it its
    messages. Anything else (5xx, 429, no connection, a timeout): tried again after
    30 s · 2^(attempts - 1), at most an hour, or after the push service's Retry-After,
    until PUSH_MAX_ATTEMPTS; every failure is recorded as a PushFailure.
    """
    if signing_key() is None:
        return 0
    handled = 0
    # Subscriptions a push service said are gone: their other claimed messages went
    # with them.
    gone: set[int] = set()
    while handled < limit:
        batch = _claim(now or timezone.now(), min(CLAIM_BATCH, limit - handled))
        if not batch:
            break
        for message in batch:
            if message.subscription_id not in gone and not _deliver(message, now or timezone.now()):
                gone.add(message.subscription_id)
        handled += len(batch)
    return handled


def _claim(now: datetime, count: int) -> list[PushMessage]:
    """Take up to `count` due messages for this worker for LEASE, committed before any
    is sent: other workers skip them meanwhile. (SQLite has no row locks: there, run
    one worker.)"""
    with transaction.atomic():
        due = PushMessage.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")
        ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:count])
        PushMessage.objects.filter(id__in=ids).update(next_attempt_at=now + LEASE)
    claimed = PushMessage.objects.filter(id__in=ids).select_related("subscription")
    return list(claimed.order_by("id"))


def _deliver(message: PushMessage, now: datetime) -> bool:
    """Send one claimed message and settle it; False if its subscription is gone."""
    subscription = message.subscription
    try:
        status, retry_after = _send(message, subscription, now)
    except EndpointRefused as refusal:
        _give_up(message, None, f"refused: {refusal}")
    except _Undeliverable as error:
        _give_up(message, None, str(error))
    except _TryLater as error:
        _retry(message, now, None, str(error), None)
    else:
        if 200 <= status < 300:
            PushMessage.objects.filter(id=message.id).delete()
        elif status in (404, 410):
            # The browser unsubscribed, or the push service expired the subscription.
            PushSubscription.objects.filter(id=subscription.id).delete()
            _record(subscription, status, "the subscription is gone; removed")
            return False
        else:
            _retry(message, now, status, f"HTTP {status}", retry_after)
    return True


def _send(
    message: PushMessage, subscription: PushSubscription, now: datetime
) -> tuple[int, int | None]:
    """POST the message to the endpoint's checked address: its status and Retry-After
    (seconds). Raise EndpointRefused, or _TryLater when no answer came."""
    address = check_endpoint(subscription.endpoint)
    parts = urlsplit(subscription.endpoint)
    host = parts.hostname or ""
    ttl = message.ttl - max(0, int((now - message.created_at).total_seconds()))
    if ttl <= 0 and message.attempts:
        raise _Undeliverable("its TTL ran out before it could be delivered")
    pinned = urlunsplit(
        (parts.scheme, _authority(address, parts.port), parts.path, parts.query, "")
    )
    # The origin's serialization (RFC 6454): the scheme's default port left out.
    port = None if parts.port == DEFAULT_PORTS[parts.scheme] else parts.port
    headers = {
        "Host": _authority(host, port),
        "Authorization": _vapid_authorization(f"{parts.scheme}://{_authority(host, port)}"),
        "Urgency": message.urgency,
        "Topic": message.topic,
    }
    pusher = WebPusher(
        {"endpoint": pinned, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
        requests_session=_PinnedSession(host),
    )
    try:
        response = pusher.send(
            _payload_bytes(message.payload),
            headers,
            ttl=max(0, ttl),
            content_encoding="aes128gcm",
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        # The exception's text holds the URL (its path): only its kind is kept.
        raise _TryLater(f"no answer ({type(error).__name__})") from error
    except (WebPushException, ValueError) as error:
        raise _Undeliverable(f"the keys can't encrypt ({type(error).__name__})") from error
    return response.status_code, _retry_after(response, now)


def _vapid_authorization(origin: str) -> str:
    """RFC 8292's `Authorization: vapid t=<JWT>, k=<public key>` for pushes to `origin`."""
    key = signing_key()
    assert key is not None  # deliver_due sends nothing without one
    claims = {
        "aud": origin,
        "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
        "sub": settings.VAPID_SUBJECT,
    }
    return f"vapid t={vapid_jwt.sign(claims, key)}, k={public_key()}"


def _retry_after(response: requests.Response, now: datetime) -> int | None:
    """The Retry-After header in seconds (from a number or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - now).total_seconds()))


def _retry(
    message: PushMessage,
    now: datetime,
    status: int | None,
    reason: str,
    retry_after: int | None,
) -> None:
    attempts = message.attempts + 1
    if attempts >= settings.PUSH_MAX_ATTEMPTS:
        _give_up(message, status, f"gave up after {attempts} attempts: {reason}")
        return
    if retry_after is None:
        delay = min(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    else:
        delay = min(max(1, retry_after), MAX_RETRY_AFTER_SECONDS)
    # An update, not save(): a message deleted meanwhile (its subscription went) stays so.
    PushMessage.objects.filter(id=message.id).update(
        attempts=attempts, next_attempt_at=now + timedelta(seconds=delay)
    )
    _record(message.subscription, status, f"{reason}; retrying in {delay} s")


def _give_up(message: PushMessage, status: int | None, reason: str) -> None:
    PushMessage.objects.filter(id=message.id).delete()
    _record(message.subscription, status, reason)


def _record(subscription: PushSubscription, status: int | None, reason: str) -> None:
    """Keep a failure for support staff, and log it: the host, never the path or keys."""
    host = urlsplit(subscription.endpoint).hostname or ""
    logger.warning(
        "push failed",
        extra={"user_id": subscription.user_id, "host": host, "status": status, "reason": reason},
    )
    try:
        with transaction.atomic():
            PushFailure.objects.create(
                user_id=subscription.user_id,
                endpoint_host=host[:255],
                status_code=status,
                reason=reason[:200],
            )
    except IntegrityError:
        pass  # the user was deleted meanwhile, and with them what support could look at


# Support staff look at recent failures; older ones only fill the table.
FAILURES_KEPT_FOR = timedelta(days=30)


def forget_old_failures(*, now: datetime | None = None) -> int:
    """Delete the delivery failures recorded more than FAILURES_KEPT_FOR ago; how many.
    The worker runs it daily."""
    before = (now or timezone.now()) - FAILURES_KEPT_FOR
    deleted: int = PushFailure.objects.filter(created_at__lt=before).delete()[0]
    return deleted


def deliver_soon() -> None:
    """Queue a run of `deliver_due` on the worker's queue now, instead of waiting up to
    15 s for its next scheduled run: what fires a reminder calls it once it queued pushes."""
    async_task("accounts.push.deliver_due")
