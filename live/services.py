"""Opening a live stream: where it starts, and its slot."""

from rest_framework.exceptions import ValidationError

from live import frames
from live.slots import slot_take
from live.streams import Stream, reset
from tasks.changes import decode_token, token_now
from tasks.exceptions import SyncTokenExpired


def stream_open(*, user_id: str, since: str | None, since_name: str, ends_at: float) -> Stream:
    """A stream of the user's changes after the token `since` (named `since_name` in
    a 400), or from now; it opens with `event: reset` when that token expired.
    TooManyStreams (429) when the user has EVENTS_MAX_STREAMS_PER_USER open."""
    expired = False
    if since is not None:
        try:
            decode_token(user_id, since)
        except SyncTokenExpired:
            expired = True
        except ValidationError as refused:
            raise ValidationError({since_name: refused.detail["since"]}) from None  # type: ignore[call-overload]
    slot = slot_take(user_id=user_id)
    if expired:
        event, token = reset(user_id)
        return Stream(user_id, token, ends_at, slot, frames.opening(token) + event)
    token = since if since is not None else token_now(user_id=user_id)
    return Stream(user_id, token, ends_at, slot, frames.opening(token))
