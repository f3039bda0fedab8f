"""Fixtures of the agents tests: JSON-RPC to POST /mcp through Django's test client, as
a user with a real signed token."""

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

# What a Streamable HTTP client accepts; the SDK refuses a POST that accepts less.
MCP_ACCEPT = "application/json, text/event-stream"
_ids = itertools.count(1)

ToolCall = Callable[..., dict[str, Any]]


def post_mcp(client: APIClient, body: Any, **headers: Any) -> Any:
    """POST `body` (JSON-RPC, or raw bytes/text sent as they are) to /mcp: the test
    client's response."""
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        "/mcp", raw, content_type="application/json", HTTP_ACCEPT=MCP_ACCEPT, **headers
    )


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-RPC request of `method`."""
    return {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params or {}}


def outcome(result: dict[str, Any]) -> dict[str, Any]:
    """A tool result's structured content; the call must have succeeded."""
    assert result.get("isError") is not True, result
    structured: dict[str, Any] = result["structuredContent"]
    return structured


def refusal(result: dict[str, Any]) -> str:
    """A refused tool call's text; the call must have been refused, with nothing else."""
    assert result["isError"] is True, result
    assert "structuredContent" not in result
    (content,) = result["content"]
    text: str = content["text"]
    return text


@pytest.fixture
def tool_as(client_for: Callable[[str], APIClient]) -> Callable[[str], ToolCall]:
    """`tool_as(sub)("add_task", title="x")`: tools/call over POST /mcp as `sub`, the
    CallToolResult as JSON (a JSON-RPC error fails the test)."""

    def factory(sub: str) -> ToolCall:
        client = client_for(sub)

        def call(name: str, /, **arguments: Any) -> dict[str, Any]:
            response = post_mcp(client, rpc("tools/call", {"name": name, "arguments": arguments}))
            assert response.status_code == 200, response.content
            answer = response.json()
            assert "error" not in answer, answer
            result: dict[str, Any] = answer["result"]
            return result

        return call

    return factory


@pytest.fixture
def tool(tool_as: Callable[[str], ToolCall], user_id: str) -> ToolCall:
    """tools/call as `user_id`, the `api` fixture's user."""
    return tool_as(user_id)
