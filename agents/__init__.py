"""Agents acting as a user: the MCP server and the chat endpoint."""

# The MCP server's one path; an API path as `/api/…` are (todo_project.problems).
MCP_PATH = "/mcp"
