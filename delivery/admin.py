"""The delivery pages of the Django admin: support staff see each user's activity (the
events), their webhooks and the deliveries waiting to go out, and change nothing.

A webhook's secret is never shown, nor its URL's path in the list (some receivers
put a token there): its host says where it goes. Staff with the change permission may
re-enable a webhook the delivery loop disabled, as its owner's PATCH would.
"""

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import BetterAuthUser
from delivery.models import Delivery, Event, Webhook
from tasks.admin import ReadOnlyAdmin


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Each user's webhooks, by host; disabled ones first to be found by filter."""

    list_display = ("id", "user", "host", "enabled", "disabled_at", "created_at")
    list_select_related = ("user",)
    list_filter = (("disabled_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=user__id", "user__email")
    search_help_text = "The owner's e-mail or exact user id."
    ordering = ("-id",)
    # Never `secret`: it signs the deliveries, and whoever holds it can forge them.
    fields = ("user", "url", "events", "disabled_at", "created_at", "updated_at")
    readonly_fields = fields
    actions = ("re_enable",)

    @admin.display(description="host")
    def host(self, webhook: Webhook) -> str:
        return urlsplit(webhook.url).hostname or ""

    @admin.display(boolean=True, description="enabled", ordering="disabled_at")
    def enabled(self, webhook: Webhook) -> bool:
        return webhook.disabled_at is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-enable selected webhooks", permissions=["change"])
    def re_enable(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        count = queryset.filter(disabled_at__isnull=False).update(
            disabled_at=None, updated_at=timezone.now()
        )
        self.message_user(request, f"{count} webhook(s) re-enabled.", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Each user's activity, newest first: what happened to which task or list, and
    through which door. Find a user's by their e-mail or exact id."""

    # The user's id, not the user: an event outlives its user (no constraint), and
    # the list then still shows it.
    list_display = ("at", "type", "title", "task_id", "list_id", "source", "user_id", "pending")
    list_filter = ("type", "source", "pending", "at")
    search_fields = ("user_id",)  # what get_search_results reads: the search box
    search_help_text = "The user's e-mail or exact id."
    ordering = ("-id",)
    # The activity grows large: no count of every row on each page.
    show_full_result_count = False
    fields = ("user_id", "at", "type", "title", "task_id", "list_id", "source", "pending", "data")
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Event], search_term: str
    ) -> tuple[QuerySet[Event], bool]:
        """The events of the user of this exact id, or of the users whose e-mail holds
        it. By the event's own `user_id`: a join to the users (the admin's
        `user__email`) would be an inner one and lose the events of a deleted user."""
        term = search_term.strip()
        if not term:
            return queryset, False
        by_email = BetterAuthUser.objects.filter(email__icontains=term).values("id")
        return queryset.filter(Q(user_id=term) | Q(user_id__in=by_email)), False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Messages waiting for an outlet (a webhook, a Dapr topic): how often tried, when
    next, and the last failure."""

    list_display = (
        "id",
        "queue",
        "type",
        "subject",
        "attempts",
        "next_attempt_at",
        "last_error",
        "user",
    )
    list_select_related = ("user",)
    list_filter = ("type", "attempts")
    search_fields = ("=user__id", "user__email", "=queue")
    search_help_text = "The user's e-mail or exact id, or a queue (webhook:3)."
    ordering = ("next_attempt_at", "id")
    fields = (
        "user",
        "queue",
        "subject",
        "type",
        "message_id",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The list never shows the body, the message's bytes: leave them in the database.
        return super().get_queryset(request).defer("body")
