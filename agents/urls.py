"""Routes of the agents: the MCP server at the root (`/mcp`, and its RFC 9728
document), the chat and its conversations under `/api/`."""

from django.urls import re_path

from agents import MCP_PATH
from agents.views import (
    PROTECTED_RESOURCE_PATH,
    ChatViewSet,
    ConversationViewSet,
    McpView,
    ProtectedResourceView,
)

# A trailing slash is optional on the API's routes, as on tasks/urls.py's.
urlpatterns = [
    re_path(rf"^{MCP_PATH.lstrip('/')}/?$", McpView.as_view(), name="mcp"),
    # RFC 9728 3.1: the document at the well-known path, and at it with the resource's
    # path after it (where some clients look first).
    re_path(
        rf"^{PROTECTED_RESOURCE_PATH.lstrip('/')}(?:{MCP_PATH})?/?$",
        ProtectedResourceView.as_view(),
        name="oauth-protected-resource",
    ),
    re_path(
        r"^api/(?P<user_id>[^/]+)/chat/?$", ChatViewSet.as_view({"post": "create"}), name="chat"
    ),
    re_path(
        r"^api/(?P<user_id>[^/]+)/conversations/?$",
        ConversationViewSet.as_view({"get": "list"}),
        name="conversation-list",
    ),
    re_path(
        r"^api/(?P<user_id>[^/]+)/conversations/(?P<pk>[^/]+)/?$",
        ConversationViewSet.as_view({"delete": "destroy"}),
        name="conversation-detail",
    ),
    re_path(
        r"^api/(?P<user_id>[^/]+)/conversations/(?P<pk>[^/]+)/messages/?$",
        ConversationViewSet.as_view({"get": "messages"}),
        name="conversation-messages",
    ),
]
