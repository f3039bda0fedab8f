"""The mirror of Better Auth's users, so support staff can find a user by e-mail."""

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
