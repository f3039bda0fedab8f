"""Keeps the user mirror's write-skipping in step with deletions."""

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import BetterAuthUser
from accounts.services import user_forget_seen


@receiver(post_delete, sender=BetterAuthUser)
def recreate_deleted_user_on_next_call(sender: type, instance: BetterAuthUser, **_: Any) -> None:
    """A deleted user who calls again is mirrored again, so their new tasks have an owner."""
    user_forget_seen(instance.id)
