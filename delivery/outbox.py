"""The outbox's steps: events handed to the outlets (`fan_out`), due messages taken
for sending (`claim`), and the outcome of each written back (`settle`, `failed`).

Fan-out. Pending events become one Delivery per webhook that wants them and per Dapr
topic, in event order, then stop being pending: all in one transaction, under a lock
that makes fan-outs take turns (so one task's deliveries are created in the order its
events were). An event's transaction took its task's row lock, so one task's events
commit in id order.

Claiming. A due message is taken by a conditional update (its `next_attempt_at` must
still be due, moved a lease ahead by the same statement), so two workers never take
the same attempt; one taken by a worker that died is due again when the lease
(DELIVERY_LEASE_SECONDS) runs out: at least once. Within a queue, a subject's
messages go out one at a time, in id order: only the oldest of each is eligible, and
it stays in the table until it is delivered or given up. Each claim takes at most
PER_USER of one user's messages, the others' first (`ORDER BY turn`), and none of the
users the caller names (those with PER_USER messages in flight already): a user's
backlog, or a receiver that holds each request to the deadline, delays mostly that
user's own deliveries (delivery.loop).
"""

import logging
import operator
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import BetterAuthUser
from delivery import payloads
from delivery.models import Delivery, Event, Webhook
from delivery.retry import delay_after

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
# At most this many of one user's messages in flight in one worker.
PER_USER = 4
CLAIM_TRIES = 3
# Why a message was given up or is retried is kept this long, for support staff.
REASON_LENGTH = 200


def _subject(event: Event) -> str:
    if event.type.startswith("list."):
        return f"list:{event.list_id}"
    return f"task:{event.task_id}"


def dapr_cloud_event(event: Event, topic: str, data: bytes) -> str:
    """The CloudEvent (1.0, structured JSON) publishing `data` of `event` to `topic`:
    its id is the event's, the same on every retry, so a consumer can drop a repeat."""
    envelope = (
        b'{"specversion":"1.0","id":"evt_%d","source":"todo-api","type":"%s",'
        b'"topic":"%s","datacontenttype":"application/json","data":%s}'
        % (event.id, event.type.encode(), topic.encode(), data)
    )
    return envelope.decode()


def _take_turn() -> bool:
    """Whether this transaction may fan out now: one at a time (on SQLite, the write
    lock its IMMEDIATE transaction holds already makes them take turns)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('delivery.fan_out'))")
        (taken,) = cursor.fetchone()
    return bool(taken)


def fan_out(*, limit: int = FAN_OUT_BATCH) -> int:
    """Hand up to `limit` pending events, oldest first, to the outlets; how many. None
    while another worker is fanning out."""
    now = timezone.now()
    # Looked at first without a transaction: on SQLite, one takes the write lock.
    if not Event.objects.filter(pending=True).exists():
        return 0
    with transaction.atomic():
        if not _take_turn():
            return 0
        events = list(Event.objects.filter(pending=True).order_by("id")[:limit])
        if not events:
            return 0
        hooks: dict[str, list[Webhook]] = defaultdict(list)
        users = {event.user_id for event in events}
        for hook in Webhook.objects.filter(user_id__in=users, disabled_at__isnull=True):
            hooks[hook.user_id].append(hook)
        # A user deleted since (their events outlive them) has nothing left to tell.
        live = set(BetterAuthUser.objects.filter(id__in=users).values_list("id", flat=True))
        deliveries = []
        for event in events:
            if event.user_id not in live:
                continue
            try:
                deliveries += _deliveries(event, hooks[event.user_id], now)
            except Exception:
                # One event that can't be rendered must not hold back every later one.
                logger.exception("Event %s could not be handed out; it is skipped", event.id)
        Delivery.objects.bulk_create(deliveries)
        Event.objects.filter(id__in=[event.id for event in events]).update(pending=False)
    return len(events)


def _deliveries(event: Event, hooks: list[Webhook], now: datetime) -> list[Delivery]:
    """The deliveries of one event: to each of its user's `hooks` that wants it, and to
    each Dapr topic when EVENTS_PUBLISHER is `dapr`."""
    common: dict[str, Any] = {
        "user_id": event.user_id,
        "subject": _subject(event),
        "type": event.type,
        "next_attempt_at": now,
        "created_at": now,
    }
    wanted = [hook for hook in hooks if event.type in hook.events]
    body = payloads.webhook_body(event).decode() if wanted else ""
    deliveries = [
        Delivery(
            queue=f"webhook:{hook.id}",
            webhook=hook,
            message_id=f"msg_{event.id}",
            body=body,
            **common,
        )
        for hook in wanted
    ]
    if settings.EVENTS_PUBLISHER == "dapr":
        deliveries += [
            Delivery(
                queue=f"dapr:{topic}",
                message_id=f"evt_{event.id}",
                body=dapr_cloud_event(event, topic, message),
                **common,
            )
            for topic, message in payloads.dapr_messages(event).items()
        ]
    return deliveries


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def claim(
    model: type[models.Model],
    *,
    now: datetime,
    limit: int,
    busy: Collection[str] = (),
    ordered: bool = True,
    related: tuple[str, ...] = (),
) -> list[Any]:
    """Take up to `limit` due messages of `model`'s outbox (Delivery, or one with the
    same `user_id`, `next_attempt_at` and, if `ordered`, `queue` and `subject`
    columns) for DELIVERY_LEASE_SECONDS, by the rules above; the messages taken,
    oldest first, with `related` loaded. Users in `busy` are skipped."""
    table = _quote(model._meta.db_table)
    params: dict[str, Any] = {
        "now": connection.ops.adapt_datetimefield_value(now),
        "per_user": PER_USER,
        "limit": limit,
    }
    conditions = ["d.next_attempt_at <= %(now)s"]
    if ordered:
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM {table} e WHERE e.queue = d.queue "  # noqa: S608
            "AND e.subject = d.subject AND e.id < d.id)"
        )
    if model is Delivery:  # a disabled webhook's deliveries wait for it to be enabled
        webhooks = _quote(Webhook._meta.db_table)
        conditions.append(
            f"(d.webhook_id IS NULL OR d.webhook_id NOT IN "  # noqa: S608
            f"(SELECT id FROM {webhooks} WHERE disabled_at IS NOT NULL))"
        )
    if busy:
        names = [f"%(busy_{index})s" for index in range(len(busy))]
        conditions.append(f"d.user_id NOT IN ({', '.join(names)})")
        params |= {f"busy_{index}": user for index, user in enumerate(busy)}
    heads = (
        f"SELECT d.id, ROW_NUMBER() OVER (PARTITION BY d.user_id ORDER BY d.id) AS turn "  # noqa: S608
        f"FROM {table} d WHERE {' AND '.join(conditions)}"
    )
    chosen = f"SELECT id FROM ({heads}) heads WHERE turn <= %(per_user)s ORDER BY turn, id LIMIT %(limit)s"  # noqa: S608,E501
    lease = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    params["lease"] = connection.ops.adapt_datetimefield_value(now + lease)
    taken: list[int] = []
    # The UPDATE alone claims: it takes only what is still due when it runs. When
    # another worker took all of them first, look again (a few times: it is busy).
    with connection.cursor() as cursor:
        for _ in range(CLAIM_TRIES):
            cursor.execute(chosen, params)
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            listed = ", ".join(f"%(id_{index})s" for index in range(len(ids)))
            cursor.execute(
                f"UPDATE {table} SET next_attempt_at = %(lease)s "  # noqa: S608
                f"WHERE id IN ({listed}) AND next_attempt_at <= %(now)s RETURNING id",
                params | {f"id_{index}": value for index, value in enumerate(ids)},
            )
            taken = [row[0] for row in cursor.fetchall()]
            if taken:
                break
    if not taken:
        return []
    claimed = model._default_manager.filter(id__in=taken).select_related(*related)
    return list(claimed.order_by("id"))


def still_claimed(message: Any) -> Q:
    """A claimed message (of any outbox) while the claim it was sent under holds: a
    worker whose lease ran out (another may have taken it since) writes nothing."""
    return Q(id=message.id, next_attempt_at=message.next_attempt_at)


def settle(outcomes: list[tuple[Delivery, str | None]], now: datetime) -> None:
    """Write sends' outcomes: those done (no failure) deleted in one statement, the
    others `failed`."""
    done = [still_claimed(delivery) for delivery, failure in outcomes if failure is None]
    if done:
        Delivery.objects.filter(reduce(operator.or_, done)).delete()
    for delivery, failure in outcomes:
        if failure is not None:
            failed(delivery, failure, now=now)


def failed(delivery: Delivery, reason: str, *, now: datetime) -> None:
    """The attempt failed: tried again on its outlet's schedule (a webhook's
    WEBHOOK_RETRY_SCHEDULE, then given up and the webhook disabled; Dapr's
    EVENTS_RETRY_SCHEDULE, its last delay repeating for as long as it takes)."""
    failures = delivery.attempts + 1
    hook = delivery.webhook_id
    schedule = settings.EVENTS_RETRY_SCHEDULE if hook is None else settings.WEBHOOK_RETRY_SCHEDULE
    delay = delay_after(failures, schedule, forever=hook is None)
    if delay is None:
        assert hook is not None  # only a webhook's schedule ends
        with transaction.atomic():
            if not Delivery.objects.filter(still_claimed(delivery)).delete()[0]:
                return
            Webhook.objects.filter(pk=hook, disabled_at__isnull=True).update(
                disabled_at=now, updated_at=now
            )
        return
    Delivery.objects.filter(still_claimed(delivery)).update(
        attempts=failures,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=reason[:REASON_LENGTH],
    )
