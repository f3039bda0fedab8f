"""The ways webhooks and push subscriptions refuse a request, as DRF exceptions the
problem handler renders."""

from rest_framework import status
from rest_framework.exceptions import APIException

from delivery.models import MAX_WEBHOOKS_PER_USER


class WebhookLimitReached(APIException):
    """The owner already holds MAX_WEBHOOKS_PER_USER webhooks: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        f"You have as many webhooks as one account may hold ({MAX_WEBHOOKS_PER_USER}); "
        "delete one (DELETE …/webhooks/{id}) first."
    )


class WebhookDisabled(APIException):
    """A test of a disabled webhook: 409; nothing is queued."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        'This webhook is disabled; re-enable it first (PATCH {"enabled": true}), then test it.'
    )


class PushNotConfigured(APIException):
    """No VAPID_PRIVATE_KEY is set, so push is off and nothing can be pushed: 503."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Browser notifications (Web Push) are off on this server: it has no "
        "VAPID_PRIVATE_KEY. Reminders still appear in /notifications."
    )


class PushSubscriptionLimitReached(APIException):
    """The user has MAX_PUSH_SUBSCRIPTIONS already and this endpoint is new: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "You have as many push subscriptions as one account may hold; delete one "
        "(DELETE …/push-subscriptions/{id}) first."
    )
