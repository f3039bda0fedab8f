"""A live stream of one user's changes: opened on a request thread (live.views), then
served on the event loop (live.serving) or, under a plain WSGI server, as one catch-up
that ends (the client reconnects from its last id).

Each event is the changes feed's answer since the previous event's id, so a stream
keeps the feed's guarantee: no change skipped under concurrent writes (tasks.changes).
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DatabaseError
from django.http import StreamingHttpResponse

from live import frames
from live.slots import slots_release
from tasks.changes import changes_json, changes_since, token_now
from tasks.exceptions import SyncTokenExpired

logger = logging.getLogger(__name__)

# Changes per event; more follow at once in further events.
PAGE = 200


@dataclass
class Stream:
    """An open stream: whose, from which token, until when (epoch seconds: the
    token's `exp`), the slot it holds (live.slots), and what it starts with."""

    user_id: str
    token: str
    ends_at: float
    slot: uuid.UUID
    opening: bytes


@dataclass(frozen=True)
class Read:
    """What one read of the feed gave a stream: an event to send (or none: nothing
    new), the token to read from next, and whether more is waiting."""

    event: bytes | None
    token: str
    more: bool


def reset(user_id: str) -> tuple[bytes, str]:
    """The frame telling a client its token expired (sync in full), and the token it
    goes on from: now."""
    token = token_now(user_id=user_id)
    event = frames.frame(
        event="reset",
        id=token,
        data={"type": SyncTokenExpired.problem_type, "detail": SyncTokenExpired.default_detail},
    )
    return event, token


def read_changes(user_id: str, token: str) -> Read:
    """The user's changes after `token`, as an event (one page of them)."""
    try:
        changes = changes_since(user_id=user_id, since=token, limit=PAGE)
    except SyncTokenExpired:
        # The feed forgot deletions after `token` while the stream was open.
        event, token = reset(user_id)
        return Read(event, token, more=False)
    if not (changes.upserted or changes.deleted or changes.lists.upserted or changes.lists.deleted):
        return Read(None, token, more=False)  # the old token: it names the same place
    body = changes_json(changes)
    return Read(
        frames.frame(event="changes", id=changes.next_token, data=body),
        changes.next_token,
        changes.more,
    )


class EventStreamResponse(StreamingHttpResponse):
    """A `text/event-stream` answer for `stream`. todo_project.asgi serves it on the
    event loop for as long as it lasts (live.serving); any other server iterates it:
    the opening, the changes up to now, and the end."""

    def __init__(self, stream: Stream) -> None:
        super().__init__(self._catch_up(stream), content_type="text/event-stream")
        self.stream = stream
        # nginx and others would hold the events back to fill a buffer.
        self["X-Accel-Buffering"] = "no"

    @staticmethod
    def _catch_up(stream: Stream) -> Iterator[bytes]:
        try:
            yield stream.opening
            more, token = True, stream.token
            while more:
                read = read_changes(stream.user_id, token)
                if read.event:
                    yield read.event
                more, token = read.more, read.token
        except DatabaseError:
            logger.warning("A stream's catch-up could not read the feed; it ends here.")
        finally:
            slots_release([stream.slot])
