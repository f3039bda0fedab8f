"""Writes to the user mirror and to the user's push subscriptions."""

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.exceptions import PushNotConfigured, PushSubscriptionLimitReached
from accounts.models import BetterAuthUser
from delivery.models import PushSubscription

# A user's browsers at most; a subscription beyond it is refused (409).
MAX_PUSH_SUBSCRIPTIONS = 20

# Claims Better Auth's jwt plugin copies from its user, and the mirror's fields.
MIRRORED_CLAIMS = {
    "email": ("email", str),
    "name": ("name", str),
    "emailVerified": ("email_verified", bool),
}


def _seen_key(user_id: str) -> str:
    # Hashed: a `sub` may hold any characters, cache keys may not.
    return "accounts:user-seen:" + hashlib.sha256(user_id.encode()).hexdigest()


def user_record_seen(claims: dict[str, Any]) -> None:
    """Create or refresh the token's user in one upsert, skipped if done recently."""
    user_id = claims["sub"]
    key = _seen_key(user_id)
    if cache.get(key):
        return
    now = timezone.now()
    fields: dict[str, Any] = {"last_seen": now}
    for claim, (field, kind) in MIRRORED_CLAIMS.items():
        if isinstance(claims.get(claim), kind):
            fields[field] = claims[claim]
    BetterAuthUser.objects.bulk_create(
        [BetterAuthUser(id=user_id, first_seen=now, **fields)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=list(fields),
    )
    cache.set(key, True, timeout=settings.USER_MIRROR_REFRESH_SECONDS)


def user_forget_seen(user_id: str) -> None:
    """Make the next call of this user write the mirror again (after a deletion)."""
    cache.delete(_seen_key(user_id))


def user_restore(user_id: str) -> bool:
    """Mirror a user whose row is gone (deleted through another worker) at once;
    their next call writes the claims again. False if the row was there."""
    user_forget_seen(user_id)
    now = timezone.now()
    _, created = BetterAuthUser.objects.get_or_create(
        id=user_id, defaults={"first_seen": now, "last_seen": now}
    )
    return created


def user_set_time_zone(user_id: str, time_zone: str | None) -> None:
    """Make `time_zone` the user's setting, restoring their mirror row if it is gone."""
    if not BetterAuthUser.objects.filter(id=user_id).update(time_zone=time_zone):
        user_restore(user_id)
        BetterAuthUser.objects.filter(id=user_id).update(time_zone=time_zone)


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
    if not settings.VAPID_PRIVATE_KEY:
        raise PushNotConfigured()
    # The owner's row, locked: one user's subscribes take turns, so the cap holds.
    if not _lock_user(user_id):
        user_restore(user_id)
        _lock_user(user_id)
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


def _lock_user(user_id: str) -> bool:
    """Lock the user's mirror row until the transaction ends; False if there is none."""
    locked = BetterAuthUser.objects.select_for_update().filter(id=user_id).values_list("id")
    return locked.first() is not None


def push_subscription_delete(*, user_id: str, subscription_id: int) -> bool:
    """Delete the user's subscription and what waits for it; False if they have none
    with that id."""
    deleted, _ = PushSubscription.objects.filter(user_id=user_id, id=subscription_id).delete()
    return bool(deleted)
