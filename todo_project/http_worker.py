"""gunicorn's asyncio worker (`worker_class` in gunicorn.conf.py), with two bounds on
what clients may leave open, and every standard reason phrase.

gunicorn closes a kept-alive connection whose next request head does not arrive within
`keepalive` seconds, but waits for a new connection's first one without end, and it
accepts connections without limit. Here a new connection's first request head must
arrive within `WEB_HEADER_TIMEOUT_SECONDS`, and a connection over `worker_connections`
is closed at once, so that idle and half-sent connections can neither pile up nor run
the process out of file descriptors.
"""

from asyncio import BaseTransport
from http import HTTPStatus
from typing import Any

from django.conf import settings
from gunicorn.asgi import protocol
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi


class BoundedConnectionProtocol(ASGIProtocol):
    """One client connection, closed when it is one too many or its first request
    head is late."""

    def connection_made(self, transport: BaseTransport) -> None:
        super().connection_made(transport)
        if self._callback_parser is None:  # not HTTP/1 (HTTP/2, uWSGI: both off here)
            return
        if self.worker.nr_conns > self.worker.worker_connections:
            self._keepalive_timeout()  # closes the connection
        else:
            # gunicorn cancels this timer once the head is in, as it does its own.
            self._keepalive_handle = self.worker.loop.call_later(
                settings.WEB_HEADER_TIMEOUT_SECONDS, self._keepalive_timeout
            )


class BoundedConnectionWorker(gasgi.ASGIWorker):
    """gunicorn's ASGI worker, serving each connection with BoundedConnectionProtocol."""

    def run(self, *args: Any, **kwargs: Any) -> None:
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
        super().run(*args, **kwargs)
