"""The MCP server: agents.tools over the official SDK's Streamable HTTP transport,
stateless (any web process answers any request; no session id is needed), with JSON
answers.

The SDK is asyncio; Django's views and database connections are not. So the view
(agents.views.McpView) authenticates, rate-limits and size-limits the request as every
REST view does, then `exchange` hands it to the SDK on an event loop of the request
thread's own. The loop runs only while the SDK works: when a tool is called the loop
pauses, the tool runs on the thread as plain synchronous code (Django refuses the ORM
while a loop runs), and the loop goes on with its result. So a call uses the thread's
own database connection, as any request does, and nothing crosses threads.
"""

import asyncio
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

import mcp_types as types
import orjson
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from agents.tools import TOOLS, ToolRefused, call_tool_json

Headers = list[tuple[bytes, bytes]]
# What the HTTP exchange answers: status, headers, body.
Answer = tuple[int, Headers, bytes]


class ThreadLoop:
    """A request thread's event loop for the SDK, with the SDK's session manager
    running in it, and the synchronous calls its handlers are waiting for."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.manager = StreamableHTTPSessionManager(
            app=SERVER,
            json_response=True,
            stateless=True,
            # Django checks the Host (ALLOWED_HOSTS) before this; the token is a header
            # no browser adds by itself, so no other site's page can call as a user.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        running = self.loop.create_future()

        async def run_manager() -> None:
            async with self.manager.run():
                running.set_result(None)
                await asyncio.Event().wait()  # for the thread's life

        self.managing = self.loop.create_task(run_manager())
        # Whichever comes first: the manager running, or its failure (raised here).
        self.loop.run_until_complete(
            asyncio.wait([running, self.managing], return_when=asyncio.FIRST_COMPLETED)
        )
        if self.managing.done():
            self.managing.result()

    @property
    def healthy(self) -> bool:
        return not self.managing.done() and not self.loop.is_closed()

    def close(self) -> None:
        """Cancel what the loop still holds, and close it."""
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        try:
            if pending:
                ended = asyncio.gather(*pending, return_exceptions=True)
                ended.add_done_callback(lambda _: self.loop.stop())
                while not ended.done():  # a stop left over from `drive` may end a run early
                    self.loop.run_forever()
        finally:
            self.loop.close()

    async def run(self, call: Callable[[], Any]) -> Any:
        """In the loop: `call()`'s result (or error), the loop paused while it runs."""
        settled = self.loop.create_future()
        self.waiting.append((call, settled))
        self.loop.stop()  # after this round of callbacks: `drive` runs the call
        return await settled

    def drive(self, work: Any) -> Any:
        """Run the coroutine `work` to its end: the loop while it can go on, each call
        it waits for on this thread with the loop stopped."""
        task = self.loop.create_task(work)
        task.add_done_callback(lambda _: self.loop.stop())
        while True:
            self.loop.run_forever()
            while self.waiting:
                call, settled = self.waiting.pop(0)
                if settled.done():  # its handler was cancelled: the call is not made
                    continue
                try:
                    settled.set_result(call())
                except Exception as error:  # for the awaiting handler to decide on
                    settled.set_exception(error)
            if task.done():
                return task.result()


_threads = threading.local()


def _thread_loop() -> ThreadLoop:
    """This thread's ThreadLoop, made at its first exchange (again, should the one it
    had have failed)."""
    thread_loop: ThreadLoop | None = getattr(_threads, "loop", None)
    if thread_loop is None or not thread_loop.healthy:
        thread_loop = _threads.loop = ThreadLoop()
    return thread_loop


# Where a handler finds its exchange's caller (their id, and the ThreadLoop to run the
# tool on): the ASGI scope, which the SDK hands each handler (`ctx.request`).
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
    owner_id, thread_loop = ctx.request.scope[CALLER]
    arguments = params.arguments or {}
    try:
        text = await thread_loop.run(lambda: call_tool_json(owner_id, params.name, arguments))
    except ToolRefused as refusal:
        return types.CallToolResult(content=[types.TextContent(text=str(refusal))], is_error=True)
    return types.CallToolResult(
        content=[types.TextContent(text=text.decode())], structured_content=orjson.loads(text)
    )


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
# The SDK's one default middleware makes an OpenTelemetry span of each message, work
# on every call; the service exports no spans (its request log and /metrics cover
# /mcp). The SDK documents dropping it as the way to opt out.
SERVER.middleware.clear()


def exchange(owner_id: str, scope: dict[str, Any], body: bytes) -> Answer:
    """One HTTP request to the MCP server, as `owner_id`: the SDK's answer. `scope` is
    the request's ASGI scope; `body` its whole body."""
    thread_loop = _thread_loop()
    scope = {**scope, CALLER: (owner_id, thread_loop)}
    try:
        answer: Answer = thread_loop.drive(_exchange(thread_loop.manager, scope, body))
    except BaseException:
        # The thread's next exchange starts anew, whatever this one left pending.
        _threads.loop = None
        thread_loop.close()
        raise
    return answer


async def _exchange(
    manager: StreamableHTTPSessionManager, scope: dict[str, Any], body: bytes
) -> Answer:
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
