"""A live stream served on the event loop (todo_project.asgi hands it here), where it
holds no thread and no database connection while idle: it waits to be woken
(live.hub), then reads the feed on a request thread and sends what it found.

It reads the feed when it opens (from its token), when woken, a moment after each
wake-up (a change can settle a little after it committed: tasks.changes), and every
EVENTS_RECHECK_SECONDS whatever happens (a wake-up may be lost). A comment goes out
every EVENTS_HEARTBEAT_SECONDS. It ends when the client goes, when its token expires,
or when the client stops taking what is sent (todo_project.http_worker)."""

import asyncio
import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from live import frames
from live.hub import OnThread, process_hub
from live.streams import Stream

logger = logging.getLogger(__name__)

# After a wake-up, the feed is read again this many seconds later: a change that
# committed behind a still-running transaction is handed out once that one ends.
FOLLOW_UPS = (0.3, 1.0, 3.0)

Send = Any
Receive = Any


async def serve_stream(
    stream: Stream,
    headers: list[tuple[bytes, bytes]],
    send: Send,
    receive: Receive,
    on_thread: OnThread,
    *,
    bodiless: bool = False,
) -> None:
    """Send `stream` (its answer's `headers` first) until it ends, or only the
    headers (`bodiless`: a HEAD request); its slot is freed after."""
    hub = process_hub(on_thread)
    hub.hold(stream.slot)
    loop = asyncio.get_running_loop()
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if bodiless:
            await send({"type": "http.response.body", "body": b""})
            return
        await _send(send, stream.opening)
        with hub.subscription(stream.user_id) as woken:
            await _follow(stream, hub, woken, gone, send, loop)
        await send({"type": "http.response.body", "body": b""})
    except (OSError, RuntimeError):  # the client went while we sent
        pass
    finally:
        gone.cancel()
        hub.release(stream.slot)


async def _follow(
    stream: Stream,
    hub: Any,
    woken: asyncio.Event,
    gone: asyncio.Future[Any],
    send: Send,
    loop: asyncio.AbstractEventLoop,
) -> None:
    token = stream.token
    now = loop.time()
    ends = now + max(0.0, stream.ends_at - time.time())
    checks = [now]  # when to read the feed; the first: at once, to catch up
    recheck = now + settings.EVENTS_RECHECK_SECONDS
    heartbeat = now + settings.EVENTS_HEARTBEAT_SECONDS
    while True:
        now = loop.time()
        if now >= ends:
            return
        if woken.is_set():
            woken.clear()
            checks = [now] + [now + delay for delay in FOLLOW_UPS]
        if now >= recheck:
            checks.append(now)
        if checks and checks[0] <= now:
            checks = [at for at in checks if at > now]
            recheck = now + settings.EVENTS_RECHECK_SECONDS
            more = True
            while more:
                try:
                    read = await hub.read(stream.user_id, token)
                except DatabaseError:
                    logger.warning("A stream could not read the feed; it tries again later.")
                    break
                if read.event:
                    await _send(send, read.event)
                    heartbeat = loop.time() + settings.EVENTS_HEARTBEAT_SECONDS
                token, more = read.token, read.more
            continue
        if now >= heartbeat:
            await _send(send, frames.KEEP_ALIVE)
            heartbeat = now + settings.EVENTS_HEARTBEAT_SECONDS
        wake_at = min([ends, recheck, heartbeat, *checks[:1]])
        waiting: asyncio.Future[Any] = asyncio.ensure_future(woken.wait())
        try:
            await asyncio.wait(
                {waiting, gone},
                timeout=max(0.0, wake_at - loop.time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiting.cancel()
        if gone.done():
            return


async def _disconnect(receive: Receive) -> None:
    """Done when the client has gone."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})
