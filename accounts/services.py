"""Writes to the user mirror and to the user's push subscriptions."""

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import BetterAuthUser

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
