"""The delivery pages of the Django admin: support staff see each user's activity (the
events), their webhooks and the deliveries waiting to go out, their browsers' push
subscriptions, and the reminders that fired with each one's trail (how many browsers
its push was queued for, or why none, and every attempt to reach them), and change
nothing.

A browser is shown by its push service's host alone: the endpoint's path and the keys
are what it takes to push to it.

A webhook's secret is never shown, nor its URL's path in the list (some receivers
put a token there): its host says where it goes. Staff with the change permission may
re-enable a webhook the delivery loop disabled, as its owner's PATCH would.
"""

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import BetterAuthUser
from delivery.models import (
    Delivery,
    Event,
    PushAttempt,
    PushFailure,
    PushOutcome,
    PushSubscription,
    Webhook,
)
from delivery.services import webhook_re_enable
from tasks.admin import ReadOnlyAdmin
from tasks.models import Notification


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
    # Nor the URL's path and query: they often carry a secret of the receiver's.
    fields = ("user", "host", "events", "disabled_at", "created_at", "updated_at")
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
        count = sum(webhook_re_enable(webhook) for webhook in queryset)
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


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """A browser's subscription by its push service's host alone. Staff with the
    delete permission may remove one, as its owner's DELETE would."""

    list_display = ("id", "user", "push_service", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("=user__id", "user__email")
    search_help_text = "The user's e-mail or exact id."
    fields = ("user", "push_service", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="push service")
    def push_service(self, subscription: PushSubscription) -> str:
        return urlsplit(subscription.endpoint).hostname or ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _browser(attempt: PushAttempt) -> str:
    return "-" if attempt.subscription_id is None else f"browser {attempt.subscription_id}"


def _answer(attempt: PushAttempt) -> str:
    return "no answer" if attempt.status_code is None else f"HTTP {attempt.status_code}"


class PushAttemptInline(admin.TabularInline):
    """A reminder's push attempts, oldest first: its trail to each browser."""

    model = PushAttempt
    fields = ("created_at", "browser", "endpoint_host", "answer", "outcome", "reason")
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0
    can_delete = False

    @admin.display(description="browser")
    def browser(self, attempt: PushAttempt) -> str:
        return _browser(attempt)

    @admin.display(description="answer")
    def answer(self, attempt: PushAttempt) -> str:
        return _answer(attempt)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _count_of_attempts(**lookups: Any) -> Subquery:
    # A subquery per row, not a join and GROUP BY: only the page's rows are counted.
    attempts = PushAttempt.objects.filter(notification=OuterRef("pk"), **lookups)
    return Subquery(
        attempts.order_by().values("notification").annotate(n=Count("id")).values("n"),
        output_field=IntegerField(),
    )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The reminders that fired, per user, each with its trail: when it fired, how many
    browsers its push was queued for (or why none), and every attempt to reach them."""

    list_display = ("title", "user", "remind_at", "fired_at", "push", "attempts", "read")
    list_filter = ("not_pushed", "read", "fired_at")
    list_select_related = ("user",)
    search_fields = ("title", "user__email", "=user__id")
    search_help_text = "Title, or the owner's e-mail or exact user id."
    ordering = ("-fired_at", "-id")
    fields = ("user", "task", "title", "remind_at", "fired_at", "push", "read")
    readonly_fields = fields
    inlines = (PushAttemptInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                attempt_count=_count_of_attempts(),
                delivered_count=_count_of_attempts(outcome=PushOutcome.DELIVERED),
            )
        )

    @admin.display(description="push")
    def push(self, notification: Notification) -> str:
        """Queued for how many browsers, or why for none."""
        if notification.not_pushed:
            return f"not pushed: {notification.get_not_pushed_display()}"
        if notification.pushes is None:
            return "pushed (to how many browsers was not kept then)"
        plural = "" if notification.pushes == 1 else "s"
        return f"queued for {notification.pushes} browser{plural}"

    @admin.display(description="attempts")
    def attempts(self, notification: Notification) -> str:
        """How many push attempts, how many delivered, linked to the attempts' list."""
        made: int = getattr(notification, "attempt_count", None) or 0
        if not made:
            return "-"
        delivered: int = getattr(notification, "delivered_count", None) or 0
        return format_html(
            '<a href="{}">{} attempt{}, {} delivered</a>',
            _changelist_of_attempts(notification__id__exact=notification.pk),
            made,
            "" if made == 1 else "s",
            delivered,
        )


def _changelist_of_attempts(**lookups: Any) -> str:
    return f"{reverse('admin:delivery_pushattempt_changelist')}?{urlencode(lookups)}"


@admin.register(PushAttempt)
class PushAttemptAdmin(ReadOnlyAdmin):
    """Every push to a browser, newest first: the push service's host and answer, and
    what came of it. Filter by a reminder from its notification's page."""

    list_display = (
        "created_at",
        "user",
        "reminder",
        "browser",
        "endpoint_host",
        "answer",
        "outcome",
        "reason",
    )
    list_select_related = ("user",)
    list_filter = ("outcome", "status_code", "created_at")
    search_fields = ("=user__id", "user__email", "endpoint_host")
    search_help_text = "The user's e-mail or exact id, or the push service's host."
    fields = (
        "created_at",
        "user",
        "reminder",
        "browser",
        "endpoint_host",
        "answer",
        "outcome",
        "reason",
    )
    readonly_fields = fields

    @admin.display(description="reminder")
    def reminder(self, attempt: PushAttempt) -> str:
        # By its id: the notification may be gone (retention, a deleted task).
        if attempt.notification_id is None:
            return "-"
        return format_html(
            '<a href="{}">notification {}</a>',
            reverse("admin:tasks_notification_change", args=[attempt.notification_id]),
            attempt.notification_id,
        )

    @admin.display(description="browser")
    def browser(self, attempt: PushAttempt) -> str:
        return _browser(attempt)

    @admin.display(description="answer", ordering="status_code")
    def answer(self, attempt: PushAttempt) -> str:
        return _answer(attempt)


@admin.register(PushFailure)
class PushFailureAdmin(PushAttemptAdmin):
    """The attempts that failed, most recent first (retried, subscription gone, given
    up, refused): support's list of recent delivery failures."""
