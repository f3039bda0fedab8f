"""What todo_project/http_worker.py relies on in gunicorn beyond its settings (the list in
its docstring), each test named for the behaviour it carries, so that a gunicorn upgrade
that renames, removes or changes one fails here, saying what to fix, rather than
serving on without the bounds.

The worker runs in this process, on a thread, set up by gunicorn as its arbiter sets up
a forked worker (signals aside: they are the main thread's), serving a small ASGI app on
a loopback listener gunicorn makes, with the C parser as gunicorn.conf.py asks."""

import asyncio
import contextlib
import inspect
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest import mock

import gunicorn
import gunicorn_h1c  # type: ignore[import-untyped]
import orjson
import pytest
from gunicorn.asgi import protocol
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.sock import create_sockets
from gunicorn.workers.gasgi import ASGIWorker

from todo_project.http_worker import BoundedConnectionProtocol, BoundedConnectionWorker

WORKER_MODULE = "todo_project/http_worker.py"


def upgrade_broke(what: str, fix: str) -> str:
    """The message of a failed pin: what changed in gunicorn, and what to fix here."""
    return f"gunicorn {gunicorn.__version__}: {what}. Fix {WORKER_MODULE}: {fix}."


SLOW_SECONDS = 1.0  # how long the app takes to answer /slow


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """200 "ok"; /412 (any status) answers with it; /slow after SLOW_SECONDS."""
    assert scope["type"] == "http"
    path = scope["path"].strip("/")
    if path == "slow":
        await asyncio.sleep(SLOW_SECONDS)
    status = int(path) if path.isdigit() else 200
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Served:
    worker: BoundedConnectionWorker
    address: tuple[str, int]
    listener: socket.socket
    # Every connection's protocol, as gunicorn made it.
    protocols: list[ASGIProtocol] = field(default_factory=list)


def exchange(address: tuple[str, int], request: bytes, timeout: float = 5) -> bytes:
    """Send `request` on a new connection; all the server sends until it closes."""
    with socket.create_connection(address, timeout=timeout) as client:
        client.sendall(request)
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := client.recv(65536):
                answer += chunk
    return answer


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes `connection` (after any answer) within `seconds`."""
    connection.settimeout(seconds)
    try:
        while connection.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@contextlib.contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, **config: Any) -> Iterator[Served]:
    """A BoundedConnectionWorker serving `app`, with gunicorn settings `config`, once it
    has answered a first request; each connection's protocol is recorded after that."""
    cfg = Config()
    defaults = {
        "bind": ["127.0.0.1:0"],
        "http_parser": "fast",  # as gunicorn.conf.py
        "asgi_lifespan": "off",
        "graceful_timeout": 1,
    }
    for name, value in {**defaults, **config}.items():
        cfg.set(name, value)
    log = Logger(cfg)
    listeners = create_sockets(cfg, log)
    loader = SimpleNamespace(wsgi=lambda: app)  # what the worker loads its app from
    worker = BoundedConnectionWorker(0, os.getppid(), listeners, loader, 30, cfg, log)
    worker.init_signals = lambda: None  # signals are the main thread's
    served = Served(worker, listeners[0].sock.getsockname(), listeners[0].sock)

    made = ASGIProtocol.connection_made

    def recorded(self: ASGIProtocol, transport: Any) -> None:
        made(self, transport)
        served.protocols.append(self)

    monkeypatch.setattr(ASGIProtocol, "connection_made", recorded)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            worker.init_process()
        except BaseException as failure:
            failures.append(failure)

    thread = threading.Thread(target=work, name="gunicorn worker", daemon=True)
    thread.start()
    try:
        if not exchange(served.address, get("/")).startswith(b"HTTP/1.1 200 "):
            pytest.fail(
                upgrade_broke(
                    f"the worker did not start ({failures[0]!r})"
                    if failures
                    else "the worker answers nothing (see its log)",
                    "BoundedConnectionWorker.run expects the worker's event loop in `self.loop`"
                    " and ASGIProtocol._check_h1c_protocol_available and"
                    " gunicorn.asgi.protocol._REASON_PHRASES to be there",
                )
            )
        served.protocols.clear()
        yield served
    finally:
        worker.alive = False
        thread.join(timeout=10)
        worker.tmp.close()
        for end in worker.PIPE:
            os.close(end)
        for handler in list(log.error_log.handlers):
            log.error_log.removeHandler(handler)


def listen_backlog(listener: socket.socket) -> int:
    """A listening socket's backlog: Linux's tcp_info gives it as tcpi_sacked."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack("B" * 8 + "I" * 24, info)[13]


# The worker: ASGIWorker serves each listener through `self.loop.create_server`.


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_each_listener_is_served_by_the_bounded_protocol(
    monkeypatch: pytest.MonkeyPatch, loop: str
) -> None:
    with serving(monkeypatch, asgi_loop=loop) as served:
        answer = exchange(served.address, get("/"))

    assert answer.startswith(b"HTTP/1.1 200 ")
    assert {type(made) for made in served.protocols} == {BoundedConnectionProtocol}, upgrade_broke(
        "ASGIWorker no longer makes its connections' protocols through the factory it"
        " passes to `self.loop.create_server`",
        "BoundedConnectionWorker.run wraps that call to serve BoundedConnectionProtocol;"
        " find where gunicorn/workers/gasgi.py now makes ASGIProtocol and hand it"
        " BoundedConnectionProtocol there",
    )


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_listen_queue_is_gunicorns_backlog(monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    with serving(monkeypatch, asgi_loop=loop, backlog=1500) as served:
        backlog = listen_backlog(served.listener)

    assert backlog == 1500, upgrade_broke(
        f"the listener's queue is {backlog}, not the configured `backlog`: ASGIWorker no"
        " longer listens through `self.loop.create_server` (asyncio's own is 100)",
        "BoundedConnectionWorker.run passes `backlog` to that call; pass it where"
        " gunicorn/workers/gasgi.py now starts its servers, or drop it if gunicorn does",
    )


# The subclass: ASGIProtocol's hooks, its keep-alive timer, its C parser cache.


def test_the_c_parser_reads_the_heads_as_gunicorn_conf_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serving(monkeypatch) as served:
        answer = exchange(served.address, get("/"))

    assert answer.startswith(b"HTTP/1.1 200 ")
    (made,) = served.protocols
    assert isinstance(made._callback_parser, gunicorn_h1c.H1CProtocol), upgrade_broke(
        "a subclass of ASGIProtocol no longer parses with gunicorn_h1c under http_parser='fast'",
        "BoundedConnectionWorker.run fills ASGIProtocol's C parser cache"
        " (_check_h1c_protocol_available), which gunicorn reads on ASGIProtocol; see how"
        " gunicorn/asgi/protocol.py's _setup_callback_parser now picks the parser",
    )


def test_gunicorn_keeps_its_c_parser_cache_on_asgiprotocol() -> None:
    check = inspect.getattr_static(ASGIProtocol, "_check_h1c_protocol_available", None)
    cache = {"_h1c_available", "_h1c_has_limits", "_h1c_protocol_class"}

    assert isinstance(check, classmethod), upgrade_broke(
        "ASGIProtocol._check_h1c_protocol_available is gone",
        "BoundedConnectionWorker.run calls it to fill the C parser's cache; find how"
        " gunicorn/asgi/protocol.py now finds gunicorn_h1c",
    )
    assert cache <= set(vars(ASGIProtocol)), upgrade_broke(
        f"ASGIProtocol keeps no {sorted(cache - set(vars(ASGIProtocol)))}",
        "BoundedConnectionWorker.run fills that cache on ASGIProtocol; check whether a"
        " subclass still needs it filled",
    )


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"HELLO THERE\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
    ],
    ids=["malformed", "request line too long", "header too large"],
)
def test_gunicorns_own_refusals_go_out_as_problems(
    monkeypatch: pytest.MonkeyPatch, request_bytes: bytes, status: int
) -> None:
    with serving(monkeypatch, limit_request_line=8190, limit_request_field_size=16384) as served:
        answer = exchange(served.address, request_bytes)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: application/problem+json" in head, upgrade_broke(
        f"gunicorn's {status} refusal no longer goes through"
        " ASGIProtocol._send_error_response(status, message, extra_headers)",
        "BoundedConnectionProtocol overrides it to answer problem+json; override what"
        " gunicorn/asgi/protocol.py now refuses a request with",
    )
    assert orjson.loads(body)["status"] == status


def test_statuses_missing_from_gunicorns_table_go_out_with_their_phrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(getattr(protocol, "_REASON_PHRASES", None), dict), upgrade_broke(
        "gunicorn.asgi.protocol._REASON_PHRASES is gone",
        "BoundedConnectionWorker.run adds Python's phrases to it (412, 428 are missing);"
        " find where gunicorn now takes a status line's phrase from",
    )
    with serving(monkeypatch) as served:
        lines = [exchange(served.address, get(f"/{s}")).split(b"\r\n")[0] for s in (412, 428)]

    assert lines == [
        b"HTTP/1.1 412 Precondition Failed",
        b"HTTP/1.1 428 Precondition Required",
    ], upgrade_broke(
        f"status lines go out as {lines}: gunicorn no longer reads _REASON_PHRASES",
        "BoundedConnectionWorker.run fills that table; fill what gunicorn now reads",
    )


def test_a_first_head_that_comes_late_closes_the_connection(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.WEB_HEADER_TIMEOUT_SECONDS = 0.5
    with serving(monkeypatch) as served, socket.create_connection(served.address) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        early = closed_within(client, 0.2)
        late = closed_within(client, 3)

    assert not early
    assert late, upgrade_broke(
        "a connection whose first head is late stays open: the timer on"
        " ASGIProtocol._keepalive_handle, with _keepalive_timeout(), no longer closes it",
        "BoundedConnectionProtocol.connection_made sets that timer for the first head;"
        " see how gunicorn/asgi/protocol.py now times an idle connection",
    )


def test_a_head_in_time_is_not_cut_by_the_header_timeout(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.WEB_HEADER_TIMEOUT_SECONDS = 0.3  # under SLOW_SECONDS
    with serving(monkeypatch) as served:
        answer = exchange(served.address, get("/slow"))

    assert answer.startswith(b"HTTP/1.1 200 "), upgrade_broke(
        "a request whose head came in time was cut by the header timeout: gunicorn no"
        " longer cancels ASGIProtocol._keepalive_handle once a head is in",
        "BoundedConnectionProtocol.connection_made sets that timer for the first head;"
        " cancel it where gunicorn/asgi/protocol.py now learns a head is in",
    )


def test_a_connection_over_worker_connections_is_closed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serving(monkeypatch, worker_connections=2) as served:
        held = [socket.create_connection(served.address) for _ in range(2)]
        time.sleep(0.3)  # both accepted
        with socket.create_connection(served.address) as one_more:
            refused = closed_within(one_more, 1)
        for connection in held:
            connection.close()
        time.sleep(0.3)  # both gone
        after = exchange(served.address, get("/"))

    assert refused, upgrade_broke(
        "a connection over `worker_connections` stays open: ASGIProtocol._keepalive_timeout()"
        " no longer closes it, or _callback_parser is no longer set on HTTP/1 connections",
        "BoundedConnectionProtocol.connection_made closes it through that method",
    )
    assert after.startswith(b"HTTP/1.1 200 ")


def test_a_connection_gunicorn_closes_lingers_first(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """After gunicorn's answer and close, what the client still sends is read and dropped
    for WEB_LINGER_SECONDS, not answered with a reset; then the connection is closed."""
    settings.WEB_LINGER_SECONDS = 1.0

    def reset_after_sending(client: socket.socket) -> bool:
        try:
            client.sendall(b"more of a body")
            time.sleep(0.2)
            client.sendall(b"more of a body")  # refused once the first met a reset
        except (ConnectionResetError, BrokenPipeError):
            return True
        return False

    with (
        serving(monkeypatch) as served,
        socket.create_connection(served.address, timeout=5) as client,
    ):
        client.sendall(b"HELLO THERE\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        lingering = not reset_after_sending(client)
        time.sleep(1.2)  # past WEB_LINGER_SECONDS
        closed = reset_after_sending(client)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert lingering, upgrade_broke(
        "a refused connection is closed at once: gunicorn no longer closes it through"
        " ASGIProtocol._close_transport()",
        "BoundedConnectionProtocol overrides that method to close the lingering way;"
        " override what gunicorn/asgi/protocol.py now closes a connection with",
    )
    assert closed


# The names themselves: overrides, the state they read, our own next to gunicorn's.

# What BoundedConnectionProtocol overrides, and why (asyncio's protocol methods, and
# gunicorn's private hooks).
OVERRIDES = {
    "connection_made": "counts the connection, closes one too many, times the first head",
    "pause_writing": "starts the send timeout",
    "resume_writing": "stops the send timeout",
    "data_received": "drops what a lingering connection still sends",
    "connection_lost": "uncounts the connection",
    "_close_transport": "the lingering close",
    "_send_error_response": "problem+json refusals",
}
# What it calls of gunicorn's without overriding.
CALLED = {
    "__init__": "BoundedConnectionWorker.run's factory makes each connection's protocol",
    "_keepalive_timeout": "closes a connection one too many, or whose first head is late",
}


def parameters(function: Any) -> list[tuple[str, Any, bool]]:
    return [
        (name, parameter.kind, parameter.default is inspect.Parameter.empty)
        for name, parameter in inspect.signature(function).parameters.items()
    ]


def test_the_protocol_overrides_and_calls_only_methods_gunicorn_still_has() -> None:
    overridden = {
        name for name, value in vars(BoundedConnectionProtocol).items() if callable(value)
    }
    assert overridden == set(OVERRIDES), "OVERRIDES here lists what the subclass overrides"

    for name, why in {**OVERRIDES, **CALLED}.items():
        theirs = getattr(ASGIProtocol, name, None)
        assert callable(theirs), upgrade_broke(
            f"ASGIProtocol.{name} is gone",
            f"BoundedConnectionProtocol relies on it ({why}); find what replaced it in"
            " gunicorn/asgi/protocol.py",
        )
        ours = getattr(BoundedConnectionProtocol, name)
        assert parameters(ours) == parameters(theirs), upgrade_broke(
            f"ASGIProtocol.{name} is now {name}{inspect.signature(theirs)}",
            f"BoundedConnectionProtocol's use of it ({why}) has {inspect.signature(ours)}",
        )


@pytest.fixture
def idle_worker() -> Iterator[BoundedConnectionWorker]:
    """A worker as gunicorn's arbiter makes it, not yet running."""
    cfg = Config()
    worker = BoundedConnectionWorker(0, os.getppid(), [], None, 30, cfg, Logger(cfg))
    worker.asgi = app
    yield worker
    worker.tmp.close()


def test_gunicorns_connection_state_is_where_the_protocol_reads_it(
    idle_worker: BoundedConnectionWorker,
) -> None:
    connection = ASGIProtocol(idle_worker)
    state = {
        "worker": idle_worker,
        "cfg": idle_worker.cfg,
        "transport": None,
        "_callback_parser": None,  # set for HTTP/1 in connection_made
        "_keepalive_handle": None,  # the idle connection's timer
        "_closed": False,  # set when gunicorn closes the connection
    }
    found = {name: getattr(connection, name, "(none)") for name in state}
    assert found == state, upgrade_broke(
        f"a new ASGIProtocol's state is {found}",
        "BoundedConnectionProtocol reads and sets these (see its docstring's list)",
    )

    connection.transport = mock.Mock()
    ASGIProtocol._close_transport(connection)
    assert connection._closed, upgrade_broke(
        "ASGIProtocol._close_transport() no longer sets _closed",
        "BoundedConnectionProtocol._close_transport sets it as gunicorn's did; set what"
        " gunicorn/asgi/protocol.py's connection loop now stops on",
    )


def test_our_own_state_does_not_shadow_gunicorns(idle_worker: BoundedConnectionWorker) -> None:
    gunicorns_connection = set(vars(ASGIProtocol(idle_worker))) | set(dir(ASGIProtocol))
    ours = set(BoundedConnectionProtocol.__annotations__) - {"_closed"}  # _closed: gunicorn's
    assert not ours & gunicorns_connection, upgrade_broke(
        f"ASGIProtocol now has {sorted(ours & gunicorns_connection)} too",
        "rename BoundedConnectionProtocol's own",
    )

    plain_worker = ASGIWorker(0, 0, [], None, 30, Config(), idle_worker.log)
    plain_worker.tmp.close()
    gunicorns_worker = set(vars(plain_worker)) | set(dir(ASGIWorker))
    ours = set(BoundedConnectionWorker.__annotations__)
    assert not ours & gunicorns_worker, upgrade_broke(
        f"ASGIWorker now has {sorted(ours & gunicorns_worker)} too",
        "rename BoundedConnectionWorker's own",
    )


def test_sigterm_reaches_the_method_the_worker_overrides_to_end_live_streams() -> None:
    """The worker ends its live streams on SIGTERM by overriding the method gunicorn
    registers for it; were SIGTERM handled elsewhere, a deploy would wait
    graceful_timeout for streams that never end by themselves."""
    registers = inspect.getsource(ASGIWorker.init_signals)
    assert "signal.SIGTERM, self.handle_exit_signal" in registers, upgrade_broke(
        "ASGIWorker.init_signals no longer hands SIGTERM to handle_exit_signal",
        "BoundedConnectionWorker.handle_exit_signal must override what SIGTERM now calls",
    )
    assert parameters(BoundedConnectionWorker.handle_exit_signal) == parameters(
        ASGIWorker.handle_exit_signal
    ), upgrade_broke(
        f"ASGIWorker.handle_exit_signal is now {inspect.signature(ASGIWorker.handle_exit_signal)}",
        "BoundedConnectionWorker.handle_exit_signal must take what it takes",
    )
