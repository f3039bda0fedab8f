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
"""

from asyncio import BaseTransport, TimerHandle
from collections import Counter
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import orjson
from django.conf import settings
from gunicorn.asgi import protocol
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi

from accounts.ratelimit import from_trusted_proxy


class BoundedConnectionProtocol(ASGIProtocol):
    """One client connection, closed when it is one too many (for the worker, or for
    its address) or its first request head is late."""

    _address: str | None = None  # the peer's, while it counts against its cap
    _lingering: TimerHandle | None = None  # the close at the end of a lingering close
    _stalled: TimerHandle | None = None  # the abort of a client that reads nothing
    _closed: bool  # gunicorn's: the connection is closing or closed

    def connection_made(self, transport: BaseTransport) -> None:
        super().connection_made(transport)
        if self._callback_parser is None:  # not HTTP/1 (HTTP/2, uWSGI: both off here)
            return
        address = str((transport.get_extra_info("peername") or ("",))[0])
        by_address = self.worker.connections_by_address
        if not from_trusted_proxy(address):  # a proxy speaks for many clients
            self._address = address
            by_address[address] += 1
        if self.worker.nr_conns > self.worker.worker_connections or (
            self._address is not None
            and by_address[address] > settings.WEB_MAX_CONNECTIONS_PER_ADDRESS
        ):
            self._keepalive_timeout()  # closes the connection
        else:
            # gunicorn cancels this timer once the head is in, as it does its own.
            self._keepalive_handle = self.worker.loop.call_later(
                settings.WEB_HEADER_TIMEOUT_SECONDS, self._keepalive_timeout
            )

    def pause_writing(self) -> None:
        """The answers waiting for this client are over the transport's high-water mark:
        it has WEB_SEND_TIMEOUT_SECONDS to take some, else the connection is aborted."""
        super().pause_writing()
        if self._stalled is None and self.transport is not None:
            self._stalled = self.worker.loop.call_later(
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
        self._lingering = self.worker.loop.call_later(settings.WEB_LINGER_SECONDS, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._lingering, self._stalled):
            if timer is not None:
                timer.cancel()
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
        self._safe_write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


# What gunicorn's refusals say, by status.
SERVER_REFUSAL = "The request could not be read as HTTP/1.1."
SERVER_REFUSALS = {
    414: "The request line is over 8,190 bytes.",
    431: "A header is over 16 KiB, or there are over 100 of them.",
    501: "The request's transfer coding is not supported; send a Content-Length.",
}


class BoundedConnectionWorker(gasgi.ASGIWorker):
    """gunicorn's ASGI worker, serving each connection with BoundedConnectionProtocol."""

    # Open connections by client address (a trusted proxy's are not counted).
    connections_by_address: Counter[str]

    def run(self, *args: Any, **kwargs: Any) -> None:
        self.connections_by_address = Counter()
        # gunicorn looks for gunicorn_h1c once, caching what it finds on the class it
        # is called on, but reads the cache on ASGIProtocol: fill that one.
        ASGIProtocol._check_h1c_protocol_available()
        # The worker builds its protocol by this module-level name; this is the worker
        # process, which serves nothing else.
        gasgi.ASGIProtocol = BoundedConnectionProtocol
        # gunicorn's table of reason phrases lacks some the API answers with (412, 428),
        # which would go out as "412 Unknown".
        for status in HTTPStatus:
            protocol._REASON_PHRASES.setdefault(status.value, status.phrase)
        self.loop.call_soon(self._restore_backlog)
        super().run(*args, **kwargs)

    def _restore_backlog(self) -> None:
        """Give the listening sockets gunicorn's `backlog` once the servers are up:
        asyncio's create_server, which the worker calls without one, listens again with
        its own (100), so a burst of connections found the queue full."""
        if not self.alive:
            return
        if not self.servers:
            self.loop.call_later(0.05, self._restore_backlog)
            return
        for listener in self.sockets:
            listener.sock.listen(self.cfg.backlog)
