"""This web process's open streams, by user, on its event loop: who to wake when a
user's changes commit, one feed read shared by the streams that want the same one,
and the process's claim on its streams' slots (live.slots), kept fresh and given up
in batches (a thousand clients gone at once cost a few statements, not a thousand)."""

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import DatabaseError, close_old_connections

from live import wakeups
from live.slots import REFRESH_SECONDS, slots_refresh, slots_release
from live.streams import Read, read_changes

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Runs a function on one of the process's request threads (todo_project.asgi): every
# database call of a stream goes through it, so streams add no connection.
OnThread = Callable[..., Awaitable[Any]]


class Hub:
    """The open streams of this process. Started by the first stream: from then on it
    listens for wake-ups (live.wakeups) and refreshes its slots."""

    def __init__(self, on_thread: OnThread) -> None:
        self.on_thread = on_thread
        self._woken: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._reads: dict[tuple[str, str], asyncio.Future[Read]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._served: set[uuid.UUID] = set()
        self._closed: set[uuid.UUID] = set()
        self._any_closed = asyncio.Event()

    @contextmanager
    def subscription(self, user_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the user's changes may have committed."""
        if not self._tasks:
            self._start()
        woken = asyncio.Event()
        self._woken[user_id].add(woken)
        try:
            yield woken
        finally:
            subscribers = self._woken[user_id]
            subscribers.discard(woken)
            if not subscribers:
                del self._woken[user_id]

    def hold(self, slot: uuid.UUID) -> None:
        """A stream is served here: its slot is kept fresh until it is released."""
        self._served.add(slot)

    def release(self, slot: uuid.UUID) -> None:
        """A stream has ended: its slot is freed soon, whatever becomes of the
        stream's own task (gunicorn cancels it a while after its client went)."""
        self._served.discard(slot)
        self._closed.add(slot)
        self._any_closed.set()

    def wake(self, user_ids: Iterable[str]) -> None:
        for user_id in user_ids:
            for woken in self._woken.get(user_id, ()):
                woken.set()

    def wake_all(self) -> None:
        self.wake(list(self._woken))

    @property
    def users(self) -> set[str]:
        return set(self._woken)

    async def read(self, user_id: str, token: str) -> Read:
        """The user's changes after `token`: one read on a thread for all the streams
        that ask for the same at once."""
        key = (user_id, token)
        shared = self._reads.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self.run(read_changes, user_id, token))
            self._reads[key] = shared
            shared.add_done_callback(lambda _: self._reads.pop(key, None))
        return await asyncio.shield(shared)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on a request thread, its database connection tended as
        around a request (one broken or past CONN_MAX_AGE is replaced)."""
        return await self.on_thread(_between_requests, function, *args)

    def _start(self) -> None:
        self._tasks = [
            asyncio.ensure_future(wakeups.listen(self)),
            asyncio.ensure_future(self._refresh_slots()),
            asyncio.ensure_future(self._release_slots()),
        ]

    async def _refresh_slots(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if self._served:
                try:
                    await self.run(slots_refresh, set(self._served))
                except DatabaseError:
                    logger.warning("Could not refresh this process's stream slots.")

    async def _release_slots(self) -> None:
        while True:
            await self._any_closed.wait()
            self._any_closed.clear()
            closed, self._closed = self._closed, set()
            try:
                await self.run(slots_release, closed)
            except DatabaseError:
                logger.warning("Could not free closed streams' slots; they lapse by themselves.")


def _between_requests(function: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


_hub: Hub | None = None


def process_hub(on_thread: OnThread) -> Hub:
    """This process's hub (one per process: gunicorn runs one event loop in each)."""
    global _hub
    if _hub is None:
        _hub = Hub(on_thread)
    return _hub
