"""What live updates keep in the database: tickets for browsers' EventSource, and
the streams open on every web process, so a cap holds across all of them."""

import uuid

from django.db import models

from accounts.models import BetterAuthUser


class StreamTicket(models.Model):
    """A ticket that opens one stream of its user's, once, until `expires_at`. Only
    its SHA-256 is kept: a copy of the table opens nothing."""

    digest = models.CharField(primary_key=True, max_length=64)
    user = models.ForeignKey(BetterAuthUser, on_delete=models.CASCADE, db_index=False)
    # The stream a ticket opens ends when the token it was bought with does.
    token_expires_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"ticket of {self.user_id} until {self.expires_at:%H:%M:%S}"


class OpenStream(models.Model):
    """One stream open on some web process, counted against
    EVENTS_MAX_STREAMS_PER_USER while the process serving it moves `seen_at` every
    so often (live.slots): one that died stops counting within STREAM_LEASE."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(BetterAuthUser, on_delete=models.CASCADE)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"stream of {self.user_id}, seen {self.seen_at:%H:%M:%S}"
