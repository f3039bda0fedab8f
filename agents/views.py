"""`/mcp` and `/.well-known/oauth-protected-resource`: HTTP in, the MCP server
(agents.mcp), HTTP out. `/api/{user_id}/chat` and `/conversations`: HTTP in, a call of
agents.services (or agents.selectors), HTTP out."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import BetterAuthJWTAuthentication
from accounts.ratelimit import RateLimitedViewMixin
from accounts.views import OwnerViewSet, path_id
from agents import MCP_PATH, mcp, views_schema
from agents.exceptions import ChatModelFailed
from agents.selectors import conversation_page, message_page, owned_conversation
from agents.serializers import (
    ChatAnswerSerializer,
    conversation_json,
    message_json,
    tool_calls_json,
    validate_chat,
)
from agents.services import chat_send, conversation_delete
from tasks.filters import parse_page_query

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
# The headers the SDK reads; no other (the token, cookies, a proxy's) reaches it.
SDK_HEADERS = frozenset(
    {"accept", "content-type", "content-length", "host", "origin", "last-event-id"}
)


def _for_sdk(name: str) -> bool:
    return name in SDK_HEADERS or name.startswith("mcp-")  # mcp-protocol-version, mcp-name…


class RefusalsInJson(BaseContentNegotiation):
    """DRF renders only `/mcp`'s refusals (401, 405, 413, 429); the SDK renders the
    rest. A refusal is problem+json even to a client that asks for
    `text/event-stream` alone (an MCP client's GET), never a 406."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


@extend_schema(exclude=True)  # JSON-RPC: the README and the tools/list answer describe it
class McpView(RateLimitedViewMixin, APIView):
    """The MCP server, as the token's user. Without a valid token: 401 pointing to the
    protected resource document (RFC 9728), where a client learns how to get one."""

    authentication_classes = [BetterAuthJWTAuthentication]
    permission_classes = [IsAuthenticated]
    content_negotiation_class = RefusalsInJson

    def get_authenticate_header(self, request: Request) -> str:
        metadata = request.build_absolute_uri(PROTECTED_RESOURCE_PATH)
        return f'Bearer resource_metadata="{metadata}"'

    def post(self, request: Request) -> HttpResponse:
        code, headers, body = mcp.exchange(str(request.user.id), _asgi_scope(request), request.body)
        response = HttpResponse(body, status=code)
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
            if _for_sdk(name.lower())
        ],
        "server": (request.META.get("SERVER_NAME", ""), int(request.get_port())),
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


class ChatViewSet(OwnerViewSet):
    """The caller's messages to the agent, answered."""

    serializer_class = ChatAnswerSerializer

    @views_schema.CHAT
    def create(self, request: Request, user_id: str) -> Response:
        fields = validate_chat(request.data)
        turn = chat_send(
            user_id=self.owner_id,
            text=fields["message"],
            conversation_id=fields.get("conversation_id"),
        )
        return Response(
            {
                "conversation_id": turn.conversation_id,
                "response": turn.response,
                "tool_calls": tool_calls_json(turn.tool_calls),
            }
        )

    def handle_exception(self, exc: Exception) -> Response:
        """A failed turn's problem names its conversation, a new one's too: the retry
        goes there, where the model sees the tool calls already made."""
        response = super().handle_exception(exc)
        if isinstance(exc, ChatModelFailed):
            response.data["conversation_id"] = exc.conversation_id
        return response


class ConversationViewSet(OwnerViewSet):
    """The caller's conversations with the agent. Another user's answers 404, like a
    missing one."""

    @views_schema.CONVERSATIONS_LIST
    def list(self, request: Request, user_id: str) -> Response:
        page = conversation_page(
            user_id=self.owner_id, query=parse_page_query(request.query_params.dict())
        )
        body = [conversation_json(conversation) for conversation in page.items]
        return Response(body, headers=page.headers(request))

    @views_schema.CONVERSATIONS_MESSAGES
    def messages(self, request: Request, user_id: str, pk: str) -> Response:
        query = parse_page_query(request.query_params.dict())
        conversation = owned_conversation(user_id=self.owner_id, conversation_id=path_id(pk))
        page = message_page(conversation=conversation, query=query)
        body = [message_json(message) for message in page.items]
        return Response(body, headers=page.headers(request))

    @views_schema.CONVERSATIONS_DESTROY
    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        if not conversation_delete(user_id=self.owner_id, conversation_id=path_id(pk)):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
