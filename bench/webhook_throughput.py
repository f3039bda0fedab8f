"""Drain a backlog of webhooks through one delivery loop, and watch its memory.

    .venv/bin/python bench/webhook_throughput.py                 # 10,000 tasks of one user
    .venv/bin/python bench/webhook_throughput.py --users 4 --backlogs 2
    .venv/bin/python bench/webhook_throughput.py --profile /tmp/loop.html

Creates a scratch PostgreSQL database (dropped afterwards), migrates it, gives
--users users one webhook each (every event type) to a receiver on loopback, and
creates --tasks tasks spread over them with tasks.queries.tasks_load, whose
statement-level trigger writes one `task.created` event per task: a backlog of pending
events, as a burst of writes leaves it. Then one delivery.loop.DeliveryLoop (the
worker's: DELIVERY_THREADS threads, default 8, its `run` as todo_project.worker calls
it) fans the events out into Delivery rows and sends every one, signed, through the
hardened client, until the receiver has had them all (PUSH_ALLOW_LOOPBACK=true).

The receiver runs in a process of its own: asyncio, HTTP/1.1 keep-alive, a 204 to
every POST, counting requests and repeated `webhook-id`s. Prints deliveries/s (from
the loop's start, fan-out included, to the last delivery settled), and this process's
RSS sampled every --sample seconds during each drain. With --backlogs K the same
backlog is made and drained K times in the one process, so growth from one drain to
the next shows. Exits 1 if a delivery is missing, repeated, or left in the outbox.
"""

import argparse
import asyncio
import base64
import importlib
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from scratch import fresh_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


# --- The receiver (its own process) -------------------------------------------------


class _Receiver(asyncio.Protocol):
    """HTTP/1.1 requests with a Content-Length body, each answered 204 (keep-alive)."""

    def __init__(self, counts: "Counts") -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length, webhook_id = 0, b""
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    webhook_id = value.strip()
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            self.counts.seen(webhook_id)
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(NO_CONTENT * answers)


@dataclass
class Counts:
    """What the receiver had: requests, and `webhook-id`s it had before."""

    received: "Synchronized[int]"
    repeated: "Synchronized[int]"
    ids: set[bytes] = field(default_factory=set)

    def seen(self, webhook_id: bytes) -> None:
        if webhook_id in self.ids:
            self.repeated.value += 1
        self.ids.add(webhook_id)
        self.received.value += 1


def receive(port: int, received: "Synchronized[int]", repeated: "Synchronized[int]") -> None:
    """Serve the receiver on 127.0.0.1:`port` until killed."""
    counts = Counts(received, repeated)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Receiver(counts), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


# --- The memory sampler -------------------------------------------------------------


def rss_kib() -> int:
    """This process's resident set, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """(seconds since start, deliveries received, RSS KiB) every `every` seconds."""

    def __init__(self, every: float, received: "Synchronized[int]") -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.every, self.received = every, received
        self.samples: list[tuple[float, int, int]] = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while True:
            self.samples.append((time.monotonic() - self.started, self.received.value, rss_kib()))
            if self.stop.wait(self.every):
                return


# --- The benchmark ------------------------------------------------------------------


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks, so webhooks, per backlog")
    parser.add_argument("--users", type=int, default=1, help="users the tasks are spread over")
    parser.add_argument("--backlogs", type=int, default=1, help="backlogs drained in turn")
    parser.add_argument("--threads", type=int, help="DELIVERY_THREADS (default: the setting's)")
    parser.add_argument("--port", type=int, default=8031, help="the receiver's port")
    parser.add_argument("--sample", type=float, default=0.5, help="seconds between RSS samples")
    parser.add_argument("--timeout", type=float, default=600, help="give up a drain after this")
    parser.add_argument("--profile", metavar="HTML", help="pyinstrument profile of the drains")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_webhooks")
    return parser.parse_args()


def main() -> int:
    args = options()
    os.environ["PUSH_ALLOW_LOOPBACK"] = "true"
    if args.threads:
        os.environ["DELIVERY_THREADS"] = str(args.threads)
    spawn = multiprocessing.get_context("spawn")
    received, repeated = spawn.Value("q", 0), spawn.Value("q", 0)
    receiver = spawn.Process(target=receive, args=(args.port, received, repeated), daemon=True)
    receiver.start()
    try:
        with fresh_database(args.pg, args.db):
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
            return measure(args, received, repeated)
    finally:
        receiver.kill()
        receiver.join()


def make_backlog(users: list[str], tasks: int, backlog: int) -> None:
    """`tasks` tasks spread over `users`, created in bulk: one pending event each."""
    from tasks import queries

    start = EPOCH + timedelta(days=backlog)
    rows = (
        (
            users[n % len(users)],
            {"title": f"Webhook bench {backlog}.{n}"},
            start + timedelta(seconds=n),
        )
        for n in range(tasks)
    )
    queries.tasks_load(rows)


def measure(args: argparse.Namespace, received: Any, repeated: Any) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from accounts.models import BetterAuthUser
    from delivery.loop import DeliveryLoop
    from delivery.models import Delivery, Event, EventType, Webhook

    users = [f"bench-webhooks-{n}" for n in range(args.users)]
    for user in users:
        BetterAuthUser.objects.create(id=user)
        Webhook.objects.create(
            user_id=user,
            url=f"http://127.0.0.1:{args.port}/hooks/{user}",
            events=list(EventType.values),
            secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        )
    profiler: Any = None
    if args.profile:
        # Not a requirement of the repository: `pip install pyinstrument` to profile.
        profiler = importlib.import_module("pyinstrument").Profiler()
    print(
        f"{args.tasks:,} tasks per backlog over {args.users} user(s), one webhook each; "
        f"DELIVERY_THREADS={settings.DELIVERY_THREADS}, receiver on 127.0.0.1:{args.port}"
    )
    failed = False
    rates: list[float] = []
    for backlog in range(args.backlogs):
        make_backlog(users, args.tasks, backlog)
        pending = Event.objects.filter(pending=True).count()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        goal = received.value + args.tasks
        sampler = Sampler(args.sample, received)
        loop = DeliveryLoop()
        started = time.monotonic()
        give_up = started + args.timeout
        sampler.start()
        if profiler is not None:
            profiler.start()
        loop.run(lambda: received.value >= goal or time.monotonic() > give_up)  # noqa: B023
        seconds = time.monotonic() - started
        if profiler is not None:
            profiler.stop()
        sampler.stop.set()
        sampler.join()
        left = Delivery.objects.count()
        still_pending = Event.objects.filter(pending=True).count()
        got = received.value - (goal - args.tasks)
        rate = got / seconds
        rates.append(rate)
        print(
            f"\nbacklog {backlog + 1}: {pending:,} pending events; {got:,} delivered in "
            f"{seconds:.1f} s: {rate:,.0f} deliveries/s; {repeated.value} repeated; "
            f"left in the outbox: {left} deliveries, {still_pending} pending events"
        )
        report_rss(sampler.samples, args.tasks)
        failed |= got != args.tasks or repeated.value > 0 or left > 0 or still_pending > 0
    if len(rates) > 1:
        print(
            f"\ndeliveries/s per backlog: {' '.join(f'{r:.0f}' for r in rates)}; "
            f"median {statistics.median(rates):.0f}"
        )
    if profiler is not None:
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"profile: {args.profile}")
    return 1 if failed else 0


def report_rss(samples: list[tuple[float, int, int]], tasks: int) -> None:
    """About ten samples evenly over the drain, then the first, peak and last RSS."""
    if not samples:
        return
    step = max(1, len(samples) // 10)
    shown = samples[::step]
    if shown[-1] is not samples[-1]:
        shown.append(samples[-1])
    print(f"{'s':>7} {'received':>9} {'RSS MiB':>8}")
    base = samples[0][1]
    for at, got, rss in shown:
        print(f"{at:>7.1f} {got - base:>9,} {rss / 1024:>8.1f}")
    first, last = samples[0][2], samples[-1][2]
    peak = max(rss for _, _, rss in samples)
    tenth = next((rss for _, got, rss in samples if got - base >= tasks // 10), first)
    print(
        f"RSS: start {first / 1024:.1f} MiB, at 10% {tenth / 1024:.1f}, peak {peak / 1024:.1f}, "
        f"end {last / 1024:.1f} ({(last - tenth) / 1024:+.1f} MiB from 10% to the end; "
        f"{len(samples)} samples)"
    )


if __name__ == "__main__":
    sys.exit(main())
