"""Routes of the MCP server, mounted at the root (`/mcp`, and its RFC 9728 document)."""

from django.urls import path

from agents import MCP_PATH
from agents.views import PROTECTED_RESOURCE_PATH, McpView, ProtectedResourceView

urlpatterns = [
    path(MCP_PATH.lstrip("/"), McpView.as_view(), name="mcp"),
    path(
        PROTECTED_RESOURCE_PATH.lstrip("/"),
        ProtectedResourceView.as_view(),
        name="oauth-protected-resource",
    ),
]
