"""`/api/{user_id}/settings`, `/api/{user_id}/push-subscriptions`, `/api/push/public-key`,
and the base of every view of a user's own resources."""

from django.utils.encoding import escape_uri_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import BetterAuthJWTAuthentication
from accounts.exceptions import PushNotConfigured
from accounts.models import MAX_ROW_ID
from accounts.permissions import IsPathUser
from accounts.ratelimit import RateLimitedViewMixin
from accounts.schema import USER_ID_PARAMETER
from accounts.selectors import push_subscriptions, user_time_zone
from accounts.serializers import (
    NewPushSubscriptionSerializer,
    PushPublicKeySerializer,
    PushSubscriptionSerializer,
)
from accounts.services import (
    MAX_PUSH_SUBSCRIPTIONS,
    push_subscription_delete,
    push_subscription_save,
    user_set_time_zone,
)
from accounts.timezones import TimeZoneField
from delivery import push


def path_id(raw: str) -> int:
    """The row id in the URL (a task's, a list's, a subscription's…); one that can't
    name a row is a 404 like a missing one."""
    # The length bound comes first: int() refuses a string of over 4,300 digits.
    if len(raw) > len(str(MAX_ROW_ID)) or not raw.isascii() or not raw.isdigit():
        raise NotFound()
    row_id = int(raw)
    if not 0 < row_id <= MAX_ROW_ID:
        raise NotFound()
    return row_id


class OwnerViewSet(RateLimitedViewMixin, viewsets.ViewSet):
    """A resource of the caller's own: a valid token whose `sub` is the URL's user."""

    authentication_classes = [BetterAuthJWTAuthentication]
    permission_classes = [IsAuthenticated, IsPathUser]

    @property
    def owner_id(self) -> str:
        return str(self.request.user.id)


class SettingsSerializer(serializers.Serializer):
    """The user's settings."""

    time_zone = TimeZoneField(
        help_text="An IANA name, or null (UTC). A new task takes it unless it names one."
    )


_SETTINGS = SettingsSerializer(partial=True)
SETTINGS_EXAMPLE = OpenApiExample("Settings", value={"time_zone": "Europe/Berlin"})


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get the user's settings",
        parameters=[USER_ID_PARAMETER],
        examples=[SETTINGS_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change the user's settings",
        description="Fields not sent keep their values.",
        parameters=[USER_ID_PARAMETER],
        examples=[SETTINGS_EXAMPLE],
    ),
)
class SettingsViewSet(OwnerViewSet):
    """The user's own settings."""

    serializer_class = SettingsSerializer

    def retrieve(self, request: Request, user_id: str) -> Response:
        return Response({"time_zone": user_time_zone(self.owner_id)})

    def partial_update(self, request: Request, user_id: str) -> Response:
        changes = _SETTINGS.run_validation(request.data)
        if "time_zone" in changes:
            user_set_time_zone(self.owner_id, changes["time_zone"])
        return self.retrieve(request, user_id)


# Errors are RFC 9457 problems; todo_project/openapi.py defines the schema they refer to.
PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
PUBLIC_KEY_EXAMPLE = (
    "BAJ4Vdi1lsn_8EELJNm9hRwhwobm9jC7z92LgbcVGYVHKRMb4FqdaTxhPQNsNhT_HQCcNTKBiGBpyC5UcDCxU-w"
)


PUSH_OFF = OpenApiResponse(
    PROBLEM_SCHEMA, description="Web Push is off: the server has no `VAPID_PRIVATE_KEY`."
)


@extend_schema(
    summary="The key browsers subscribe with",
    description="The VAPID public key, for `pushManager.subscribe({userVisibleOnly: true, "
    "applicationServerKey})`. Needs no token. 503 while Web Push is off (no "
    "`VAPID_PRIVATE_KEY`).",
    auth=[],
    responses={
        200: PushPublicKeySerializer,
        (429, PROBLEM): OpenApiResponse(
            PROBLEM_SCHEMA, description="Over the rate limit (with `Retry-After`)."
        ),
        (503, PROBLEM): PUSH_OFF,
    },
    examples=[
        OpenApiExample("Public key", value={"public_key": PUBLIC_KEY_EXAMPLE}, response_only=True)
    ],
)
class PushPublicKeyView(RateLimitedViewMixin, viewsets.ViewSet):
    """`GET /api/push/public-key`: public, counted against RATE_LIMIT_ANON."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = PushPublicKeySerializer

    def retrieve(self, request: Request) -> Response:
        key = push.public_key()
        if key is None:
            raise PushNotConfigured()
        return Response({"public_key": key})


SUBSCRIPTION_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The subscription's id."
)
SUBSCRIPTION_EXAMPLE = {
    "id": 7,
    "endpoint": "https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN",
    "created_at": "2025-05-30T08:12:00Z",
}
NEW_SUBSCRIPTION_EXAMPLE = OpenApiExample(
    "subscription.toJSON()",
    value={
        "endpoint": SUBSCRIPTION_EXAMPLE["endpoint"],
        "expirationTime": None,
        "keys": {
            "p256dh": "BAyjCLU4BlJe_lIfWrUKC9IgZpD59clPSmTDtUoJp7wsmuDLbNhMz-ZBgD5kNKn5upuS_"
            "j1UETaDNSCVv720VJA",
            "auth": "tBHItJI5svbpez7KI4CCXg",
        },
    },
    request_only=True,
)
LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The new subscription's URL.",
    response=[201],
)


@extend_schema_view(
    list=extend_schema(
        summary="List the user's push subscriptions",
        description="Their browsers that get reminders, oldest first; never their keys.",
        parameters=[USER_ID_PARAMETER],
        responses={200: PushSubscriptionSerializer(many=True)},
        examples=[
            OpenApiExample("Subscriptions", value=[SUBSCRIPTION_EXAMPLE], response_only=True)
        ],
    ),
    create=extend_schema(
        summary="Subscribe a browser to reminders",
        description="Send `subscription.toJSON()` as `pushManager.subscribe()` gave it: "
        "201 with `Location`; the same endpoint again renews its keys: 200. An endpoint "
        "belongs to one user: another user's subscription with it is removed. At most "
        f"{MAX_PUSH_SUBSCRIPTIONS} subscriptions per user (else 409).",
        parameters=[USER_ID_PARAMETER, LOCATION_HEADER],
        request=NewPushSubscriptionSerializer,
        responses={
            200: PushSubscriptionSerializer,
            201: PushSubscriptionSerializer,
            (409, PROBLEM): OpenApiResponse(
                PROBLEM_SCHEMA, description="The user has as many subscriptions as allowed."
            ),
            (503, PROBLEM): PUSH_OFF,
        },
        examples=[
            NEW_SUBSCRIPTION_EXAMPLE,
            OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    ),
    destroy=extend_schema(
        summary="Unsubscribe a browser",
        description="Nothing more is pushed to it; what was waiting for it is dropped.",
        parameters=[USER_ID_PARAMETER, SUBSCRIPTION_ID_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted; no body.")},
    ),
)
class PushSubscriptionViewSet(OwnerViewSet):
    """The user's browsers that get reminders by Web Push. Another user's subscription
    answers 404, like a missing one."""

    serializer_class = PushSubscriptionSerializer

    def list(self, request: Request, user_id: str) -> Response:
        subscriptions = push_subscriptions(self.owner_id)
        return Response(PushSubscriptionSerializer(subscriptions, many=True).data)

    def create(self, request: Request, user_id: str) -> Response:
        incoming = NewPushSubscriptionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = incoming.validated_data
        subscription, created = push_subscription_save(
            user_id=self.owner_id, endpoint=fields["endpoint"], **fields["keys"]
        )
        body = PushSubscriptionSerializer(subscription).data
        if not created:
            return Response(body)
        location = f"{escape_uri_path(request.path).rstrip('/')}/{subscription.id}"
        return Response(
            body,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )

    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        subscription_id = path_id(pk)
        if not push_subscription_delete(user_id=self.owner_id, subscription_id=subscription_id):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
