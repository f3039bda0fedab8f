"""The delivery loop: the one long-running loop of the worker (todo_project.worker),
on the model of Healthchecks' `sendalerts`.

Each turn it fires the reminders due (delivery.reminders), hands pending events to
the outlets (delivery.outbox.fan_out), settles the sends that finished, and claims
due messages for its free threads, from every outbox: webhooks and Dapr
(Delivery), Web Push (PushMessage). When a turn finds nothing, it sleeps
DELIVERY_IDLE_SECONDS, or until a send finishes.

Sends run on DELIVERY_THREADS threads, each with its own hardened sessions, and touch
no database; this thread claims and settles (a turn's deliveries in one statement).
A claim gives a user at most outbox.PER_USER (4) more sends, and none while they have
that many in flight, so one user holds at most 7 of the 8 threads: a slow receiver
(each send ends at DELIVERY_TIMEOUT_SECONDS) or a backlog holds back mostly its own
user's deliveries, and another user's go out in the next turns.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, models
from django.utils import timezone

from delivery import outbox, outlets, push, reminders
from delivery.http import Sessions
from delivery.models import Delivery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbox:
    """An outbox the loop sends from: its model, whether its messages keep an order
    (`queue`, `subject`), what a message needs loaded to be sent, how one is sent (on a
    delivery thread), how a turn's outcomes are written (on the loop's), and whether
    it can have anything to send."""

    model: type[models.Model]
    ordered: bool
    related: tuple[str, ...]
    send: Callable[[Any, Sessions, datetime], Any]
    settle: Callable[[list[tuple[Any, Any]], datetime], None]
    active: Callable[[], bool]


def _always() -> bool:
    return True


OUTBOXES = (
    Outbox(Delivery, True, ("webhook",), outlets.send, outbox.settle, _always),
    Outbox(push.PushMessage, False, ("subscription",), push.send, push.settle_all, push.is_on),
)


class DeliveryLoop:
    """Claims due messages and sends them on a pool of threads (see the module)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or settings.DELIVERY_THREADS
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="delivery")
        self._local = threading.local()
        self._opened: list[Sessions] = []
        self._in_flight: dict[Future[Any], tuple[Outbox, Any]] = {}
        self._per_user: Counter[str] = Counter()
        self._next_look = 0.0

    def turn(self, *, look: bool = False) -> int:
        """One turn of the loop; how much it did (reminders fired, events handed out,
        sends settled and started). Reminders and new events are looked for at most
        every DELIVERY_IDLE_SECONDS (each look is a query), unless `look`."""
        done = self._settle_finished()
        for box in OUTBOXES:
            free = self.threads - len(self._in_flight)
            if free <= 0:
                break
            if not box.active():
                continue
            now = timezone.now()
            busy = [user for user, count in self._per_user.items() if count >= outbox.PER_USER]
            claimed = outbox.claim(
                box.model, now=now, limit=free, busy=busy, ordered=box.ordered, related=box.related
            )
            for message in claimed:
                future = self._pool.submit(self._send, box, message)
                self._in_flight[future] = (box, message)
                self._per_user[_user_of(message)] += 1
            done += len(claimed)
        # After the claims: a look that fails holds back no delivery already due.
        if look or time.monotonic() >= self._next_look:
            self._next_look = time.monotonic() + settings.DELIVERY_IDLE_SECONDS
            done += reminders.fire_due() + outbox.fan_out()
        return done

    def run(self, stopping: Callable[[], bool]) -> None:
        """Turn until `stopping()` (asked before each turn); then finish the sends in
        flight. A turn that fails is logged, and tried again after a pause."""
        while not stopping():
            try:
                done = self.turn()
            except Exception:
                # A database outage, or a bug: logged, and the next turn tries again.
                logger.exception("A turn of the delivery loop failed")
                close_old_connections()
                done = 0
            if done == 0 or len(self._in_flight) >= self.threads:
                self._wait(settings.DELIVERY_IDLE_SECONDS)
        self.close()

    def drain(self, timeout: float = 30) -> None:
        """Turn until nothing is due or in flight (tests and benchmarks)."""
        end = time.monotonic() + timeout
        while (self.turn(look=True) or self._in_flight) and time.monotonic() < end:
            self._wait(0.05)
        self._settle_finished()

    def close(self) -> None:
        """Wait for the sends in flight, write their outcomes, stop the threads."""
        wait(list(self._in_flight))
        self._settle_finished()
        self._pool.shutdown()
        for sessions in self._opened:
            sessions.close()

    def _wait(self, seconds: float) -> None:
        if self._in_flight:
            wait(list(self._in_flight), timeout=seconds, return_when=FIRST_COMPLETED)
        else:
            time.sleep(seconds)

    def _send(self, box: Outbox, message: Any) -> Any:
        sessions: Sessions | None = getattr(self._local, "sessions", None)
        if sessions is None:
            sessions = self._local.sessions = Sessions()
            self._opened.append(sessions)
        return box.send(message, sessions, timezone.now())

    def _settle_finished(self) -> int:
        finished = [future for future in self._in_flight if future.done()]
        outcomes: dict[Outbox, list[tuple[Any, Any]]] = {box: [] for box in OUTBOXES}
        for future in finished:
            box, message = self._in_flight.pop(future)
            self._per_user[_user_of(message)] -= 1
            try:
                outcomes[box].append((message, future.result()))
            except Exception:
                # A bug, not an answer: logged, and the message left claimed, to be
                # sent again when its lease runs out.
                logger.exception("A delivery failed unexpectedly")
        for box, settled in outcomes.items():
            if settled:
                box.settle(settled, timezone.now())
        self._per_user += Counter()  # drops users with nothing in flight
        return len(finished)


def _user_of(message: Any) -> str:
    user: str = message.user_id
    return user
