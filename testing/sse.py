"""A Server-Sent Events client for tests: a stream of the live service read on a
thread of its own, its events queued as they come."""

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class SseEvent:
    """One frame: its `event`, `id`, `data` (parsed JSON, when there is any), the
    comment lines and the `retry` it carried."""

    event: str | None
    id: str | None
    data: Any
    comments: list[str]
    retry: int | None


class EventStream:
    """`GET url` with `headers`, its status and headers, and its frames as they come.
    Closed (the client going away) by `close` or at the end of a `with` block."""

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, timeout: float = 10
    ) -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.reader = self.socket.makefile("rb")
        status_line = self.reader.readline().decode()
        self.status = int(status_line.split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.reader.readline().decode().rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.frames: queue.Queue[SseEvent | None] = queue.Queue()
        self.body = b""
        if self.status == 200:
            self.socket.settimeout(None)
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.reader.read(int(self.headers.get("content-length", "0")))

    def _read(self) -> None:
        try:
            for text in self._chunks():
                self._parse(text)
        except (OSError, ValueError):
            pass
        self.frames.put(None)  # the stream ended

    def _chunks(self) -> Any:
        """The body's text, chunk by chunk (HTTP/1.1 chunked transfer coding)."""
        while True:
            size_line = self.reader.readline()
            if not size_line:
                return
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                return
            chunk = self.reader.read(size)
            self.reader.readline()
            yield chunk.decode()

    _pending = ""

    def _parse(self, text: str) -> None:
        self._pending += text
        while "\n\n" in self._pending:
            block, self._pending = self._pending.split("\n\n", 1)
            fields: dict[str, str] = {}
            comments = []
            for line in block.split("\n"):
                if line.startswith(":"):
                    comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
            self.frames.put(
                SseEvent(
                    fields.get("event"),
                    fields.get("id"),
                    json.loads(fields["data"]) if "data" in fields else None,
                    comments,
                    int(fields["retry"]) if "retry" in fields else None,
                )
            )

    def next(self, timeout: float = 10) -> SseEvent | None:
        """The next frame (None: the stream ended); queue.Empty after `timeout`."""
        return self.frames.get(timeout=timeout)

    def next_event(self, timeout: float = 10) -> SseEvent:
        """The next frame with an event (not a comment or a bare id)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.next(max(0.01, deadline - time.monotonic()))
            assert found is not None, "the stream ended"
            if found.event is not None:
                return found

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
