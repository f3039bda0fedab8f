"""The MCP server (contract Part 5, "The MCP server"): the official SDK's client against
a live server, and POST /mcp at the HTTP level: its door (tokens, the RFC 9728
document, body size, rate limits) and its JSON-RPC answers."""

import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from django.db import OperationalError
from mcp.client.client import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from rest_framework.test import APIClient

from agents import mcp, tools
from agents.tests.conftest import MCP_ACCEPT, post_mcp, refusal, rpc
from agents.tools import TOOLS
from testing.live import live_service, live_token, service_env
from testing.mcp_client import mcp_session
from testing.postgres import database_independent, needs_postgres
from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db

THE_SIX = {"add_task", "list_tasks", "complete_task", "delete_task", "update_task", "list_lists"}


def with_session(url: str, token: str, work: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """`work(session)` in an initialized SDK session with the MCP server at `url`."""

    async def run() -> Any:
        async with mcp_session(url, token) as session:
            return await work(session)

    return anyio.run(run)


def listed_tools(url: str, token: str) -> dict[str, Any]:
    async def work(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    return {tool.name: tool for tool in with_session(url, token, work)}


# --- The SDK's own client, against a live server ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sdk_client_lists_the_six_tools_with_both_schemas(
    live_server: Any, make_token: TokenFactory
) -> None:
    found = listed_tools(f"{live_server.url}/mcp", make_token("u1"))

    assert set(found) == THE_SIX
    for name, tool in found.items():
        assert (tool.input_schema, tool.output_schema) == (
            TOOLS[name].input_schema,
            TOOLS[name].output_schema,
        )


@pytest.mark.django_db(transaction=True)
def test_the_tools_carry_the_contracts_annotations(
    live_server: Any, make_token: TokenFactory
) -> None:
    found = listed_tools(f"{live_server.url}/mcp", make_token("u1"))

    hints = {
        name: (
            tool.annotations.read_only_hint,
            tool.annotations.destructive_hint,
            tool.annotations.idempotent_hint,
        )
        for name, tool in found.items()
        if tool.annotations
    }
    assert hints == {
        "add_task": (False, False, False),
        "list_tasks": (True, False, False),
        "complete_task": (False, False, True),
        "delete_task": (False, True, True),
        "update_task": (False, False, True),
        "list_lists": (True, False, False),
    }


@pytest.mark.django_db(transaction=True)
def test_add_task_then_list_tasks_round_trip_through_the_sdk_client(
    live_server: Any, make_token: TokenFactory
) -> None:
    async def work(session: ClientSession) -> Any:
        return [
            await session.call_tool("add_task", {"title": "Buy milk"}),
            await session.call_tool("list_tasks", {}),
        ]

    added, listed = with_session(f"{live_server.url}/mcp", make_token("u1"), work)

    for result in (added, listed):
        assert not result.is_error
        assert json.loads(result.content[0].text) == result.structured_content
    assert listed.structured_content == {
        "tasks": [added.structured_content["task"]],
        "next_cursor": None,
    }


@pytest.mark.django_db(transaction=True)
def test_a_client_of_the_newest_protocol_is_served_without_a_handshake(
    live_server: Any, make_token: TokenFactory
) -> None:
    """The SDK's `Client` in its default mode asks `server/discover` and speaks the
    newest version it shares with the server: whatever newer version the SDK speaks."""

    async def run() -> Any:
        headers = {"Authorization": f"Bearer {make_token('u1')}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(f"{live_server.url}/mcp", http_client=http)) as client,
        ):
            return client.protocol_version, await client.call_tool("add_task", {"title": "x"})

    version, result = anyio.run(run)

    assert version > "2025-06-18"
    assert result.structured_content["status"] == "created"


@pytest.mark.django_db(transaction=True)
def test_a_client_that_sends_no_session_id_is_served_and_is_given_none(
    live_server: Any, make_token: TokenFactory
) -> None:
    """Stateless: a tools/call with no initialize before it and no Mcp-Session-Id."""
    headers = {"Authorization": f"Bearer {make_token('u1')}", "Accept": MCP_ACCEPT}
    body = rpc("tools/call", {"name": "add_task", "arguments": {"title": "Buy milk"}})

    response = httpx2.post(f"{live_server.url}/mcp", json=body, headers=headers, timeout=30)

    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"]["status"] == "created"
    assert "mcp-session-id" not in response.headers


@database_independent
def test_the_procfiles_web_process_serves_the_sdk_client(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    async def work(session: ClientSession) -> Any:
        return [
            await session.call_tool("add_task", {"title": "Buy milk"}),
            await session.call_tool("list_tasks", {}),
        ]

    with live_service(env) as base:
        added, listed = with_session(f"{base}/mcp", live_token(env), work)

    assert added.structured_content["status"] == "created"
    assert listed.structured_content["tasks"] == [added.structured_content["task"]]


# --- The door: tokens and the protected resource document (RFC 9728) -----------------

POINTER = 'Bearer resource_metadata="http://testserver/.well-known/oauth-protected-resource"'


def test_without_a_token_it_is_401_pointing_to_the_protected_resource_document() -> None:
    response = post_mcp(APIClient(), rpc("tools/list"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == POINTER
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "token",
    [
        lambda make_token: "not.a.token",
        lambda make_token: make_token("u1", key="another-secret-" + "x" * 40),
        lambda make_token: make_token("u1", exp=int(time.time()) - 3600),
        lambda make_token: make_token(None),
    ],
    ids=["garbage", "another-key", "expired", "no-sub"],
)
def test_a_token_the_rest_api_refuses_is_401_with_the_same_pointer(
    make_token: TokenFactory, token: Callable[[TokenFactory], str]
) -> None:
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token(make_token)}")

    response = post_mcp(client, rpc("tools/list"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == POINTER


def test_the_protected_resource_document_names_the_mcp_url_and_better_auth(
    settings: Any,
) -> None:
    settings.BETTER_AUTH_URL = "https://auth.example.com"

    response = APIClient().get("/.well-known/oauth-protected-resource")

    assert response.status_code == 200
    assert response.json() == {
        "resource": "http://testserver/mcp",
        "authorization_servers": ["https://auth.example.com"],
        "bearer_methods_supported": ["header"],
    }


def test_without_better_auth_url_the_document_names_no_authorization_server() -> None:
    response = APIClient().get("/.well-known/oauth-protected-resource")

    assert response.json()["authorization_servers"] == []


def test_the_document_is_also_at_the_path_suffixed_address() -> None:
    # RFC 9728 3.1: the resource's path after the well-known one.
    response = APIClient().get("/.well-known/oauth-protected-resource/mcp")

    assert response.json()["resource"] == "http://testserver/mcp"


def test_a_browsers_client_may_read_the_401s_pointer(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://inspector.example.com"]

    response = APIClient().post("/mcp", HTTP_ORIGIN="https://inspector.example.com")

    assert response.status_code == 401
    assert "WWW-Authenticate" in response["Access-Control-Expose-Headers"]


def test_mcp_with_a_trailing_slash_is_the_same_server(api: APIClient) -> None:
    response = api.post(
        "/mcp/",
        json.dumps(rpc("tools/list")),
        content_type="application/json",
        HTTP_ACCEPT=MCP_ACCEPT,
    )

    assert len(response.json()["result"]["tools"]) == 6


def test_the_sdk_is_told_no_header_it_does_not_read(api: APIClient, monkeypatch: Any) -> None:
    seen: list[bytes] = []
    real = mcp.exchange

    def spy(owner_id: str, scope: dict[str, Any], body: bytes) -> Any:
        seen.extend(name for name, _ in scope["headers"])
        return real(owner_id, scope, body)

    monkeypatch.setattr(mcp, "exchange", spy)
    post_mcp(api, rpc("tools/list"), HTTP_COOKIE="session=x", HTTP_X_API_KEY="secret")

    assert b"authorization" not in seen
    assert b"cookie" not in seen
    assert b"x-api-key" not in seen
    assert b"accept" in seen


# --- Limits: the REST API's ----------------------------------------------------------


def test_a_body_over_max_body_bytes_is_413_problem(api: APIClient, settings: Any) -> None:
    settings.MAX_BODY_BYTES = 100
    body = rpc("tools/call", {"name": "add_task", "arguments": {"title": "x" * 200}})

    response = post_mcp(api, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_a_user_over_the_rate_limit_gets_429(api: APIClient, settings: Any) -> None:
    settings.RATE_LIMIT_USER = "2/m"

    statuses = [post_mcp(api, rpc("tools/list")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_mcp_and_rest_calls_count_against_one_limit_per_user(api: APIClient, settings: Any) -> None:
    settings.RATE_LIMIT_USER = "2/m"
    api.get("/api/me/tasks")
    api.get("/api/me/tasks")

    assert post_mcp(api, rpc("tools/list")).status_code == 429


def test_refused_tokens_count_against_the_client_address(settings: Any) -> None:
    settings.RATE_LIMIT_ANON = "2/m"
    bad = APIClient(HTTP_AUTHORIZATION="Bearer nonsense")

    statuses = [post_mcp(bad, rpc("tools/list")).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


# --- JSON-RPC answers: the SDK's, never a 500 ----------------------------------------


@pytest.mark.parametrize("accept", [MCP_ACCEPT, "text/event-stream"])
def test_get_is_405_in_problem_json_whatever_it_accepts(api: APIClient, accept: str) -> None:
    # An MCP client opens its GET stream accepting `text/event-stream` alone; it reads
    # a 405 as "no stream here", a 406 as a failure.
    response = api.get("/mcp", HTTP_ACCEPT=accept)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_initialize_speaks_2025_06_18(api: APIClient) -> None:
    params = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    }

    result = post_mcp(api, rpc("initialize", params)).json()["result"]

    assert result["protocolVersion"] == "2025-06-18"
    assert result["capabilities"]["tools"] is not None


def test_malformed_json_is_a_json_rpc_parse_error(api: APIClient) -> None:
    response = post_mcp(api, b'{"jsonrpc": "2.0", "id": 1, "method": ')

    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


@pytest.mark.parametrize("body", [{"no": "method"}, [], 7])
def test_json_that_is_not_a_json_rpc_message_is_a_json_rpc_error(api: APIClient, body: Any) -> None:
    response = post_mcp(api, json.dumps(body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] in (-32600, -32602)


def test_an_unknown_method_is_method_not_found(api: APIClient) -> None:
    response = post_mcp(api, rpc("tasks/drop"))

    assert response.json()["error"]["code"] == -32601


def test_arguments_that_are_not_an_object_are_invalid_params(api: APIClient) -> None:
    response = post_mcp(api, rpc("tools/call", {"name": "add_task", "arguments": "Buy milk"}))

    assert response.json()["error"]["code"] == -32602


def test_a_tool_that_fails_is_a_tool_error_that_tells_nothing_of_the_failure(
    api: APIClient, monkeypatch: Any, caplog: Any
) -> None:
    def fail(owner_id: str, arguments: Any) -> Any:
        raise RuntimeError("internal detail")

    monkeypatch.setitem(TOOLS, "add_task", tools.Tool("add_task", "", {}, {}, fail))

    result = post_mcp(api, rpc("tools/call", {"name": "add_task", "arguments": {}})).json()

    assert "internal detail" not in refusal(result["result"])
    assert "internal detail" in caplog.text  # logged, as a REST 500 is


def test_a_database_failure_is_a_tool_error_saying_to_retry(
    api: APIClient, monkeypatch: Any
) -> None:
    def fail(owner_id: str, arguments: Any) -> Any:
        raise OperationalError('connection to server at "10.0.0.7" failed')

    monkeypatch.setitem(TOOLS, "add_task", tools.Tool("add_task", "", {}, {}, fail))

    result = post_mcp(api, rpc("tools/call", {"name": "add_task", "arguments": {}})).json()

    text = refusal(result["result"])
    assert text.startswith("Service Unavailable: ")
    assert "10.0.0.7" not in text


@needs_postgres  # the live server's in-memory SQLite locks its tables for concurrent writes
@pytest.mark.django_db(transaction=True)
def test_requests_at_once_are_each_answered_with_their_own_callers_tools(
    live_server: Any, make_token: TokenFactory
) -> None:
    """Each request thread runs the SDK on a loop of its own; each tool call runs on the
    thread of its own request, as its own user."""
    users = [f"user-{number}" for number in range(8)]

    def add(user: str) -> Any:
        headers = {"Authorization": f"Bearer {make_token(user)}", "Accept": MCP_ACCEPT}
        body = rpc("tools/call", {"name": "add_task", "arguments": {"title": user}})
        return httpx2.post(f"{live_server.url}/mcp", json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(len(users)) as pool:
        answers = list(pool.map(add, users))

    tasks = [answer.json()["result"]["structuredContent"]["task"] for answer in answers]
    assert [(task["user_id"], task["title"]) for task in tasks] == [(user, user) for user in users]
