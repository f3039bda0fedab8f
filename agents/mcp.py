"""The MCP server: agents.tools over the official SDK's Streamable HTTP transport,
stateless (any web process answers any request; no session id is needed), with JSON
answers.

The SDK is asyncio; Django's views and database connections are not. So the view
(agents.views.McpView) authenticates, rate-limits and size-limits the request as every
REST view does, then `exchange` hands it to the SDK, which runs on one event loop
thread per process. A tool call comes back to the waiting request thread to run: it
uses that thread's database connection, as any request does, and no thread or
connection is added per call.
"""

import asyncio
import concurrent.futures
import logging
import os
import queue
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

import mcp_types as types
import orjson
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from agents.tools import TOOLS, ToolRefused, call_tool

logger = logging.getLogger(__name__)

Headers = list[tuple[bytes, bytes]]
# What the HTTP exchange answers: status, headers, body.
Answer = tuple[int, Headers, bytes]
# A request thread waits no longer than this for the SDK's answer (its tool calls
# excepted: they run on the thread itself); only a bug in the loop could take it.
EXCHANGE_TIMEOUT_SECONDS = 30


class RequestThread:
    """The request thread waiting for its exchange with the SDK, and the work it does
    for it meanwhile: the tool calls of that exchange."""

    def __init__(self, owner_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.owner_id = owner_id
        self.loop = loop
        self.calls: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None]
        self.calls = queue.SimpleQueue()

    async def run(self, call: Callable[[], Any]) -> Any:
        """On the loop: `call()` run on the request thread, its result or its error."""
        settled = self.loop.create_future()
        self.calls.put((call, settled))
        return await settled

    def serve_until(self, exchange: concurrent.futures.Future[Answer]) -> Answer:
        """On the request thread: run the calls that come until `exchange` is done."""
        exchange.add_done_callback(lambda _: self.calls.put(None))
        while (work := self.calls.get(timeout=EXCHANGE_TIMEOUT_SECONDS)) is not None:
            call, settled = work
            try:
                result = call()
            except Exception as error:  # handed to the awaiting coroutine, which decides
                self.loop.call_soon_threadsafe(_settle, settled, None, error)
            else:
                self.loop.call_soon_threadsafe(_settle, settled, result, None)
        return exchange.result(timeout=EXCHANGE_TIMEOUT_SECONDS)


def _settle(future: asyncio.Future[Any], result: Any, error: Exception | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# Where a handler finds the request thread of its exchange: the ASGI scope, which the
# SDK hands each handler with the request (`ctx.request`).
CALLER = "todo.caller"

TOOL_LIST = types.ListToolsResult(
    tools=[
        types.Tool(
            name=tool.name,
            description=tool.description,
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
            annotations=types.ToolAnnotations(
                read_only_hint=tool.read_only,
                destructive_hint=tool.destructive,
                idempotent_hint=tool.idempotent,
                open_world_hint=False,
            ),
        )
        for tool in TOOLS.values()
    ]
)


async def _list_tools(
    ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return TOOL_LIST


async def _call_tool(
    ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    assert ctx.request is not None  # the HTTP transport always hands it
    caller: RequestThread = ctx.request.scope[CALLER]
    arguments = params.arguments or {}
    try:
        result = await caller.run(lambda: call_tool(caller.owner_id, params.name, arguments))
    except ToolRefused as refusal:
        return _tool_error(str(refusal))
    except Exception:
        # A bug: logged with its traceback, and an error result for the client, never
        # a JSON-RPC internal error with the exception's words.
        logger.exception("tool %s failed", params.name)
        return _tool_error("Internal Server Error: the tool failed; the error has been logged.")
    text = orjson.dumps(result).decode()
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=result)


def _tool_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def _input_schema(name: str) -> dict[str, Any] | None:
    tool = TOOLS.get(name)
    return tool.input_schema if tool else None


SERVER: Server[Any] = Server(
    "todo",
    instructions="The signed-in user's tasks and lists. Every tool acts as that user.",
    get_tool_input_schema=_input_schema,
    on_list_tools=_list_tools,
    on_call_tool=_call_tool,
)


class _SdkLoop:
    """The process's one event loop thread for the SDK, started at the first exchange
    (in each web process: a fork carries no threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self.loop: asyncio.AbstractEventLoop
        self.manager: StreamableHTTPSessionManager

    def ready(self) -> "_SdkLoop":
        with self._lock:
            if self._pid != os.getpid():
                self._start()
                self._pid = os.getpid()
        return self

    def _start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.manager = StreamableHTTPSessionManager(
            app=SERVER,
            json_response=True,
            stateless=True,
            # Django checks the Host (ALLOWED_HOSTS) and the Origin (CORS) before this.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        threading.Thread(target=self.loop.run_forever, name="mcp", daemon=True).start()
        running = threading.Event()

        async def run_manager() -> None:
            async with self.manager.run():
                running.set()
                await asyncio.Event().wait()

        asyncio.run_coroutine_threadsafe(run_manager(), self.loop)
        running.wait(timeout=EXCHANGE_TIMEOUT_SECONDS)


_sdk = _SdkLoop()


def exchange(owner_id: str, scope: dict[str, Any], body: bytes) -> Answer:
    """One HTTP request to the MCP server, as `owner_id`: the SDK's answer. `scope` is
    the request's ASGI scope; `body` its whole body."""
    sdk = _sdk.ready()
    caller = RequestThread(owner_id, sdk.loop)
    answered = asyncio.run_coroutine_threadsafe(
        _exchange(sdk.manager, caller, scope, body), sdk.loop
    )
    return caller.serve_until(answered)


async def _exchange(
    manager: StreamableHTTPSessionManager, caller: RequestThread, scope: dict[str, Any], body: bytes
) -> Answer:
    scope = {**scope, CALLER: caller}
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    delivered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not delivered.is_set():
            delivered.set()
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays: the view answers it
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await manager.handle_request(scope, receive, send)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)
