"""`/mcp` and `/.well-known/oauth-protected-resource`: HTTP in, the MCP server
(agents.mcp), HTTP out."""

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import BetterAuthJWTAuthentication
from accounts.ratelimit import RateLimitedViewMixin
from agents import MCP_PATH, mcp

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
# What the SDK is not told: the token stays in this view, the cookies aren't ours.
WITHHELD_HEADERS = frozenset({"authorization", "cookie"})


@extend_schema(exclude=True)  # JSON-RPC: the README and the tools/list answer describe it
class McpView(RateLimitedViewMixin, APIView):
    """The MCP server, as the token's user. Without a valid token: 401 pointing to the
    protected resource document (RFC 9728), where a client learns how to get one."""

    authentication_classes = [BetterAuthJWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get_authenticate_header(self, request: Request) -> str:
        metadata = request.build_absolute_uri(PROTECTED_RESOURCE_PATH)
        return f'Bearer resource_metadata="{metadata}"'

    def post(self, request: Request) -> HttpResponse:
        status, headers, body = mcp.exchange(
            str(request.user.id), _asgi_scope(request), request.body
        )
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name.decode("latin-1")] = value.decode("latin-1")
        return response


def _asgi_scope(request: Request) -> dict[str, Any]:
    """The ASGI scope of `request` as the SDK reads it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "root_path": "",
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.items()
            if name.lower() not in WITHHELD_HEADERS
        ],
        "server": (request.get_host(), request.get_port()),
        "client": (request.META.get("REMOTE_ADDR", ""), 0),
    }


@extend_schema(exclude=True)
class ProtectedResourceView(RateLimitedViewMixin, APIView):
    """RFC 9728: what `/mcp` is, and where its tokens come from (Better Auth)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(
            {
                "resource": request.build_absolute_uri(MCP_PATH),
                "authorization_servers": [settings.BETTER_AUTH_URL]
                if settings.BETTER_AUTH_URL
                else [],
                "bearer_methods_supported": ["header"],
            }
        )
