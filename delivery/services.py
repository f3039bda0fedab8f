"""Writes to a user's webhooks (create with its secret, within the cap; change,
re-enable, delete; queue a test ping) and push subscriptions. Every write names the
owner, so another user's is never touched: it is missing, as far as the caller can
tell.

Nothing here sends anything: a ping is a Delivery row, which the delivery loop sends
like any other. No secret is ever logged.
"""

import base64
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import BetterAuthUser
from accounts.services import user_restore
from delivery import payloads, push
from delivery.exceptions import (
    PushNotConfigured,
    PushSubscriptionLimitReached,
    WebhookDisabled,
    WebhookLimitReached,
)
from delivery.models import MAX_WEBHOOKS_PER_USER, Delivery, PushSubscription, Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix every secret has, not a secret)
# Standard Webhooks: a secret of 24 to 64 random bytes; 24 keep it within the column.
SECRET_BYTES = 24


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of SECRET_BYTES random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _lock_owner(user_id: str) -> None:
    """Lock the owner's mirror row until the transaction ends (restoring it if it is
    gone): one user's creates take turns, so the cap holds under concurrent calls."""
    locked = BetterAuthUser.objects.select_for_update().filter(id=user_id).values_list("id")
    if locked.first() is None:
        user_restore(user_id)
        locked.first()


@transaction.atomic
def webhook_create(*, user_id: str, url: str, events: list[str]) -> Webhook:
    """A new enabled webhook of the user's, with a new secret; WebhookLimitReached at
    MAX_WEBHOOKS_PER_USER."""
    _lock_owner(user_id)
    if Webhook.objects.filter(user_id=user_id).count() >= MAX_WEBHOOKS_PER_USER:
        raise WebhookLimitReached()
    now = timezone.now()
    return Webhook.objects.create(
        user_id=user_id,
        url=url,
        events=events,
        secret=new_secret(),
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def webhook_update(*, user_id: str, webhook_id: int, fields: Mapping[str, Any]) -> Webhook | None:
    """Apply `fields` (`url`, `events`, `enabled`) to the user's webhook; None if they
    have none of that id. `enabled: true` clears `disabled_at`; `enabled: false` sets
    it to now, unless it is disabled already (it keeps when). `updated_at` moves only
    when something changed."""
    webhook = Webhook.objects.select_for_update().filter(user_id=user_id, id=webhook_id).first()
    if webhook is None:
        return None
    now = timezone.now()
    changes: dict[str, Any] = {name: fields[name] for name in ("url", "events") if name in fields}
    if "enabled" in fields:
        enabled = fields["enabled"]
        if enabled and webhook.disabled_at is not None:
            changes["disabled_at"] = None
        elif not enabled and webhook.disabled_at is None:
            changes["disabled_at"] = now
    changed = [name for name, value in changes.items() if getattr(webhook, name) != value]
    if changed:
        for name in changed:
            setattr(webhook, name, changes[name])
        webhook.updated_at = now
        webhook.save(update_fields=[*changed, "updated_at"])
    if "disabled_at" in changed and webhook.disabled_at is None:
        _resume(webhook, now)
    return webhook


def webhook_re_enable(webhook: Webhook) -> bool:
    """Enable a disabled webhook (the admin's action); False if it was enabled."""
    with transaction.atomic():
        now = timezone.now()
        if not Webhook.objects.filter(pk=webhook.pk, disabled_at__isnull=False).update(
            disabled_at=None, updated_at=now
        ):
            return False
        _resume(webhook, now)
    return True


def _resume(webhook: Webhook, now: datetime) -> None:
    """What waited for a webhook while it was disabled goes out now, each with a fresh
    retry schedule: one more failure of a delivery that had used up its schedule before
    would otherwise disable it again at once."""
    Delivery.objects.filter(webhook=webhook).update(attempts=0, next_attempt_at=now)


def webhook_delete(*, user_id: str, webhook_id: int) -> bool:
    """Delete the user's webhook and its deliveries waiting to go out; False if they
    have none of that id."""
    deleted, _ = Webhook.objects.filter(user_id=user_id, id=webhook_id).delete()
    return bool(deleted)


def ping(webhook: Webhook) -> Delivery:
    """Queue a `ping` to the webhook, as a delivery the loop sends like an event's
    (signed, retried); WebhookDisabled if it is disabled."""
    if webhook.disabled_at is not None:
        raise WebhookDisabled()
    now = timezone.now()
    body = {"type": "ping", "timestamp": now, "data": {"webhook_id": webhook.id}}
    return Delivery.objects.create(
        user_id=webhook.user_id,
        webhook=webhook,
        queue=f"webhook:{webhook.id}",
        subject="ping",
        type="ping",
        message_id="msg_" + uuid.uuid4().hex,
        body=payloads.dumps(body).decode(),
        next_attempt_at=now,
        created_at=now,
    )


# --- Web Push subscriptions -----------------------------------------------------

# A user's browsers at most; a subscription beyond it is refused (409).
MAX_PUSH_SUBSCRIPTIONS = 20


@transaction.atomic
def push_subscription_save(
    *, user_id: str, endpoint: str, p256dh: str, auth: str
) -> tuple[PushSubscription, bool]:
    """Keep a browser's subscription for the user, or renew the keys of theirs with this
    endpoint; True if it is new. Raise PushNotConfigured while push is off (no VAPID
    key: nothing could ever reach the browser), and PushSubscriptionLimitReached when
    it is new and the user has MAX_PUSH_SUBSCRIPTIONS already.

    An endpoint is one browser's: another user's subscription with it (who used that
    browser before) is deleted, so their reminders stop showing up there.
    """
    if not push.is_on():
        raise PushNotConfigured()
    # The owner's row, locked: one user's subscribes take turns, so the cap holds.
    _lock_owner(user_id)
    PushSubscription.objects.filter(endpoint=endpoint).exclude(user_id=user_id).delete()
    now = timezone.now()
    keys = {"p256dh": p256dh, "auth": auth}
    if PushSubscription.objects.filter(user_id=user_id, endpoint=endpoint).update(
        **keys, updated_at=now
    ):
        return PushSubscription.objects.get(user_id=user_id, endpoint=endpoint), False
    if PushSubscription.objects.filter(user_id=user_id).count() >= MAX_PUSH_SUBSCRIPTIONS:
        raise PushSubscriptionLimitReached()
    subscription = PushSubscription.objects.create(
        user_id=user_id, endpoint=endpoint, created_at=now, updated_at=now, **keys
    )
    return subscription, True


def push_subscription_delete(*, user_id: str, subscription_id: int) -> bool:
    """Delete the user's subscription and what waits for it; False if they have none
    with that id."""
    deleted, _ = PushSubscription.objects.filter(user_id=user_id, id=subscription_id).delete()
    return bool(deleted)
