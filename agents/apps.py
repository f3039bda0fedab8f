from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """Agents acting as a user: the MCP server (`/mcp`) and the chat endpoint."""

    name = "agents"
