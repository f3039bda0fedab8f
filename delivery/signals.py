"""A deleted user's activity goes with them: the events their tasks' deletion wrote
too (the triggers write them before the user's row goes), so nothing of theirs is
kept or published afterwards."""

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import BetterAuthUser
from delivery.models import Event


@receiver(post_delete, sender=BetterAuthUser)
def forget_the_users_events(
    sender: type[BetterAuthUser], instance: BetterAuthUser, **kwargs: Any
) -> None:
    Event.objects.filter(user_id=instance.pk).delete()
