"""How a web process hears that a user's changes committed, on any process or machine.

The changes table stays the truth: a wake-up only says "read the feed now", so one
lost (a dropped connection, a missed poll) delays an event until the stream's next
check (EVENTS_RECHECK_SECONDS), and never loses it.

- PostgreSQL with a direct connection (EVENTS_LISTEN_URL, or DATABASE_URL when
  DATABASE_POOLER=false): `LISTEN` on one connection per process, on the event loop.
  Every statement that records events (delivery.models.Event, in the transaction of
  the change) notifies each of their users once, at commit (migration live 0002). A
  transaction pooler can't carry LISTEN, hence the direct URL.
- Otherwise (SQLite, or only a pooled URL): the process polls the events table every
  EVENTS_POLL_SECONDS while it holds streams: one small query.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max

from delivery.models import Event

if TYPE_CHECKING:
    from live.hub import Hub

logger = logging.getLogger(__name__)

CHANNEL = "todo_live"
# Waits before listening again after the connection failed: 1, 2, 4 … 30 s.
RECONNECT_SECONDS = (1, 2, 4, 8, 16, 30)


def listen_conninfo() -> str | None:
    """The direct connection to LISTEN on, or None when there is none (poll)."""
    if connection.vendor != "postgresql":
        return None
    if settings.EVENTS_LISTEN_URL:
        return str(settings.EVENTS_LISTEN_URL)
    if settings.DATABASE_POOLER:
        return None
    database = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=database["NAME"],
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        connect_timeout=database["OPTIONS"].get("connect_timeout"),
    )


async def listen(hub: "Hub") -> None:
    """Wake the hub's streams of each user notified, for as long as the process runs."""
    conninfo = listen_conninfo()
    if conninfo is None:
        await _poll(hub)
    else:
        await _listen(hub, conninfo)


async def _listen(hub: "Hub", conninfo: str) -> None:
    failures = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
                await listener.execute(f"LISTEN {CHANNEL}")
                failures = 0
                hub.wake_all()  # what committed while nobody listened
                async for notice in listener.notifies():
                    hub.wake((notice.payload,))
        except (psycopg.Error, OSError) as error:
            wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
            failures += 1
            # The driver's message names the host at most, never the password.
            logger.warning(
                "Live updates' LISTEN failed (%s); again in %s s.", type(error).__name__, wait
            )
            await asyncio.sleep(wait)


def _newest_event() -> int:
    return Event.objects.aggregate(newest=Max("id"))["newest"] or 0


def _users_after(newest: int, users: set[str]) -> tuple[set[str], int]:
    """Which of `users` have events after the id `newest`, and the newest id now."""
    found = (
        Event.objects.filter(id__gt=newest)
        .values("user_id")
        .annotate(newest=Max("id"))
        .values_list("user_id", "newest")
    )
    woken = set()
    for user_id, last in found:
        newest = max(newest, last)
        if user_id in users:
            woken.add(user_id)
    return woken, newest


async def _poll(hub: "Hub") -> None:
    newest = None
    while True:
        try:
            if newest is None:
                newest = await hub.run(_newest_event)
            await asyncio.sleep(settings.EVENTS_POLL_SECONDS)
            woken, newest = await hub.run(_users_after, newest, hub.users)
            hub.wake(woken)
        except DatabaseError:
            logger.warning("Live updates could not poll the events table; trying again.")
            await asyncio.sleep(settings.EVENTS_POLL_SECONDS)
