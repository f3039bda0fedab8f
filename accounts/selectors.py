"""Reads of the user mirror."""

from accounts.models import BetterAuthUser


def user_time_zone(user_id: str) -> str | None:
    """The user's `time_zone` setting; None without one (or without a mirror row)."""
    zone: str | None = (
        BetterAuthUser.objects.filter(id=user_id).values_list("time_zone", flat=True).first()
    )
    return zone
