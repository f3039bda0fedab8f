"""`?ticket=` on the stream's route: how a browser's EventSource, which can't send an
Authorization header, authenticates (live.tickets)."""

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.models import TokenUser

from accounts.exceptions import TokenRefused
from live.tickets import ticket_redeem

TICKET_REFUSED = "The ticket is unknown, used or expired; buy a new one (POST …/events/ticket)."


class TicketAuthentication(BaseAuthentication):
    """`?ticket=<ticket>`: `request.user` is the ticket's user, `request.auth` claims
    whose `exp` is the token's that bought it. A ticket works once."""

    def authenticate(self, request: Request) -> tuple[TokenUser, dict[str, Any]] | None:
        ticket = request.query_params.get("ticket")
        if ticket is None:
            return None
        redeemed = ticket_redeem(ticket)
        if redeemed is None:
            raise TokenRefused("unknown, used or expired ticket", TICKET_REFUSED)
        user_id, expires_at = redeemed
        claims = {"sub": user_id, "exp": expires_at}
        return TokenUser(claims), claims  # type: ignore[arg-type]

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
