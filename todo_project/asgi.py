"""The web process's application: `gunicorn todo_project.asgi` (the Procfile's web).

gunicorn's asyncio worker (todo_project/http_worker.py) reads each request head; this
reads the body whole, on the event loop, and only then hands the request to Django's
WSGI handler on a pool of `GUNICORN_THREADS` threads. A client that sends slowly, or
not at all, holds a connection, never a thread, so no handful of slow clients can stop
the service and no proxy has to stand in front of it. Django stays synchronous: one
thread per request in flight, each with its own persistent database connection, as
under a threaded WSGI server. (Django's own ASGI handler starts a thread, and so a
database connection, per request.)

A live stream (`GET /api/{user_id}/events`) is opened by Django on a thread like any
request, then served on the event loop (live.serving), where it holds no thread and no
database connection while it waits.

A body declared longer than `MAX_BODY_BYTES` is not read: Django answers it with 413
by its Content-Length (BodySizeLimitMiddleware), and a chunked one with 411. A client
whose body has not all arrived within `WEB_BODY_TIMEOUT_SECONDS` gets 408.
"""

import asyncio
import io
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import orjson
from django.conf import settings

# Django is set up by the WSGI module before anything else of the project is imported.
from todo_project.wsgi import application as django_application

# isort: split
from live.serving import serve_stream
from live.streams import EventStreamResponse, Stream
from todo_project.problems import problem

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Status, headers, and the body whole, (a streaming response) its open iterable, or a
# live stream to serve on the event loop.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes | Iterable[bytes] | Stream]

# Answers that never carry a body (RFC 9110 6.4.1); Django's handler leaves that to
# the server.
BODILESS_STATUSES = frozenset({204, 304})
BODY_TIMEOUT = 408, "The request body stopped arriving."
NO_HOST = 400, "An HTTP/1.1 request needs a Host header."


class WsgiOnThreads:
    """An ASGI application that runs a WSGI application on a thread pool, each request
    once its body is in."""

    def __init__(self, wsgi: WsgiApplication, threads: int) -> None:
        self.wsgi = wsgi
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # a WebSocket upgrade: nothing here speaks it
            await send({"type": "websocket.close", "code": 1003})
            return
        environ = wsgi_environ(scope)
        try:
            if "HTTP_HOST" not in environ and scope.get("http_version") == "1.1":
                # RFC 9112 3.2: a server MUST answer such a request with 400.
                status, headers, content = problem_answer(*NO_HOST)
            else:
                body = await read_body(environ.get("CONTENT_LENGTH"), receive)
                if body is None:  # the client went away
                    return
                environ["wsgi.input"] = io.BytesIO(body)
                loop = asyncio.get_running_loop()
                status, headers, content = await loop.run_in_executor(self.pool, self.call, environ)
        except TimeoutError:
            status, headers, content = problem_answer(*BODY_TIMEOUT)
        bodiless = scope["method"] == "HEAD" or status in BODILESS_STATUSES
        if isinstance(content, Stream):
            await serve_stream(content, headers, send, receive, self.on_thread, bodiless=bodiless)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if isinstance(content, bytes):
            await send_in_slices(send, b"" if bodiless else content)
        else:
            await self._stream(send, content, bodiless=bodiless)

    async def on_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` on one of the request threads."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    def call(self, environ: dict[str, Any]) -> Answer:
        """Run the WSGI application on this thread, and return its answer: the body
        whole; for a streaming response (a file), its open iterable; for a live
        stream, the stream (the request is over: its thread and connection go back)."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> None:
            started[:] = [status, headers]

        result = self.wsgi(environ, start_response)
        content: bytes | Iterable[bytes] | Stream
        if isinstance(result, EventStreamResponse):
            content = result.stream
            _close(result)
        elif getattr(result, "streaming", False):
            content = result  # read and closed by `_stream`, a chunk at a time
        else:
            try:
                content = b"".join(result)
            finally:
                _close(result)
        status, headers = started
        # Names as Django spells them: some clients read headers case-sensitively.
        encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return int(status[:3]), encoded, content

    async def _stream(self, send: Send, result: Iterable[bytes], *, bodiless: bool) -> None:
        """Send a streaming response's chunks as the client takes them, each read on a
        thread (for no longer than reading it takes), never all of it at once."""
        loop = asyncio.get_running_loop()
        chunks = iter(result)
        try:
            while not bodiless:
                chunk = await loop.run_in_executor(self.pool, next, chunks, b"")
                if not chunk:
                    break
                await send_in_slices(send, chunk, more=True)
            await send({"type": "http.response.body", "body": b""})
        finally:
            await loop.run_in_executor(self.pool, _close, result)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


async def read_body(declared: str | None, receive: Receive) -> bytes | None:
    """The request's whole body, of `declared` (Content-Length) bytes; b"" when it is
    not to be read (no Content-Length, or one over MAX_BODY_BYTES: Django refuses those
    by their headers); None when the client disconnects. Raises TimeoutError when it
    stalls."""
    if declared is None or not declared.isdigit() or int(declared) > settings.MAX_BODY_BYTES:
        return b""
    chunks = []
    more = True
    # One deadline for the whole body: a byte every few seconds must not keep a
    # connection for days.
    async with asyncio.timeout(settings.WEB_BODY_TIMEOUT_SECONDS):
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
    return b"".join(chunks)


def wsgi_environ(scope: Scope) -> dict[str, Any]:
    """PEP 3333's environ for the HTTP request in `scope`, as a WSGI server builds it,
    but for `wsgi.input`, which comes once the body is in."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode()
    if not raw_path.startswith(b"/"):  # the absolute form, `GET http://host/path`
        raw_path = urlsplit(raw_path).path or b"/"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        # The path's bytes, percent-decoded, one character per byte (PEP 3333).
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper()
        value = raw_value.decode("latin-1")
        if name == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
        elif name == "CONTENT-LENGTH":
            environ["CONTENT_LENGTH"] = value
        elif "_" not in name:  # else X_Real_IP would pass for X-Real-IP
            key = "HTTP_" + name.replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


# What one send hands the server: the server waits for the client to take it (or closes
# the connection, todo_project/http_worker.py), so a large answer is never all in the
# server's buffer.
SLICE_BYTES = 64 * 1024


async def send_in_slices(send: Send, body: bytes, *, more: bool = False) -> None:
    """Send `body` in slices of SLICE_BYTES; the last says the answer ends, unless
    `more` comes."""
    for start in range(0, len(body), SLICE_BYTES):
        last = start + SLICE_BYTES >= len(body)
        chunk = body[start : start + SLICE_BYTES]
        await send({"type": "http.response.body", "body": chunk, "more_body": more or not last})
    if not body and not more:
        await send({"type": "http.response.body", "body": b""})


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()  # Django's request_finished: connections go back, and so on


def problem_answer(status: int, detail: str) -> Answer:
    """A problem+json answer given without Django; the connection closes after it."""
    body = orjson.dumps(problem(status, detail))
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return status, headers, body


application = WsgiOnThreads(
    django_application, threads=int(os.environ.get("GUNICORN_THREADS", "4"))
)
