"""Tickets: how a browser's EventSource, which can't send an Authorization header,
opens a stream. A ticket is bought with a valid token, opens one stream of that
user's within TICKET_SECONDS, and only once; the stream it opens ends when that token
expires. Only the ticket's SHA-256 is stored, and no ticket is ever logged (log lines
name the route, never the query string: todo_project.observability)."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from live.models import StreamTicket

TICKET_SECONDS = 60
# A ticket is 43 characters of base64url; anything much longer is not one.
MAX_TICKET_LENGTH = 100


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id: str, token_expires_at: int) -> str:
    """A new ticket for `user_id` whose stream ends at `token_expires_at` (the
    token's `exp`). The user's expired tickets, never redeemed, are forgotten."""
    now = timezone.now()
    StreamTicket.objects.filter(user_id=user_id, expires_at__lte=now).delete()
    ticket = secrets.token_urlsafe(32)
    StreamTicket.objects.create(
        digest=_digest(ticket),
        user_id=user_id,
        token_expires_at=datetime.fromtimestamp(token_expires_at, tz=UTC),
        expires_at=now + timedelta(seconds=TICKET_SECONDS),
    )
    return ticket


def ticket_redeem(ticket: str) -> tuple[str, int] | None:
    """The user a ticket opens a stream for and when that stream ends (epoch
    seconds), once: None if it is unknown, used or expired, or if the token that
    bought it has expired since."""
    if not 0 < len(ticket) <= MAX_TICKET_LENGTH:
        return None
    digest = _digest(ticket)
    now = timezone.now()
    found = StreamTicket.objects.filter(
        digest=digest, expires_at__gt=now, token_expires_at__gt=now
    ).first()
    # Of two redeemers at once, only one deletes the row.
    if found is None or StreamTicket.objects.filter(digest=digest).delete()[0] != 1:
        return None
    return found.user_id, int(found.token_expires_at.timestamp())
