"""Reads of the user mirror and of the user's push subscriptions."""

from django.db.models import QuerySet

from accounts.models import BetterAuthUser
from delivery.models import PushSubscription


def user_time_zone(user_id: str) -> str | None:
    """The user's `time_zone` setting; None without one (or without a mirror row)."""
    zone: str | None = (
        BetterAuthUser.objects.filter(id=user_id).values_list("time_zone", flat=True).first()
    )
    return zone


def push_subscriptions(user_id: str) -> QuerySet[PushSubscription]:
    """The user's push subscriptions, oldest first."""
    return PushSubscription.objects.filter(user_id=user_id).order_by("id")
