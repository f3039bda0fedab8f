"""gunicorn's asyncio worker (`worker_class` in gunicorn.conf.py), with bounds on what
clients may leave open, a lingering close, problem+json refusals, and every standard
reason phrase.

gunicorn closes a kept-alive connection whose next request head does not arrive within
`keepalive` seconds, but waits for a new connection's first one without end, accepts
connections without limit, and waits for a client to read without end. Here:
- a new connection's first request head must arrive within WEB_HEADER_TIMEOUT_SECONDS;
- a client must take its waiting answers within WEB_SEND_TIMEOUT_SECONDS (the server
  holds at most the transport's high-water mark of them: todo_project/asgi.py hands
  them over in slices);
- a connection over `worker_connections`, or over WEB_MAX_CONNECTIONS_PER_ADDRESS from
  one address (but a trusted proxy's, FORWARDED_ALLOW_IPS), is closed at once;
so that idle, half-sent and never-reading connections can neither pile up nor run the
process out of file descriptors, nor one address shut out the others.

What of gunicorn this relies on beyond its settings and the asyncio protocol and
transport APIs, each pinned by todo_project/tests/test_gunicorn_internals.py (an upgrade
that changes one fails there, saying what to fix):
- the worker (`ASGIWorker`, its event loop `loop`) serves each listener through
  `loop.create_server`: wrapping that call on its own loop, the worker serves with
  BoundedConnectionProtocol and listens with gunicorn's `backlog` (asyncio's is 100);
- `ASGIProtocol(worker)` (its `worker`, `cfg` and `transport`), subclassed for what
  only it decides: how gunicorn closes a connection (`_close_transport`, and `_closed`,
  which it sets and gunicorn's loops stop on) and refuses a request
  (`_send_error_response`); its keep-alive timer, which also times the first head
  (`_keepalive_handle`, cancelled once a head is in; `_keepalive_timeout`, which closes
  an idle connection); and `_callback_parser`, set on HTTP/1 connections only;
- `ASGIProtocol._check_h1c_protocol_available()`: gunicorn reads its C parser's cache on
  ASGIProtocol, but fills it on the class it is called on, which would be the subclass;
- `protocol._REASON_PHRASES`: gunicorn's table of reason phrases, which lacks some the
  API answers with (412, 428): they would go out as "412 Unknown";
- `ASGIWorker.handle_exit_signal`, what gunicorn calls on SIGTERM: overridden to end the
  worker's live streams (live.hub), which would otherwise hold a graceful stop back.
"""

import contextlib
from asyncio import BaseTransport, TimerHandle, get_running_loop
from collections import Counter
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import orjson
from django.conf import settings
from gunicorn.asgi import protocol
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers.gasgi import ASGIWorker

from accounts.ratelimit import from_trusted_proxy


class BoundedConnectionProtocol(ASGIProtocol):
    """One client connection, closed when it is one too many (for the worker, or for
    its address) or its first request head is late."""

    _counted: bool = False  # counted in the worker's open connections
    _address: str | None = None  # the peer's, while it counts against its cap
    _lingering: TimerHandle | None = None  # the close at the end of a lingering close
    _stalled: TimerHandle | None = None  # the abort of a client that reads nothing
    _closed: bool  # gunicorn's: the connection is closing or closed

    def connection_made(self, transport: BaseTransport) -> None:
        worker = self.worker
        worker.open_connections += 1
        self._counted = True
        super().connection_made(transport)
        if self._callback_parser is None:  # not HTTP/1 (HTTP/2, uWSGI: both off here)
            return
        address = str((transport.get_extra_info("peername") or ("",))[0])
        by_address = worker.connections_by_address
        if not from_trusted_proxy(address):  # a proxy speaks for many clients
            self._address = address
            by_address[address] += 1
        if worker.open_connections > self.cfg.worker_connections or (
            self._address is not None
            and by_address[address] > settings.WEB_MAX_CONNECTIONS_PER_ADDRESS
        ):
            self._keepalive_timeout()  # closes the connection
        else:
            # gunicorn cancels this timer once the head is in, as it does its own.
            self._keepalive_handle = get_running_loop().call_later(
                settings.WEB_HEADER_TIMEOUT_SECONDS, self._keepalive_timeout
            )

    def pause_writing(self) -> None:
        """The answers waiting for this client are over the transport's high-water mark:
        it has WEB_SEND_TIMEOUT_SECONDS to take some, else the connection is aborted."""
        super().pause_writing()
        if self._stalled is None and self.transport is not None:
            self._stalled = get_running_loop().call_later(
                settings.WEB_SEND_TIMEOUT_SECONDS, self.transport.abort
            )

    def resume_writing(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None
        super().resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._lingering is None:
            super().data_received(data)
        # else: what a client still sends after the answer is read and dropped

    def _close_transport(self) -> None:
        """Close the connection the lingering way (nginx's `lingering_close`): send the
        end of the answer, then read and drop what the client still sends, for at most
        WEB_LINGER_SECONDS, before closing. Closed at once, a socket with request bytes
        unread (a body refused with 413, 411 or 408) makes the kernel send a reset,
        which can destroy the answer before the client reads it."""
        transport = self.transport
        if transport is None or self._closed:
            return
        self._closed = True
        try:
            if not transport.can_write_eof():
                transport.close()
                return
            transport.write_eof()
            # gunicorn may have stopped reading a body nobody takes: drain it.
            transport.resume_reading()
        except (OSError, RuntimeError):
            transport.close()
            return
        self._lingering = get_running_loop().call_later(
            settings.WEB_LINGER_SECONDS, transport.close
        )

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._lingering, self._stalled):
            if timer is not None:
                timer.cancel()
        if self._counted:
            self._counted = False
            self.worker.open_connections -= 1
        if self._address is not None:
            by_address = self.worker.connections_by_address
            by_address[self._address] -= 1
            if not by_address[self._address]:
                del by_address[self._address]
            self._address = None
        super().connection_lost(exc)

    def _send_error_response(
        self, status: int, message: str, extra_headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        """gunicorn's own refusals (a malformed request, a head over its limits) as
        problem+json, as the service answers every error. gunicorn's message, which can
        quote the request, is left out."""
        # Here, not at the top: gunicorn's master loads this module before Django is set up.
        from todo_project.problems import PROBLEM_CONTENT_TYPE, problem

        body = orjson.dumps(problem(status, SERVER_REFUSALS.get(status, SERVER_REFUSAL)))
        head = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Content-Type: {PROBLEM_CONTENT_TYPE}",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in extra_headers),
            "Connection: close",
        ]
        if self.transport is not None:
            with contextlib.suppress(OSError, RuntimeError):  # the client is gone
                self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


# What gunicorn's refusals say, by status.
SERVER_REFUSAL = "The request could not be read as HTTP/1.1."
SERVER_REFUSALS = {
    414: "The request line is over 8,190 bytes.",
    431: "A header is over 16 KiB, or there are over 100 of them.",
    501: "The request's transfer coding is not supported; send a Content-Length.",
}


class BoundedConnectionWorker(ASGIWorker):
    """gunicorn's ASGI worker, serving each connection with BoundedConnectionProtocol."""

    # Open connections (gunicorn counts them too, in a name of its own).
    open_connections: int
    # Open connections by client address (a trusted proxy's are not counted).
    connections_by_address: Counter[str]

    def run(self) -> None:
        self.open_connections = 0
        self.connections_by_address = Counter()
        # gunicorn looks for gunicorn_h1c once, caching what it finds on the class it
        # is called on, but reads the cache on ASGIProtocol: fill that one.
        ASGIProtocol._check_h1c_protocol_available()
        # gunicorn's table of reason phrases lacks some the API answers with (412, 428),
        # which would go out as "412 Unknown".
        for status in HTTPStatus:
            protocol._REASON_PHRASES.setdefault(status.value, status.phrase)
        create_server = self.loop.create_server

        async def create_bounded_server(
            gunicorns_protocol: Callable[[], Any], *args: Any, **kwargs: Any
        ) -> Any:
            """A server for one of gunicorn's listeners, serving BoundedConnectionProtocol
            in place of gunicorn's protocol, and listening with gunicorn's `backlog`:
            asyncio listens again with its own (100) unless given one."""
            kwargs.setdefault("backlog", self.cfg.backlog)
            return await create_server(lambda: BoundedConnectionProtocol(self), *args, **kwargs)

        # This worker's own loop, on which only gunicorn creates servers.
        self.loop.create_server = create_bounded_server
        super().run()

    def handle_exit_signal(self) -> None:
        """SIGTERM (a deploy, a scale-down): gunicorn stops accepting and waits up to
        `graceful_timeout` for the open connections to end. Live streams never end by
        themselves, so they end now: their clients reconnect, with their last id, to a
        worker still up."""
        super().handle_exit_signal()
        # Here, not at the top: gunicorn's master loads this module before Django is set up.
        from live.hub import end_streams

        end_streams()
