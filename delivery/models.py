"""What goes out, and what went out: the events (the outbox and the activity log),
webhooks and their deliveries, and browsers' Web Push subscriptions, the pushes
waiting for them, and every push attempt (the failures among them).

An Event is written in the transaction of the change it reports: for a task by the
database itself (migration 0002's triggers), for a list or a fired reminder by
delivery.events. The delivery loop hands each pending event to the outlets once
(`pending` goes false), as a Delivery per webhook that wants it and per Dapr topic.
"""

from datetime import date, datetime
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import BetterAuthUser

# At most this many webhooks per user (the contract's limit).
MAX_WEBHOOKS_PER_USER = 10


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's JSON encoder, but date-times keep their microseconds (Django's cuts
    them to milliseconds), UTC written `Z` as the REST API writes it: an event's copy
    of a row says what the row said."""

    def default(self, o: Any) -> Any:
        if isinstance(o, date | datetime):
            return o.isoformat().replace("+00:00", "Z")
        return super().default(o)


class EventType(models.TextChoices):
    """What happened: the webhook event types, and the activity log's `type`."""

    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_COMPLETED = "task.completed"
    TASK_DELETED = "task.deleted"
    TASK_RESTORED = "task.restored"
    LIST_CREATED = "list.created"
    LIST_UPDATED = "list.updated"
    LIST_DELETED = "list.deleted"
    REMINDER_FIRED = "reminder.fired"


class Source(models.TextChoices):
    """Which door a change came through."""

    API = "api"
    MCP = "mcp"
    CHAT = "chat"
    ADMIN = "admin"
    WORKER = "worker"


class Event(models.Model):
    """One change of a user's task or list, or one reminder that fired.

    `data` is the row as written (a task's columns, a list's, or the fired reminder),
    rendered as the REST API answers it when it goes out (delivery.payloads). Kept
    ACTIVITY_RETENTION_DAYS: `GET /api/{user_id}/activity` reads them.
    """

    # No constraint: deleting a user deletes their tasks first, and the triggers
    # write those deletions here after Django collected what to delete.
    user = models.ForeignKey(
        BetterAuthUser,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="events",
        db_index=False,
    )
    type = models.CharField(max_length=16, choices=EventType)
    task_id = models.BigIntegerField(null=True, blank=True)
    list_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    data = models.JSONField(encoder=ExactJSONEncoder)
    source = models.CharField(max_length=8, choices=Source)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Not yet handed to the outlets (webhooks, the publisher).
    pending = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="event_user_newest"),
            models.Index(fields=["id"], condition=Q(pending=True), name="event_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.task_id or self.list_id or ''} ({self.source})"


class Webhook(models.Model):
    """A user's webhook: where their events of `events` types are POSTed, signed
    with `secret` (Standard Webhooks). Disabled when a delivery has failed for the
    whole retry schedule; re-enabled by its owner."""

    user = models.ForeignKey(BetterAuthUser, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2048)
    events = models.JSONField(help_text="The event types it receives.")
    secret = models.CharField(max_length=64, help_text="whsec_…: signs every delivery.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a delivery failed for good; null: enabled."
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.user_id}"


class Delivery(models.Model):
    """One message waiting for one outlet: a webhook's POST or a Dapr publication.

    `queue` names the outlet (`webhook:<id>`, `dapr:<topic>`); within a queue the
    messages of one `subject` (`task:<id>`, `list:<id>`) go out one at a time, in id
    order. `body` is the exact bytes sent (and signed), as text.
    """

    user = models.ForeignKey(
        BetterAuthUser, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    queue = models.CharField(max_length=48)
    subject = models.CharField(max_length=32)
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64, help_text="webhook-id, the same on every retry.")
    type = models.CharField(max_length=16)
    body = models.TextField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due"),
            models.Index(fields=["queue", "subject", "id"], name="delivery_queue_order"),
            models.Index(fields=["user", "id"], name="delivery_user"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.type} to {self.queue}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (`PushSubscription.toJSON()`): where its push
    service takes messages for it, and the keys to encrypt them for it (RFC 8291)."""

    # The tables keep the names they had in accounts/, where these models began.

    user = models.ForeignKey(
        BetterAuthUser, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.CharField(max_length=2048, help_text="The push service's URL for it.")
    p256dh = models.CharField(
        max_length=88, help_text="The browser's P-256 public key (base64url, 65 bytes)."
    )
    auth = models.CharField(
        max_length=24, help_text="The browser's authentication secret (base64url, 16 bytes)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_pushsubscription"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "endpoint"], name="push_subscription_unique_endpoint"
            )
        ]
        # A browser's endpoint is its last subscriber's: found by endpoint alone.
        indexes = [models.Index(fields=["endpoint"], name="push_subscription_endpoint")]

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"


class PushMessage(models.Model):
    """One push waiting for one subscription (Web Push's outbox, delivery.push): sent,
    retried with backoff, or given up."""

    class Urgency(models.TextChoices):
        VERY_LOW = "very-low"
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"

    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.CASCADE, related_name="messages"
    )
    # The subscription's, kept here for the delivery loop's turns per user.
    user = models.ForeignKey(
        BetterAuthUser, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    payload = models.JSONField()
    topic = models.CharField(
        max_length=32,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$")],
        help_text="RFC 8030 Topic: a newer message with it replaces an undelivered one.",
    )
    ttl = models.PositiveIntegerField(help_text="Seconds the push service may keep it.")
    urgency = models.CharField(max_length=8, choices=Urgency, default=Urgency.NORMAL)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "accounts_pushmessage"

    def __str__(self) -> str:
        return f"push {self.pk} ({self.topic})"


class PushOutcome(models.TextChoices):
    """What one push attempt came to (delivery.push.settle)."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    GONE = "gone", "gone: subscription removed"
    GIVEN_UP = "given_up", "given up"
    REFUSED = "refused", "refused: not a public address"


class PushAttempt(models.Model):
    """One push to one browser and what came of it, for support staff: the push
    service's host and answer, never the endpoint's path or the keys (they are the
    capability to push to that browser). A reminder's push names its notification."""

    user = models.ForeignKey(BetterAuthUser, on_delete=models.CASCADE, related_name="push_attempts")
    # No constraint: the trail outlives its notification (retention, a deleted task),
    # and still names it.
    notification = models.ForeignKey(
        "tasks.Notification",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="push_attempts",
    )
    # The browser, by its subscription's id: a user's browsers often share a host. Not a
    # key, so a removed subscription's attempts still say which it was.
    subscription_id = models.BigIntegerField(
        null=True, blank=True, help_text="Empty for failures kept before the attempts were."
    )
    endpoint_host = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The push service's answer; empty if none came."
    )
    outcome = models.CharField(max_length=9, choices=PushOutcome)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.endpoint_host}: {self.reason}"


class PushFailureManager(models.Manager["PushFailure"]):
    def get_queryset(self) -> models.QuerySet["PushFailure"]:
        return super().get_queryset().exclude(outcome=PushOutcome.DELIVERED)


class PushFailure(PushAttempt):
    """The push attempts that failed (retried, gone, given up, refused): support's
    list of recent delivery failures, one table with the attempts."""

    objects: ClassVar[PushFailureManager] = PushFailureManager()

    class Meta:
        proxy = True
