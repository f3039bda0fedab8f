"""`/api/{user_id}/settings`, `/api/{user_id}/push-subscriptions`, `/api/push/public-key`,
and the base of every view of a user's own resources."""

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import BetterAuthJWTAuthentication
from accounts.models import MAX_ROW_ID
from accounts.permissions import IsPathUser
from accounts.ratelimit import RateLimitedViewMixin
from accounts.schema import USER_ID_PARAMETER
from accounts.selectors import user_time_zone
from accounts.services import (
    user_set_time_zone,
)
from accounts.timezones import TimeZoneField


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
