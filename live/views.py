"""`/api/{user_id}/events` (the live stream) and `/events/ticket`: HTTP in, a call of
live.services or live.tickets, HTTP out."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import BetterAuthJWTAuthentication
from accounts.views import OwnerViewSet
from live import views_schema
from live.authentication import TicketAuthentication
from live.services import stream_open
from live.streams import EventStreamResponse
from live.tickets import TICKET_SECONDS, ticket_issue


def token_expiry(request: Request) -> int:
    """When the caller's token (or the ticket's token) expires, in epoch seconds."""
    claims: dict[str, Any] = request.auth  # type: ignore[assignment]  # the claims, as authenticated
    return int(claims["exp"])


class EventStreamViewSet(OwnerViewSet):
    """The caller's changes as Server-Sent Events, for as long as their token lasts."""

    authentication_classes = [BetterAuthJWTAuthentication, TicketAuthentication]

    def perform_content_negotiation(self, request: Request, force: bool = False):  # type: ignore[no-untyped-def]
        # EventSource asks for text/event-stream; a refusal is problem+json all the same.
        return super().perform_content_negotiation(request, force=True)

    @views_schema.EVENTS_STREAM
    def stream(self, request: Request, user_id: str) -> EventStreamResponse:
        # A browser reconnecting by itself sends Last-Event-ID, and the URL it
        # first opened: the header is the newer place.
        # An empty one is none: a browser sends it only once it has an id.
        last_event_id = request.headers.get("Last-Event-ID") or None
        stream = stream_open(
            user_id=self.owner_id,
            since=last_event_id if last_event_id is not None else request.query_params.get("since"),
            since_name="Last-Event-ID" if last_event_id is not None else "since",
            ends_at=float(token_expiry(request)),
        )
        return EventStreamResponse(stream)


class EventTicketViewSet(OwnerViewSet):
    """A ticket for one EventSource (which can't send the token)."""

    @views_schema.EVENTS_TICKET
    def create(self, request: Request, user_id: str) -> Response:
        ticket = ticket_issue(user_id=self.owner_id, token_expires_at=token_expiry(request))
        return Response({"ticket": ticket, "expires_in": TICKET_SECONDS})
