"""How many streams a user has open, across every web process: at most
EVENTS_MAX_STREAMS_PER_USER. Each open stream holds a row (live.models.OpenStream)
that its process vouches for by moving `seen_at` every REFRESH_SECONDS; a row not
seen for STREAM_LEASE (its process died) no longer counts, and goes."""

import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import BetterAuthUser
from live.exceptions import TooManyStreams
from live.models import OpenStream

REFRESH_SECONDS = 20
STREAM_LEASE = timedelta(seconds=3 * REFRESH_SECONDS)


def process_holder() -> str:
    """This process's name in the table: host, pid, and a nonce (a pid is reused)."""
    global _holder
    if _holder is None or not _holder.startswith(f"{socket.gethostname()}:{os.getpid()}:"):
        _holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return _holder


_holder: str | None = None


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
    return OpenStream.objects.create(user_id=user_id, holder=process_holder(), seen_at=now).id


def slot_release(slot: uuid.UUID) -> None:
    """The stream is closed: its slot is free."""
    OpenStream.objects.filter(pk=slot).delete()


def slots_refresh() -> None:
    """This process still holds its streams."""
    OpenStream.objects.filter(holder=process_holder()).update(seen_at=timezone.now())
