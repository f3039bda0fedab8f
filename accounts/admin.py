"""The user pages of the Django admin: support staff find a user by e-mail, and from
their page reach what is theirs: tasks, lists, conversations, activity, the reminders
that fired and what became of their pushes, webhooks and browsers."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import BetterAuthUser


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
        "reminders_link",
        "webhooks_link",
        "browsers_link",
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

    @admin.display(description="reminders")
    def reminders_link(self, user: BetterAuthUser) -> str:
        query = urlencode({"user__id__exact": user.id})
        url = f"{reverse('admin:tasks_notification_changelist')}?{query}"
        return format_html(
            '<a href="{}">See the reminders that fired for this user, and their pushes</a>', url
        )

    @admin.display(description="webhooks")
    def webhooks_link(self, user: BetterAuthUser) -> str:
        return _owned_by(user, "delivery_webhook_changelist", "See the webhooks of this user")

    @admin.display(description="browsers")
    def browsers_link(self, user: BetterAuthUser) -> str:
        query = urlencode({"user__id__exact": user.id})
        url = f"{reverse('admin:delivery_pushsubscription_changelist')}?{query}"
        return format_html('<a href="{}">See the browsers this user subscribed</a>', url)
