"""The ways token verification, and the user's push subscriptions, refuse a request, as
DRF exceptions the problem handler renders."""

from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed

REFUSED_DETAIL = "The access token is invalid."
EXPIRED_DETAIL = "The access token has expired."


class TokenRefused(AuthenticationFailed):
    """401. `reason` says which check failed; it is logged, never sent to the client."""

    def __init__(self, reason: str, detail: str = REFUSED_DETAIL) -> None:
        super().__init__(detail)
        self.reason = reason


class KeysUnavailable(APIException):
    """No key can verify the token now because Better Auth is unreachable: 503."""

    status_code = 503
    default_detail = "The sign-in service's keys can't be fetched right now; try again shortly."

    def __init__(self, wait: float) -> None:
        super().__init__()
        self.wait = wait


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
