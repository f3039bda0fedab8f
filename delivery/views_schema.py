"""What the OpenAPI document says of the webhooks' and the activity log's routes
(delivery/views.py): summaries, descriptions, parameters, examples. Each view method
takes its entry here as its one decorator, as tasks/views_schema.py does."""

from http import HTTPStatus
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    Direction,
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from accounts.schema import USER_ID_PARAMETER
from delivery.exceptions import WebhookDisabled, WebhookLimitReached
from delivery.models import MAX_WEBHOOKS_PER_USER, EventType
from delivery.serializers import (
    ActivityQuery,
    ActivitySerializer,
    EventTypeField,
    NewPushSubscriptionSerializer,
    NewWebhookSerializer,
    PingQueuedSerializer,
    PushPublicKeySerializer,
    PushSubscriptionSerializer,
    WebhookSerializer,
)
from delivery.services import MAX_PUSH_SUBSCRIPTIONS
from todo_project.problems import PROBLEM_CONTENT_TYPE as PROBLEM

# Problems refer to the schema todo_project/openapi.py defines.
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


class EventTypeFieldSchema(OpenApiSerializerFieldExtension):
    """Every event type field (a webhook's `events`, the activity's `type` and its
    filter) refers to one `EventType` component: drf-spectacular would name the one
    choice set twice (`EventsEnum`, `TypeEnum`). Registered when the URLs import this
    module, before any schema is generated."""

    target_class = "delivery.serializers.EventTypeField"

    def map_serializer_field(self, auto_schema: Any, direction: Direction) -> Any:
        component = ResolvedComponent(
            name="EventType",
            type=ResolvedComponent.SCHEMA,
            object="EventType",
            schema={
                "type": "string",
                "enum": EventType.values,
                "description": "What happened: a webhook's event type, an activity's `type`.",
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class EventTypesFieldSchema(OpenApiSerializerFieldExtension):
    """A webhook's `events`: distinct `EventType`s, as EventTypesField takes them."""

    target_class = "delivery.serializers.EventTypesField"

    def map_serializer_field(self, auto_schema: Any, direction: Direction) -> Any:
        return {
            "type": "array",
            "items": EventTypeFieldSchema(EventTypeField()).map_serializer_field(
                auto_schema, direction
            ),
            "minItems": 1,
            "maxItems": len(EventType.values),
            "uniqueItems": True,
        }


WEBHOOK_EXAMPLE = {
    "id": 3,
    "url": "https://hooks.example.com/todo",
    "events": ["task.created", "task.completed"],
    "enabled": True,
    "disabled_at": None,
    "created_at": "2026-12-07T09:00:00Z",
    "updated_at": "2026-12-07T09:00:00Z",
}
WEBHOOK_RESPONSE_EXAMPLE = OpenApiExample("Webhook", value=WEBHOOK_EXAMPLE, response_only=True)
NEW_WEBHOOK_EXAMPLE = OpenApiExample(
    "New webhook",
    value={"url": WEBHOOK_EXAMPLE["url"], "events": WEBHOOK_EXAMPLE["events"]},
    request_only=True,
)
WEBHOOK_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The webhook's id."
)
LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The new webhook's (or subscription's) URL.",
    response=[201],
)


def _problem(status: int, detail: str) -> dict[str, Any]:
    """A problem body as todo_project.problems renders the exception's."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }


def _problem_response(status: int, description: str, detail: str) -> OpenApiResponse:
    return OpenApiResponse(
        PROBLEM_SCHEMA,
        description=description,
        examples=[OpenApiExample(HTTPStatus(status).phrase, value=_problem(status, detail))],
    )


WEBHOOKS_LIST = extend_schema(
    summary="List your webhooks",
    operation_id="webhooks_list",
    description=f"All of them (at most {MAX_WEBHOOKS_PER_USER}), oldest first; never "
    "their secrets. A plain array, not paged.",
    parameters=[USER_ID_PARAMETER],
    responses={200: WebhookSerializer(many=True)},
    examples=[OpenApiExample("Webhooks", value=[WEBHOOK_EXAMPLE], response_only=True)],
)

WEBHOOKS_CREATE = extend_schema(
    summary="Create a webhook",
    operation_id="webhooks_create",
    description="Your events of the `events` types are POSTed to `url` by the Standard "
    "Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`; "
    'body `{"type", "timestamp", "data"}`), retried on `WEBHOOK_RETRY_SCHEDULE`; after '
    "the last retry fails the webhook is disabled. The answer holds the `secret` that "
    "signs them: it is shown this once. The URL must be https on a public address "
    f"(checked again at every delivery). At most {MAX_WEBHOOKS_PER_USER} per user "
    "(409 beyond). A bad `url` (not https on a public address, over 2048 characters) "
    "or `events` (empty, an unknown type, one twice) is a 400 naming it.",
    parameters=[USER_ID_PARAMETER, LOCATION_HEADER],
    request=WebhookSerializer,
    responses={
        201: NewWebhookSerializer,
        (409, PROBLEM): _problem_response(
            409,
            f"You hold {MAX_WEBHOOKS_PER_USER} webhooks already.",
            str(WebhookLimitReached.default_detail),
        ),
    },
    examples=[
        NEW_WEBHOOK_EXAMPLE,
        OpenApiExample(
            "Webhook with its secret",
            value={**WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
            response_only=True,
            status_codes=["201"],
        ),
    ],
)

WEBHOOKS_RETRIEVE = extend_schema(
    summary="Get a webhook",
    operation_id="webhooks_retrieve",
    description="Without its secret. Another user's is a 404, like a missing one.",
    parameters=[USER_ID_PARAMETER, WEBHOOK_ID_PARAMETER],
    responses={200: WebhookSerializer},
    examples=[WEBHOOK_RESPONSE_EXAMPLE],
)

WEBHOOKS_PARTIAL_UPDATE = extend_schema(
    summary="Change, disable or re-enable a webhook",
    operation_id="webhooks_partial_update",
    description='Any of `url`, `events` (the new list replaces the old) and `enabled`. `{"'
    'enabled": true}` re-enables a webhook disabled after failed deliveries (clears '
    '`disabled_at`); `{"enabled": false}` disables it (sets `disabled_at` to now, '
    "unless it is disabled already). `{}` changes nothing. The secret stays. A bad "
    "field is a 400 naming it, as on create.",
    parameters=[USER_ID_PARAMETER, WEBHOOK_ID_PARAMETER],
    request=WebhookSerializer,
    responses={200: WebhookSerializer},
    examples=[
        OpenApiExample("Re-enable", value={"enabled": True}, request_only=True),
        OpenApiExample(
            "Receive every task change",
            value={
                "events": [
                    "task.created",
                    "task.updated",
                    "task.completed",
                    "task.deleted",
                    "task.restored",
                ]
            },
            request_only=True,
        ),
        WEBHOOK_RESPONSE_EXAMPLE,
    ],
)

WEBHOOKS_DESTROY = extend_schema(
    summary="Delete a webhook",
    operation_id="webhooks_destroy",
    description="Nothing more is sent to it; its deliveries waiting to go out are dropped.",
    parameters=[USER_ID_PARAMETER, WEBHOOK_ID_PARAMETER],
    responses={204: OpenApiResponse(description="Deleted; no body.")},
)

WEBHOOKS_TEST = extend_schema(
    summary="Send a test ping to a webhook",
    operation_id="webhooks_test",
    description='Queues a delivery of `ping` (`data`: `{"webhook_id"}`), sent, signed '
    "and retried like an event's: 202 with its `webhook-id`. A disabled webhook is a "
    "409: re-enable it first.",
    parameters=[USER_ID_PARAMETER, WEBHOOK_ID_PARAMETER],
    request=None,
    responses={
        202: PingQueuedSerializer,
        (409, PROBLEM): _problem_response(
            409, "The webhook is disabled.", str(WebhookDisabled.default_detail)
        ),
    },
    examples=[
        OpenApiExample(
            "Queued",
            value={"queued": True, "message_id": "msg_5b0c4bf4a1b84f7d9f3c3a2e6c1d7e90"},
            response_only=True,
            status_codes=["202"],
        )
    ],
)

ACTIVITY_LIST = extend_schema(
    summary="List your activity",
    operation_id="activity_list",
    description="What happened to your tasks and lists, and the reminders that fired, "
    "newest first, keyset-paged like the notifications; kept `ACTIVITY_RETENTION_DAYS` "
    "(90). `type`, `task_id` and `list_id` narrow it.",
    parameters=[USER_ID_PARAMETER, ActivityQuery],
    responses={200: ActivitySerializer(many=True)},
    examples=[
        OpenApiExample(
            "A page",
            value=[
                {
                    "id": 1893,
                    "type": "task.completed",
                    "task_id": 42,
                    "list_id": 7,
                    "title": "Buy oat milk",
                    "at": "2026-12-07T09:02:00Z",
                    "source": "mcp",
                },
                {
                    "id": 1890,
                    "type": "list.created",
                    "task_id": None,
                    "list_id": 7,
                    "title": "Groceries",
                    "at": "2026-12-07T09:00:00Z",
                    "source": "api",
                },
            ],
            response_only=True,
        )
    ],
)


# --- Web Push ---------------------------------------------------------------------

PUBLIC_KEY_EXAMPLE = (
    "BAJ4Vdi1lsn_8EELJNm9hRwhwobm9jC7z92LgbcVGYVHKRMb4FqdaTxhPQNsNhT_HQCcNTKBiGBpyC5UcDCxU-w"
)


PUSH_OFF = OpenApiResponse(
    PROBLEM_SCHEMA, description="Web Push is off: the server has no `VAPID_PRIVATE_KEY`."
)


PUSH_PUBLIC_KEY = extend_schema(
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


PUSH_SUBSCRIPTIONS = extend_schema_view(
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
