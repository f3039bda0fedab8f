"""How many streams a user has open, across every web process: at most
EVENTS_MAX_STREAMS_PER_USER. Each open stream holds a row (live.models.OpenStream)
whose `seen_at` the process serving it moves every REFRESH_SECONDS; a row not seen
for STREAM_LEASE (its process died, or never served it) no longer counts, and goes."""

import uuid
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import BetterAuthUser
from live.exceptions import TooManyStreams
from live.models import OpenStream

REFRESH_SECONDS = 20
STREAM_LEASE = timedelta(seconds=3 * REFRESH_SECONDS)


@transaction.atomic
def slot_take(*, user_id: str) -> uuid.UUID:
    """A slot for one more stream of the user's, held by this process; TooManyStreams
    (429) when they have EVENTS_MAX_STREAMS_PER_USER open already. Openers of one user
    take turns (a lock on the user's row), so two at once can't both take the last."""
    BetterAuthUser.objects.select_for_update().filter(pk=user_id).first()
    now = timezone.now()
    open_streams = OpenStream.objects.filter(user_id=user_id)
    open_streams.filter(seen_at__lt=now - STREAM_LEASE).delete()
    if open_streams.count() >= settings.EVENTS_MAX_STREAMS_PER_USER:
        raise TooManyStreams(wait=REFRESH_SECONDS)
    return OpenStream.objects.create(user_id=user_id, seen_at=now).id


def slots_release(slots: Collection[uuid.UUID]) -> None:
    """These streams are closed: their slots are free."""
    OpenStream.objects.filter(pk__in=slots).delete()


def slots_refresh(slots: Collection[uuid.UUID]) -> None:
    """These streams are still open."""
    OpenStream.objects.filter(pk__in=slots).update(seen_at=timezone.now())
