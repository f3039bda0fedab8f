"""Server-Sent Events as the stream writes them (the HTML standard's
`text/event-stream`): a frame is `field: value` lines and a blank line."""

from typing import Any

from todo_project.renderers import OrjsonRenderer

# Data as the REST API renders it (date-times in UTC with a `Z`), on one line.
_render = OrjsonRenderer().render
# How long a browser waits before it reconnects a dropped stream.
RECONNECT_MS = 1000
KEEP_ALIVE = b": keep-alive\n\n"


def frame(*, event: str | None = None, id: str | None = None, data: Any = None) -> bytes:
    """One event: its type, its id (a changes-feed token) and its data as JSON. A frame
    with an id and no data moves the client's last event id without an event."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if data is not None:
        lines.append("data: " + _render(data).decode())
    return ("\n".join(lines) + "\n\n").encode()


def opening(token: str) -> bytes:
    """The first frame: the reconnect delay, and where the stream starts, so a client
    dropped before the first change resumes from there and misses none."""
    return f"retry: {RECONNECT_MS}\n".encode() + frame(id=token)
