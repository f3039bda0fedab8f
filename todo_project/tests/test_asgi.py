"""todo_project/asgi.py: the ASGI application that serves Django's WSGI handler on
threads, once each request's body is in."""

import asyncio
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.test import override_settings

from todo_project.asgi import WsgiOnThreads, application

Message = dict[str, Any]


def http_scope(
    method: str = "GET",
    raw_path: bytes = b"/",
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    host: bytes | None = b"127.0.0.1:8000",
) -> dict[str, Any]:
    """An HTTP/1.1 request's scope, with `host` as its Host header unless `headers`
    has one (None: none at all)."""
    headers = list(headers)
    if host is not None and not any(name == b"host" for name, _ in headers):
        headers.insert(0, (b"host", host))
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("198.51.100.7", 51000),
        "server": ("127.0.0.1", 8000),
    }


def run(app: Any, scope: dict[str, Any], *incoming: Message) -> list[Message]:
    """Call `app` with `scope`; `incoming` are what receive() hands out, after which it
    waits for ever. Returns what the app sent."""
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


class Echo:
    """A WSGI application that answers with what it was given."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.environ: dict[str, Any] = {}
        self.closed = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> "Echo":
        self.environ = environ
        self.body = environ["wsgi.input"].read()
        start_response(self.status, [("Content-Type", "text/plain"), ("X-Seen", "yes")])
        return self

    def __iter__(self) -> Any:
        return iter([b"got ", self.body])

    def close(self) -> None:
        self.closed = True


def test_the_environ_is_what_a_wsgi_server_builds() -> None:
    echo = Echo()
    scope = http_scope(
        "DELETE",
        b"/api/me/tasks/%E2%82%AC%2Fx",
        b"a=1&b=%20",
        [
            (b"host", b"example.org"),
            (b"content-type", b"application/json"),
            (b"accept", b"text/html"),
            (b"accept", b"application/json"),
            (b"x-real-ip", b"203.0.113.1"),
            (b"x_real_ip", b"203.0.113.2"),
        ],
    )

    run(WsgiOnThreads(echo, threads=1), scope)

    environ = echo.environ
    # The bytes of the percent-decoded path, one character each, as PEP 3333 says.
    assert environ["PATH_INFO"] == "/api/me/tasks/\xe2\x82\xac/x"
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["REQUEST_METHOD"] == "DELETE"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert "CONTENT_LENGTH" not in environ
    assert environ["HTTP_HOST"] == "example.org"
    assert environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_X_REAL_IP"] == "203.0.113.1"  # the underscored one is dropped
    assert (environ["REMOTE_ADDR"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == (
        "198.51.100.7",
        "127.0.0.1",
        "8000",
    )
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"


def test_a_target_in_absolute_form_gives_its_path() -> None:
    echo = Echo()

    run(WsgiOnThreads(echo, threads=1), http_scope(raw_path=b"http://example.org/api/x%20y"))

    assert echo.environ["PATH_INFO"] == "/api/x y"


def test_the_body_is_read_whole_before_the_application_runs() -> None:
    echo = Echo()
    scope = http_scope("POST", headers=[(b"content-length", b"5")])

    sent = run(
        WsgiOnThreads(echo, threads=1),
        scope,
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cde", "more_body": False},
    )

    assert sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"Content-Type", b"text/plain"), (b"X-Seen", b"yes")],
    }
    assert sent[1] == {"type": "http.response.body", "body": b"got abcde", "more_body": False}
    assert echo.closed  # Django's request_finished runs on close()


def test_a_large_body_goes_out_in_slices_the_server_waits_on() -> None:
    body = bytes(range(256)) * 1000  # 256,000 bytes: 4 slices

    sent = run(
        WsgiOnThreads(lambda environ, start: (start("200 OK", []), [body])[1], 1), http_scope()
    )

    slices = sent[1:]
    assert [len(message["body"]) for message in slices] == [65536, 65536, 65536, 59392]
    assert [message["more_body"] for message in slices] == [True, True, True, False]
    assert b"".join(message["body"] for message in slices) == body


class Streaming:
    """A streaming WSGI response (as Django's FileResponse is): read chunk by chunk."""

    streaming = True

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


def test_a_streaming_body_is_read_and_sent_a_chunk_at_a_time_then_closed() -> None:
    response = Streaming([b"one", b"two", b"three"])

    def app(environ: dict[str, Any], start_response: Any) -> Streaming:
        start_response("200 OK", [("Content-Length", "11")])
        return response

    sent = run(WsgiOnThreads(app, threads=1), http_scope())

    assert [message.get("body") for message in sent[1:]] == [b"one", b"two", b"three", b""]
    assert [message.get("more_body", False) for message in sent[1:]] == [True, True, True, False]
    assert response.closed


def test_a_streaming_body_of_a_head_request_is_closed_unread() -> None:
    response = Streaming([b"one"])

    sent = run(
        WsgiOnThreads(lambda environ, start: (start("200 OK", []), response)[1], threads=1),
        http_scope("HEAD"),
    )

    assert sent[1] == {"type": "http.response.body", "body": b""}
    assert (response.read, response.closed) == (0, True)


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"65537")],  # over MAX_BODY_BYTES: Django answers 413
        [(b"transfer-encoding", b"chunked")],  # no length: Django answers 411
    ],
)
def test_a_body_django_refuses_by_its_headers_is_not_read(headers: list[Any]) -> None:
    echo = Echo()

    # receive() would wait for ever: the body must not be asked for.
    sent = run(WsgiOnThreads(echo, threads=1), http_scope("POST", headers=headers))

    assert echo.body == b""
    assert sent[1]["body"] == b"got "


@override_settings(WEB_BODY_TIMEOUT_SECONDS=0.2)
def test_a_body_not_in_within_the_timeout_is_408_without_the_application() -> None:
    echo = Echo()
    scope = http_scope("POST", headers=[(b"content-length", b"10")])
    trickle = iter([b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j"])

    async def receive() -> Message:
        await asyncio.sleep(0.05)  # each byte in time, the whole body not
        return {"type": "http.request", "body": next(trickle), "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(WsgiOnThreads(echo, threads=1)(scope, receive, send))

    assert echo.environ == {}
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["detail"] == "The request body stopped arriving."


def test_an_http_1_1_request_without_host_is_400_without_the_application() -> None:
    echo = Echo()

    sent = run(WsgiOnThreads(echo, threads=1), http_scope(host=None))

    assert echo.environ == {}
    assert sent[0]["status"] == 400
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["detail"] == "An HTTP/1.1 request needs a Host header."


def test_an_http_1_0_request_may_leave_host_out() -> None:
    echo = Echo()

    sent = run(WsgiOnThreads(echo, threads=1), {**http_scope(host=None), "http_version": "1.0"})

    assert sent[0]["status"] == 200


def test_a_client_gone_before_its_body_came_gets_nothing() -> None:
    echo = Echo()
    scope = http_scope("POST", headers=[(b"content-length", b"10")])

    sent = run(WsgiOnThreads(echo, threads=1), scope, {"type": "http.disconnect"})

    assert sent == []
    assert echo.environ == {}


@pytest.mark.parametrize(("method", "status"), [("HEAD", "200 OK"), ("GET", "304 Not Modified")])
def test_answers_without_a_body_send_none(method: str, status: str) -> None:
    sent = run(WsgiOnThreads(Echo(status), threads=1), http_scope(method))

    assert sent[1]["body"] == b""


def test_lifespan_and_websockets() -> None:
    app = WsgiOnThreads(Echo(), threads=1)

    lifespan = run(
        app,
        {"type": "lifespan"},
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
    )
    websocket = run(WsgiOnThreads(Echo(), threads=1), {"type": "websocket"})

    assert [m["type"] for m in lifespan] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert websocket == [{"type": "websocket.close", "code": 1003}]


def test_the_service_answers_through_it() -> None:
    sent = run(application, http_scope("GET", b"/healthz", headers=[(b"host", b"localhost")]))

    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"status": "ok"}
