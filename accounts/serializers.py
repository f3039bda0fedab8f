"""Request validation and response shape of the user's push subscriptions."""

import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric import ec
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from delivery.addresses import url_refusal
from delivery.models import PushSubscription

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


# What the document says an endpoint is: https and what _URL_CHARACTERS allows. Whether
# its host is public is for push.url_refusal; local development's http loopback
# endpoints (PUSH_ALLOW_LOOPBACK) go unmentioned.
ENDPOINT_PATTERN = r"^https://[\x21-\x7e]+$"


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
