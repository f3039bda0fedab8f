"""The webhooks' and the activity log's bodies: a webhook sent (its URL by the outlets'
address rules, its event types each known and once), the answers' shapes (for the
OpenAPI document; the views build the JSON with the `*_json` functions), and the
activity list's query."""

import base64
import binascii
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import MAX_ROW_ID
from delivery.addresses import url_refusal
from delivery.models import Event, EventType, PushSubscription, Source, Webhook
from tasks.filters import PageQuery
from tasks.serializers import ShortListField, StrictBooleanField, StrictCharField

MAX_URL_LENGTH = Webhook._meta.get_field("url").max_length or 2048


# A host no DNS name can be (`exa mple.com`, `a..b`) would only fail at every delivery.
_WELL_FORMED = URLValidator(schemes=["http", "https"])


# What the document says a webhook's or a push endpoint's URL is: https and printable
# ASCII. Whether its host is public is for delivery.addresses; local development's http
# loopback URLs (PUSH_ALLOW_LOOPBACK) go unmentioned.
ENDPOINT_PATTERN = r"^https://[\x21-\x7e]+$"


@extend_schema_field({"type": "string", "maxLength": MAX_URL_LENGTH, "pattern": ENDPOINT_PATTERN})
class WebhookUrlField(StrictCharField):
    """A URL the outlets may send to (delivery.addresses), and well formed; a 400
    saying why not. Its host's addresses are checked again at every delivery."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_URL_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        url = super().to_internal_value(data)
        if refusal := url_refusal(url):
            raise serializers.ValidationError(f"This URL can't receive webhooks: {refusal}.")
        try:
            _WELL_FORMED(url)
        except DjangoValidationError:
            raise serializers.ValidationError(
                "This URL can't receive webhooks: it is not a well-formed URL."
            ) from None
        return url


class EventTypeField(serializers.ChoiceField):
    """An event type (`EventType`): the OpenAPI document's one `EventType` enum
    (delivery.views_schema), wherever it appears."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=EventType.choices, **kwargs)


class EventTypesField(ShortListField):
    """A non-empty list of distinct event types; an unknown one is a 400 naming it
    (`events.2`), a repeated one a 400 naming `events`."""

    max_items = len(EventType.values)
    child = EventTypeField()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        types = super().to_internal_value(data)
        if len(set(types)) != len(types):
            raise serializers.ValidationError("Each event type may appear once.")
        return types


class WebhookSerializer(serializers.Serializer):
    """A webhook: what `POST …/webhooks` (`url`, `events`) and `PATCH …/webhooks/{id}`
    (any of `url`, `events`, `enabled`) take, and what every answer but its creation
    shows: never its secret."""

    id = serializers.IntegerField(read_only=True)
    url = WebhookUrlField(
        help_text="https on a public address (loopback too with `PUSH_ALLOW_LOOPBACK`); "
        f"at most {MAX_URL_LENGTH} characters."
    )
    events = EventTypesField(help_text="The event types it receives: one or more, each once.")
    enabled = StrictBooleanField(
        required=False,
        help_text="False once `disabled_at` is set. PATCH `true` re-enables it (clears "
        "`disabled_at`), `false` disables it.",
    )
    disabled_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When it was disabled: by its owner, or when a delivery failed for the "
        "whole retry schedule. Null: enabled.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


_NEW_WEBHOOK = WebhookSerializer()
_WEBHOOK_CHANGES = WebhookSerializer(partial=True)


def validate_webhook(data: Any, *, partial: bool) -> dict[str, Any]:
    """A webhook body's validated fields: those sent, and `url` and `events` unless
    `partial`. Raises DRF's ValidationError (a 400 naming each bad field)."""
    validated: dict[str, Any] = (_WEBHOOK_CHANGES if partial else _NEW_WEBHOOK).run_validation(data)
    if not partial:
        validated.pop("enabled", None)  # a new webhook is enabled
    return validated


class NewWebhookSerializer(WebhookSerializer):
    """A webhook just created, with its signing secret: shown this once."""

    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_` + base64: verify each delivery's `webhook-signature` with it "
        "(Standard Webhooks). Shown only in this answer; keep it.",
    )


class PingQueuedSerializer(serializers.Serializer):
    """A test ping waiting for the delivery loop."""

    queued = serializers.BooleanField()
    message_id = serializers.CharField(help_text="Its `webhook-id` header.")


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events,
        "enabled": webhook.disabled_at is None,
        "disabled_at": webhook.disabled_at,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
    }


class ActivityQuery(PageQuery):
    """`GET /api/{user_id}/activity` query parameters: the paging of every list, and
    filters; unknown ones are ignored."""

    type = EventTypeField(required=False, help_text="What happened, alone.")
    task_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ROW_ID, help_text="Of this task alone."
    )
    list_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ROW_ID, help_text="Of this list alone."
    )


_ACTIVITY_QUERY = ActivityQuery()


def parse_activity_query(params: dict[str, str]) -> dict[str, Any]:
    """Validated activity parameters; DRF's ValidationError (a 400) names any bad one."""
    query: dict[str, Any] = _ACTIVITY_QUERY.run_validation(params)
    return query


class ActivitySerializer(serializers.Serializer):
    """One thing that happened to the user's tasks or lists, or a reminder that fired."""

    id = serializers.IntegerField()
    type = EventTypeField()
    task_id = serializers.IntegerField(
        allow_null=True, help_text="The task's, or the reminder's task's; null for a list."
    )
    list_id = serializers.IntegerField(allow_null=True, help_text="The list's, or the task's.")
    title = serializers.CharField(help_text="The task's or list's title then.")
    at = serializers.DateTimeField()
    # The metaclass takes declared fields off the class: Field's own `source` stays.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Source.choices,
        help_text="The door it came through: the REST API, the MCP server, the chat, the "
        "admin, or the worker (background jobs).",
    )


_ACTIVITY_FIELDS = ("id", "type", "task_id", "list_id", "title", "at", "source")


def activity_json(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _ACTIVITY_FIELDS}


# --- Web Push subscriptions -----------------------------------------------------

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# What may appear in an endpoint: printable ASCII without spaces (every push service's
# URLs are), so 2048 characters are 2048 bytes and the unique index can hold them.
_URL_CHARACTERS = re.compile(r"[\x21-\x7e]+")


def _decode_base64url(value: str) -> bytes:
    if not _BASE64URL.fullmatch(value):
        raise serializers.ValidationError("Must be base64url.")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as error:
        raise serializers.ValidationError("Must be base64url.") from error


def _encode_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushKeysSerializer(serializers.Serializer):
    """The subscription's keys, base64url as the browser gives them."""

    p256dh = serializers.CharField(
        max_length=100,
        help_text="The browser's P-256 public key: an uncompressed point (65 bytes), base64url.",
    )
    auth = serializers.CharField(
        max_length=32, help_text="The browser's authentication secret: 16 bytes, base64url."
    )

    def validate_p256dh(self, value: str) -> str:
        point = _decode_base64url(value)
        if len(point) != 65 or point[0] != 4:
            raise serializers.ValidationError("Must be an uncompressed P-256 point (65 bytes).")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as error:
            raise serializers.ValidationError("Must be a point on the P-256 curve.") from error
        return _encode_base64url(point)

    def validate_auth(self, value: str) -> str:
        secret = _decode_base64url(value)
        if len(secret) != 16:
            raise serializers.ValidationError("Must be 16 bytes.")
        return _encode_base64url(secret)


@extend_schema_field({"type": "string", "maxLength": 2048, "pattern": ENDPOINT_PATTERN})
class EndpointField(serializers.CharField):
    """A push service's URL."""


class NewPushSubscriptionSerializer(serializers.Serializer):
    """A browser's `PushSubscription.toJSON()`; its `expirationTime`, like any other key,
    is ignored."""

    endpoint = EndpointField(
        max_length=2048,
        trim_whitespace=False,
        help_text="The push service's URL for this browser: https (absolute, at most 2048 "
        "characters).",
    )
    keys = PushKeysSerializer()

    def validate_endpoint(self, value: str) -> str:
        if not _URL_CHARACTERS.fullmatch(value):
            raise serializers.ValidationError("Must be an absolute URL without spaces.")
        if refusal := url_refusal(value):
            raise serializers.ValidationError(f"Must be a push service's https URL: {refusal}.")
        return value


class PushSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription as its owner sees it: never its keys."""

    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "created_at"]
        read_only_fields = fields


class PushPublicKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The VAPID public key: an uncompressed P-256 point, base64url without "
        "padding. Pass it as `applicationServerKey` to `pushManager.subscribe()`."
    )
