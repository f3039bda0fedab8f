"""The mirror of Better Auth's users, so support staff can find a user by e-mail; their
browsers' Web Push subscriptions, the pushes waiting for them, and the failures."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from accounts.timezones import MAX_LENGTH, validate_time_zone

# Row ids are 64-bit (DEFAULT_AUTO_FIELD): a larger number in a URL, a body or a
# cursor names no row, of this app or any other.
MAX_ROW_ID = 2**63 - 1


class BetterAuthUser(models.Model):
    """A user as their tokens describe them; Better Auth remains the source of truth.

    Created on the user's first call and refreshed from later tokens' claims, at
    most once per `USER_MIRROR_REFRESH_SECONDS`.
    """

    id = models.CharField(
        primary_key=True, max_length=255, help_text="Better Auth's user id (`sub`)."
    )
    email = models.CharField(max_length=320, blank=True, default="", db_index=True)
    name = models.CharField(max_length=255, blank=True, default="")
    email_verified = models.BooleanField(default=False)
    first_seen = models.DateTimeField(default=timezone.now, editable=False)
    last_seen = models.DateTimeField(default=timezone.now, editable=False)
    # Null, the contract's "no zone" (UTC), rather than "": the JSON answers it as is.
    time_zone = models.CharField(  # noqa: DJ001
        max_length=MAX_LENGTH,
        null=True,
        blank=True,
        validators=[validate_time_zone],
        help_text="The user's IANA time zone (GET/PATCH …/settings); new tasks take it.",
    )

    class Meta:
        # "App users", beside the staff's "Users" of django.contrib.auth in the admin.
        verbose_name = "app user"
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.email or self.name or self.id


class PushSubscription(models.Model):
    """A browser's Web Push subscription (`PushSubscription.toJSON()`): where its push
    service takes messages for it, and the keys to encrypt them for it (RFC 8291)."""

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
    """One push waiting for one subscription (the outbox of accounts/push.py): sent,
    retried with backoff, or given up."""

    class Urgency(models.TextChoices):
        VERY_LOW = "very-low"
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"

    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.CASCADE, related_name="messages"
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

    def __str__(self) -> str:
        return f"push {self.pk} ({self.topic})"


class PushFailure(models.Model):
    """A push that failed, for support staff: the push service's host, never the
    endpoint's path or the keys (they are the subscription's secrets)."""

    user = models.ForeignKey(BetterAuthUser, on_delete=models.CASCADE, related_name="push_failures")
    endpoint_host = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The push service's answer; empty if none came."
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.endpoint_host}: {self.reason}"
