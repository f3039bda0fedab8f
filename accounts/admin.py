"""The user pages of the Django admin: support staff find a user by e-mail, and see
their browsers' push subscriptions and recent delivery failures."""

from urllib.parse import urlsplit

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import BetterAuthUser
from delivery.models import PushFailure, PushSubscription


def _owned_by(user: BetterAuthUser, changelist: str, text: str) -> str:
    """A link to the admin's list `changelist`, filtered to what `user` owns."""
    query = urlencode({"user__id__exact": user.id})
    return format_html('<a href="{}?{}">{}</a>', reverse(f"admin:{changelist}"), query, text)


@admin.register(BetterAuthUser)
class BetterAuthUserAdmin(admin.ModelAdmin):
    """Everything here comes from Better Auth's tokens, or is the user's own setting
    (`time_zone`), so it is read-only."""

    list_display = ("email", "name", "id", "email_verified", "task_count", "last_seen")
    list_filter = ("email_verified", "last_seen")
    search_fields = ("email", "name", "=id")
    search_help_text = "E-mail, name, or exact user id."
    readonly_fields = (
        "id",
        "email",
        "name",
        "email_verified",
        "first_seen",
        "last_seen",
        "time_zone",
        "tasks_link",
        "lists_link",
        "conversations_link",
        "activity_link",
        "webhooks_link",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BetterAuthUser]:
        return super().get_queryset(request).annotate(task_count=Count("tasks"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="tasks", ordering="task_count")
    def task_count(self, user: BetterAuthUser) -> int:
        return user.task_count  # type: ignore[attr-defined]

    @admin.display(description="tasks")
    def tasks_link(self, user: BetterAuthUser) -> str:
        return _owned_by(user, "tasks_task_changelist", "See and fix the tasks of this user")

    @admin.display(description="lists")
    def lists_link(self, user: BetterAuthUser) -> str:
        return _owned_by(user, "tasks_tasklist_changelist", "See the lists of this user")

    @admin.display(description="conversations")
    def conversations_link(self, user: BetterAuthUser) -> str:
        return _owned_by(
            user,
            "agents_conversation_changelist",
            "See the conversations of this user with the agent",
        )

    @admin.display(description="activity")
    def activity_link(self, user: BetterAuthUser) -> str:
        return _owned_by(user, "delivery_event_changelist", "See the activity of this user")

    @admin.display(description="webhooks")
    def webhooks_link(self, user: BetterAuthUser) -> str:
        return _owned_by(user, "delivery_webhook_changelist", "See the webhooks of this user")


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Records the service writes: support staff look, nobody adds or edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(_ReadOnlyAdmin):
    """A browser's subscription by its push service's host alone: the endpoint's path
    and the keys are what it takes to push to that browser, so they are never shown."""

    list_display = ("user", "push_service", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("=user__id", "user__email")
    search_help_text = "The user's e-mail or exact id."
    fields = ("user", "push_service", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="push service")
    def push_service(self, subscription: PushSubscription) -> str:
        return urlsplit(subscription.endpoint).hostname or ""


@admin.register(PushFailure)
class PushFailureAdmin(_ReadOnlyAdmin):
    """Pushes that failed, most recent first: a retry, a removed subscription, or one
    given up."""

    list_display = ("created_at", "user", "endpoint_host", "status_code", "reason")
    list_select_related = ("user",)
    list_filter = ("status_code", "created_at")
    search_fields = ("=user__id", "user__email", "endpoint_host")
    search_help_text = "The user's e-mail or exact id, or the push service's host."
    fields = ("created_at", "user", "endpoint_host", "status_code", "reason")
    readonly_fields = fields
