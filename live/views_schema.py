"""What the OpenAPI document says of the live stream's routes (live/views.py)."""

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from accounts.schema import USER_ID_PARAMETER
from live.tickets import TICKET_SECONDS

if TYPE_CHECKING:  # drf_spectacular.openapi imports DRF's views: no cycle at start-up
    from drf_spectacular.openapi import AutoSchema

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


class TicketScheme(OpenApiAuthenticationExtension):
    """`?ticket=`, the stream's other way in (live.authentication). Registered when the
    URLs import this module, before any schema is generated."""

    target_class = "live.authentication.TicketAuthentication"
    name = "StreamTicket"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "query",
            "name": "ticket",
            "description": (
                f"A ticket from `POST …/events/ticket`: opens one stream, once, within "
                f"{TICKET_SECONDS} s, for EventSource, which can't send a header."
            ),
        }


PROBLEM = "application/problem+json"

STREAM_EXAMPLE = (
    "retry: 1000\n"
    "id: 41.812.0.3:1vY2Qx:abc…\n"
    "\n"
    "event: changes\n"
    "id: 57.830.0.3:1vY2Rz:def…\n"
    'data: {"upserted": [{"id": 830, "title": "Buy oat milk", …}], "deleted": [], '
    '"lists": {"upserted": [], "deleted": []}, "next": "57.830.0.3:1vY2Rz:def…", '
    '"more": false}\n'
    "\n"
    ": keep-alive\n"
)


# One event of the stream, as an SSE reader parses it (its fields as text).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["changes", "reset"]},
        "id": {"type": "string", "description": "A changes-feed token."},
        "data": {"type": "string", "description": "The changes feed's JSON."},
        "retry": {"type": "integer"},
    },
}


class TicketSerializer(serializers.Serializer):
    """A ticket for one stream."""

    ticket = serializers.CharField(help_text="Pass as `?ticket=` to `GET …/events`, once.")
    expires_in = serializers.IntegerField(help_text="Seconds it can still be used.")


EVENTS_STREAM = extend_schema(
    summary="Stream your changes live (Server-Sent Events)",
    operation_id="events_stream",
    description=(
        "`text/event-stream`. It opens with `retry:` and an `id:` (where it starts), then "
        "sends `event: changes` whenever your tasks or lists change, from any client: "
        "`id` is a changes-feed token and `data` the changes feed's JSON since the "
        "previous id (`more: true`: another event follows at once). It starts after "
        "`Last-Event-ID` (a browser's reconnect sends it) or `since`, with the changes "
        "feed's guarantee that no change is skipped, else from now; an expired token "
        "opens with `event: reset` (sync in full with `GET …/changes`, then go on). A "
        "comment (`: keep-alive`) comes at least every 25 s. It ends when the token "
        "(or the ticket's token) expires: reconnect with a fresh one and the last id. "
        "Authenticate with the `Authorization` header, or, from `EventSource`, with a "
        "ticket. At most `EVENTS_MAX_STREAMS_PER_USER` (20) open per user: one more is "
        "429."
    ),
    parameters=[
        USER_ID_PARAMETER,
        OpenApiParameter(
            "since", OpenApiTypes.STR, description="A changes-feed token to start after."
        ),
        OpenApiParameter(
            "ticket",
            OpenApiTypes.STR,
            description="From `POST …/events/ticket`, in place of the Authorization header.",
        ),
        OpenApiParameter(
            "Last-Event-ID",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="The last `id` received; wins over `since`.",
        ),
    ],
    responses={
        (200, "text/event-stream"): OpenApiResponse(
            SSE_EVENT_SCHEMA,
            description="The stream.",
            examples=[OpenApiExample("Events", value=STREAM_EXAMPLE)],
        ),
    },
)

EVENTS_TICKET = extend_schema(
    summary="Get a ticket to open a stream from EventSource",
    operation_id="events_ticket",
    description=(
        "Browsers' `EventSource` can't send the Authorization header: this answers a "
        f"ticket that `GET …/events?ticket=` accepts once, within {TICKET_SECONDS} s, for "
        "you; the stream it opens ends when this request's token expires. Tickets are "
        "never logged."
    ),
    parameters=[USER_ID_PARAMETER],
    request=None,
    responses={200: TicketSerializer},
    examples=[
        OpenApiExample(
            "A ticket",
            value={"ticket": "kq3V…Zr8", "expires_in": TICKET_SECONDS},
            response_only=True,
        )
    ],
)
