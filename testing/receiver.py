"""An HTTP receiver on loopback for what the service sends out (webhooks, a Dapr
sidecar's publish API): every request recorded (path, headers, body); the answer set
per path prefix: a status, a redirect, a delay, or a tarpit that drips its answer a
byte at a time."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testing.live import serving


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    """How the receiver answers: `status` (a 3xx redirects to `location`), after
    `delay` seconds, or, with `drip`, one byte every `drip` seconds."""

    status: int = 204
    location: str = ""
    delay: float = 0.0
    drip: float = 0.0


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, prefix: str = "/", **how: Any) -> None:
        """Answer requests to paths starting with `prefix` so (the longest prefix wins)."""
        self.answers[prefix] = Answer(**how)

    def to(self, prefix: str) -> list[Received]:
        with self.lock:
            return [request for request in self.received if request.path.startswith(prefix)]

    def _answer_for(self, path: str) -> Answer:
        matching = [prefix for prefix in self.answers if path.startswith(prefix)]
        return self.answers[max(matching, key=len)] if matching else Answer()


@contextmanager
def running_receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A receiver on `host`, on a free port, for the block."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Received(self.path, dict(self.headers.items()), body, time.monotonic())
            with receiver.lock:
                receiver.received.append(request)
            answer = receiver._answer_for(self.path)
            time.sleep(answer.delay)
            if answer.drip:
                head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                for byte in head:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return  # the sender gave up
                    time.sleep(answer.drip)
                return
            self.send_response(answer.status)
            if answer.location:
                self.send_header("Location", answer.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://{host}:{server.server_port}")
    with serving(server):
        yield receiver
