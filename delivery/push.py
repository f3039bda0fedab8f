"""Web Push (RFC 8030): an outbox row per subscription and message, sent by the
delivery loop through pywebpush's `webpush` (encrypted per RFC 8291, aes128gcm;
signed per RFC 8292, VAPID, with py-vapid's key) over the hardened client
(delivery.http: public addresses only, checked on the connection made, no redirects,
a total deadline), retried with backoff.

`enqueue()` queues a message for each of a user's subscriptions; the loop claims due
ones (delivery.outbox.claim), `send`s each on a delivery thread and `settle`s the
outcome, keeping every attempt as a PushAttempt (a reminder's names its notification:
support's trail of it). `deliver_due()` does the same at once, for a command or a test. Nothing here
logs or records an endpoint's path or a subscription's keys: the path is the
capability to push to that browser. Only the host is.
"""

import base64
import functools
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]

from delivery import outbox
from delivery.addresses import AddressRefused, LookupFailed
from delivery.http import NoAnswer, Sessions, deadline
from delivery.models import PushAttempt, PushMessage, PushOutcome, PushSubscription

logger = logging.getLogger(__name__)

URGENCIES = frozenset(PushMessage.Urgency.values)
# RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet.
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
# What one aes128gcm record carries to every push service: the 4096 bytes of body
# they must accept (RFC 8030 §7.2), less 86 of header and 17 of delimiter and tag.
MAX_PAYLOAD_BYTES = 3993
# Retries wait 30 s, 1, 2, 4 … minutes, at most an hour; a Retry-After at most a day.
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
MAX_RETRY_AFTER_SECONDS = 86400


# --- The VAPID key ---------------------------------------------------------------------


@functools.cache
def _vapid_from(private_key: str) -> Any:
    return Vapid.from_raw(private_key.rstrip("=").encode())


def _vapid() -> Any:
    """py-vapid's signer of VAPID_PRIVATE_KEY; None when none is set."""
    return _vapid_from(settings.VAPID_PRIVATE_KEY) if settings.VAPID_PRIVATE_KEY else None


def signing_key() -> ec.EllipticCurvePrivateKey | None:
    """The VAPID private key (VAPID_PRIVATE_KEY); None when none is set."""
    vapid = _vapid()
    return None if vapid is None else vapid.private_key


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


# --- Queueing ----------------------------------------------------------------------------


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
                user_id=user_id,
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


# --- Sending (on a delivery thread) and settling (on the loop's) ---------------------------


@dataclass(frozen=True)
class Outcome:
    """What one push attempt came to: its push service's status (None: no answer),
    whether to retry it (after `retry_after` seconds, if the service said), and why."""

    status: int | None
    reason: str
    retry: bool = False
    retry_after: int | None = None
    # Never sent: the endpoint's host is not (or no longer) a public address.
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The browser unsubscribed, or the push service expired the subscription."""
        return self.status in (404, 410)


def send(message: PushMessage, sessions: Sessions, now: datetime) -> Outcome:
    """Send one claimed message (its subscription loaded) to its endpoint; touches no
    database."""
    if _vapid() is None:
        return Outcome(None, "push is off: no VAPID key", retry=True)
    subscription = message.subscription
    ttl = message.ttl - max(0, int((now - message.created_at).total_seconds()))
    if ttl <= 0 and message.attempts:
        return Outcome(None, "its TTL ran out before it could be delivered")
    try:
        with deadline():
            response = webpush(
                {
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                _payload_bytes(message.payload),
                vapid_private_key=_vapid(),
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                content_encoding="aes128gcm",
                ttl=max(0, ttl),
                headers={"Urgency": message.urgency, "Topic": message.topic},
                requests_session=sessions.users,
                timeout=settings.DELIVERY_TIMEOUT_SECONDS,
            )
    except AddressRefused as refusal:
        return Outcome(None, f"refused: {refusal}", refused=True)
    except (LookupFailed, NoAnswer) as error:
        return Outcome(None, str(error), retry=True)
    except WebPushException as error:
        if error.response is None:  # the keys could not encrypt
            return Outcome(None, f"the keys can't encrypt ({type(error).__name__})")
        response = error.response
    except requests.RequestException as error:
        # The exception's text holds the URL (its path): only its kind is kept.
        return Outcome(None, f"no answer ({type(error).__name__})", retry=True)
    except ValueError as error:
        return Outcome(None, f"the keys can't encrypt ({type(error).__name__})")
    status = response.status_code
    if 200 <= status < 300 or status in (404, 410):
        return Outcome(status, f"HTTP {status}")
    return Outcome(status, f"HTTP {status}", retry=True, retry_after=_retry_after(response, now))


def settle(message: PushMessage, outcome: Outcome, now: datetime) -> None:
    """Write an attempt's outcome, and keep it as a PushAttempt: 2xx, the message is
    done; 404 or 410, the subscription is gone, and with it its messages; a failure
    worth retrying, tried again after 30 s · 2^(attempts - 1), at most an hour, or after
    the push service's Retry-After, until PUSH_MAX_ATTEMPTS; any other, given up."""
    if outcome.delivered:
        PushMessage.objects.filter(outbox.still_claimed(message)).delete()
        _record(message, outcome, PushOutcome.DELIVERED, outcome.reason, now)
    elif outcome.gone:
        PushSubscription.objects.filter(id=message.subscription_id).delete()
        _record(message, outcome, PushOutcome.GONE, "the subscription is gone; removed", now)
    elif outcome.retry:
        _retry(message, now, outcome)
    else:
        PushMessage.objects.filter(outbox.still_claimed(message)).delete()
        kind = PushOutcome.REFUSED if outcome.refused else PushOutcome.GIVEN_UP
        _record(message, outcome, kind, outcome.reason, now)


def settle_all(outcomes: list[tuple[PushMessage, Outcome]], now: datetime) -> None:
    """`settle` each of a turn's outcomes."""
    for message, outcome in outcomes:
        settle(message, outcome, now)


def is_on() -> bool:
    """Whether Web Push is on: a VAPID key is set."""
    return bool(settings.VAPID_PRIVATE_KEY)


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send up to `limit` messages due at `now` (default: the current time), one at a
    time on this thread; how many were handled (sent, retried later, or given up).
    Does nothing without a VAPID key."""
    if signing_key() is None:
        return 0
    handled = 0
    sessions = Sessions()
    try:
        while handled < limit:
            claimed = outbox.claim(
                PushMessage,
                now=now or timezone.now(),
                limit=min(10, limit - handled),
                ordered=False,
                related=("subscription",),
            )
            if not claimed:
                break
            gone: set[int] = set()
            for message in claimed:
                if message.subscription_id in gone:
                    continue  # went with its subscription
                outcome = send(message, sessions, now or timezone.now())
                settle(message, outcome, now or timezone.now())
                if outcome.gone:
                    gone.add(message.subscription_id)
            handled += len(claimed)
    finally:
        sessions.close()
    return handled


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


def _retry(message: PushMessage, now: datetime, outcome: Outcome) -> None:
    attempts = message.attempts + 1
    if attempts >= settings.PUSH_MAX_ATTEMPTS:
        PushMessage.objects.filter(outbox.still_claimed(message)).delete()
        reason = f"gave up after {attempts} attempts: {outcome.reason}"
        _record(message, outcome, PushOutcome.GIVEN_UP, reason, now)
        return
    if outcome.retry_after is None:
        delay = min(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    else:
        delay = min(max(1, outcome.retry_after), MAX_RETRY_AFTER_SECONDS)
    # An update, not save(): a message deleted meanwhile (its subscription went) stays so.
    if not PushMessage.objects.filter(outbox.still_claimed(message)).update(
        attempts=attempts, next_attempt_at=now + timedelta(seconds=delay)
    ):
        return
    reason = f"{outcome.reason}; retrying in {delay} s"
    _record(message, outcome, PushOutcome.RETRYING, reason, now)


def _record(
    message: PushMessage, outcome: Outcome, kind: PushOutcome, reason: str, now: datetime
) -> None:
    """Keep the attempt for support staff, and log a failed one: the host, never the
    path or keys."""
    subscription = message.subscription
    host = urlsplit(subscription.endpoint).hostname or ""
    if kind != PushOutcome.DELIVERED:
        logger.warning(
            "push failed",
            extra={
                "user_id": subscription.user_id,
                "host": host,
                "status": outcome.status,
                "reason": reason,
            },
        )
    try:
        with transaction.atomic():
            PushAttempt.objects.create(
                user_id=subscription.user_id,
                notification_id=_notification_of(message),
                subscription_id=subscription.id,
                endpoint_host=host[:255],
                status_code=outcome.status,
                outcome=kind,
                reason=reason[:200],
                created_at=now,
            )
    except IntegrityError:
        pass  # the user was deleted meanwhile, and with them what support could look at


def _notification_of(message: PushMessage) -> int | None:
    """The notification a reminder's push tells of (delivery.reminders), if it is one."""
    payload = message.payload
    if not isinstance(payload, dict) or payload.get("type") != "reminder":
        return None
    notification_id = payload.get("notification_id")
    # bool is an int too, and no notification's id.
    if isinstance(notification_id, int) and not isinstance(notification_id, bool):
        return notification_id
    return None


# Support staff look at a month of attempts; older ones only fill the table.
ATTEMPTS_KEPT_FOR = timedelta(days=30)


def forget_old_attempts(*, now: datetime | None = None) -> int:
    """Delete the push attempts (the failures among them) made more than
    ATTEMPTS_KEPT_FOR ago; how many. The worker runs it daily."""
    before = (now or timezone.now()) - ATTEMPTS_KEPT_FOR
    deleted: int = PushAttempt.objects.filter(created_at__lt=before).delete()[0]
    return deleted
