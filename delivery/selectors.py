"""Reads of a user's webhooks and activity log: their own alone, the activity newest
first and keyset-paged by id as the notifications are (tasks.pagination): `limit`
and `cursor`, `Link` and `X-Total-Count`."""

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from delivery.models import Event, PushSubscription, Webhook
from tasks.pagination import Page, paginate_by_id

# What an activity cursor names, so this list refuses another's cursors.
ACTIVITY_ORDER = "activity:-id"
_FILTERS = ("type", "task_id", "list_id")


def webhooks_of(user_id: str) -> QuerySet[Webhook]:
    """The user's webhooks, oldest first (at most MAX_WEBHOOKS_PER_USER)."""
    return Webhook.objects.filter(user_id=user_id).order_by("id")


def owned_webhook(*, user_id: str, webhook_id: int) -> Webhook:
    """The user's webhook of this id; a 404 if it is missing or another user's."""
    webhook = Webhook.objects.filter(user_id=user_id, id=webhook_id).first()
    if webhook is None:
        raise NotFound("No such webhook of yours.")
    return webhook


def activity_page(*, user_id: str, query: dict[str, Any]) -> Page[Event]:
    """A page of the user's events, newest first, narrowed by the query's `type`,
    `task_id` and `list_id`: two queries (count, rows)."""
    events = Event.objects.filter(user_id=user_id)
    narrowed = {name: query[name] for name in _FILTERS if name in query}
    if narrowed:
        events = events.filter(**narrowed)
    return paginate_by_id(events, query, ACTIVITY_ORDER, newest_first=True)


def push_subscriptions(user_id: str) -> QuerySet[PushSubscription]:
    """The user's push subscriptions, oldest first."""
    return PushSubscription.objects.filter(user_id=user_id).order_by("id")
