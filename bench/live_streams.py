"""Live updates (Server-Sent Events): what idle streams cost one web worker, and how
soon a write made on one web process reaches the streams held by another.

    .venv/bin/python bench/live_streams.py                          # both parts
    .venv/bin/python bench/live_streams.py --rounds 7 --quiet-wait 0 --close-batch 0
    .venv/bin/python bench/live_streams.py capacity --rounds 5
    .venv/bin/python bench/live_streams.py capacity --users 50 --streams-per-user 20
    .venv/bin/python bench/live_streams.py latency --writes 1000 --rate 25
    .venv/bin/python bench/live_streams.py latency --transport poll    # on /changes polls

Both parts create a PostgreSQL database of their own (--db at --pg, trust auth),
migrate it with `manage.py migrate` and drop it afterwards (--keep-db keeps it), and
run the Procfile's web process as production does (`gunicorn todo_project.asgi`,
gunicorn.conf.py) with production settings but plain HTTP on loopback, no rate
limits and no worker recycling during the run (GUNICORN_MAX_REQUESTS=100000000).
The streams are held by a process of their own: plain asyncio sockets that send
`GET /api/{user}/events` with `Authorization: Bearer` and read `text/event-stream`
(chunked or not); a stream that the server ends is opened again with
`Last-Event-ID`, as EventSource does, and counted. A stream is ready once its opening
frame (an `id:` without data) has come. Tokens are HS256 JWTs signed with the run's
BETTER_AUTH_SECRET, as bench/run.py mints them. Streams are woken by LISTEN/NOTIFY
(EVENTS_LISTEN_URL set to the database, as a deployment behind a pooler names its
direct host) unless `--wakeups poll`, where each web process polls the events table
every EVENTS_POLL_SECONDS (what a pooled DATABASE_URL alone gives).

capacity
    One master with one worker (WEB_CONCURRENCY=1) under `taskset -c 0` (bench/pair.sh's
    pinning: wrk, PostgreSQL and the stream holder on CPU 1). The shared harness
    (SHARED_BENCH, default ../shared/bench, copied to BENCH_CACHE as pair.sh does)
    seeds its users through the API and drives its scenarios with wrk. After one
    unmeasured pass of every scenario, the worker's RSS (VmRSS of the worker's pid, not
    the master's) is read, --users x --streams-per-user streams (50 x 20 = 1,000) are
    opened for users of their own (so they stay idle while wrk writes) and held, and
    after --settle seconds the RSS is read again: memory per idle stream. Then every
    scenario is measured with the streams open and with them closed, for --rounds
    rounds, which state goes first alternating round by round (the streams are closed
    or opened again between the two); each side's figure is its median and the ratio
    with/without is the median of the per-round ratios, as pair.py reports. Bar: 0.90.
    GUNICORN_WORKER_CONNECTIONS is left as gunicorn.conf.py sets it (4,000) unless
    --worker-connections is given: at the 1,000 it was before, a worker holding 1,000
    streams closed every other connection at once, and wrk got nothing but read errors.
    --close-batch 0 closes all the streams at once; after each close the slots still
    held (live_openstream rows) are counted, and any left is a problem.

latency
    Two masters on one database, like two machines (--ports A,B; --workers each, not
    pinned). --writers users each hold --streams-per-user streams on master B (`cross`)
    and as many on master A (`same`). Once all are ready, --writes tasks are created
    (`POST /api/{user}/tasks`) on master A, paced at --rate per second, round-robin over
    the users, each user's writes on a keep-alive connection of its own. A write's
    latency for a stream: when the event carrying the task in `upserted` arrived minus
    when the write's 201 came back (`after_201`; it can be negative), and minus when the
    request was sent (`after_send`); one clock (CLOCK_MONOTONIC) for every process.
    After the last write, up to --drain seconds for the rest. Every stream must see
    every write of its user: what one didn't is counted as lost. Bar: p99 <= 2 s.
    `--transport poll` replaces each stream with a client polling
    `GET /api/{user}/changes` every --poll-interval seconds (the same bookkeeping, for
    trying the harness where the events route is missing).

Output: bench/results/live-<UTC stamp>/live.json (every figure, per round and per
stream group) and the servers' logs beside it, scanned for errors; a summary on stdout.
Exit status: 0; 1 when streams could not all be opened, a stream missed a write or a
write failed; 3 when a wrk measurement had non-2xx answers or socket errors.
"""

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import jwt
from scratch import fresh_database

ROOT = Path(__file__).resolve().parent.parent
TOKEN_TTL = 6 * 3600
# Seconds a stream waits before opening again after a 429 with no Retry-After, or
# after the server ended it (unless it sent `retry:`).
REOPEN_SECONDS = 1.0
# Longest a head, a chunk size line or a comment line may be.
LINE_LIMIT = 1 << 20
# What a stream keeps of its errors.
MAX_ERRORS = 20


# --- Streams (the holder process) -----------------------------------------------------


@dataclass
class Stream:
    """One stream's state and what it saw."""

    index: int
    user: str
    token: str
    port: int
    label: str
    last_id: str | None = None
    connected: bool = False
    ready_at: float | None = None
    opens: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    closes: int = 0  # ended by the server, or broken, after a 200
    refused: str | None = None  # a non-200 it gave up on
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS
    events: int = 0
    comments: int = 0
    resets: int = 0
    last_line_at: float | None = None
    max_gap: float = 0.0
    retry_seconds: float = REOPEN_SECONDS
    seen: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text[:200])

    def line_arrived(self, now: float) -> None:
        if self.last_line_at is not None:
            self.max_gap = max(self.max_gap, now - self.last_line_at)
        self.last_line_at = now

    def changes(self, payload: dict[str, Any], now: float) -> None:
        for task in payload.get("upserted", []):
            if task["id"] in self.seen:
                self.duplicates += 1
            else:
                self.seen[task["id"]] = now


class SseParser:
    """text/event-stream, fed bytes as they come: complete events and comments."""

    def __init__(self) -> None:
        self.buffer = b""
        self.fields: dict[str, str] = {}
        self.data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        """("comment", text), ("event", {"event", "id", "data", "retry"}) in order."""
        self.buffer += chunk
        out: list[tuple[str, Any]] = []
        *lines, self.buffer = self.buffer.split(b"\n")
        for raw in lines:
            line = raw.removesuffix(b"\r").decode()
            if not line:
                if self.data or self.fields:
                    out.append(("event", {**self.fields, "data": "\n".join(self.data)}))
                    if not self.data:
                        out[-1][1]["data"] = None
                self.fields, self.data = {}, []
            elif line.startswith(":"):
                out.append(("comment", line[1:].strip()))
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    self.data.append(value)
                elif name in ("event", "id", "retry"):
                    self.fields[name] = value
        return out


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


async def body_chunks(reader: asyncio.StreamReader, headers: dict[str, str]) -> Any:
    """The body's bytes as they arrive: chunked, by Content-Length, or to the close."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return
            chunk = await reader.readexactly(size + 2)
            yield chunk[:-2]
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left:
            chunk = await reader.read(min(left, 65536))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", left)
            left -= len(chunk)
            yield chunk
    else:
        while chunk := await reader.read(65536):
            yield chunk


async def whole_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    return b"".join([chunk async for chunk in body_chunks(reader, headers)])


def request_bytes(method: str, path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Holder:
    """Opens, holds and closes streams, on commands from the measuring process."""

    def __init__(self, transport: str, poll_interval: float, concurrency: int) -> None:
        self.transport = transport
        self.poll_interval = poll_interval
        self.gate = asyncio.Semaphore(concurrency)
        self.streams: list[Stream] = []
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.writers: dict[int, asyncio.StreamWriter] = {}

    async def serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command, options = await loop.run_in_executor(None, conn.recv)
            if command == "exit":
                await self.close()
                conn.send(None)
                return
            conn.send(await getattr(self, command)(**options))

    async def open(self, specs: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
        """Open a stream per spec (user, token, port, label); answer once every one is
        ready or has given up, or `timeout` has passed."""
        started = time.monotonic()
        new = []
        for spec in specs:
            stream = Stream(index=len(self.streams), **spec)
            self.streams.append(stream)
            new.append(stream)
            keep = self.keep_sse if self.transport == "sse" else self.keep_polling
            self.tasks[stream.index] = asyncio.create_task(keep(stream))
        while time.monotonic() - started < timeout:
            if all(s.ready_at is not None or s.refused for s in new):
                break
            await asyncio.sleep(0.05)
        ready = [s for s in new if s.ready_at is not None]
        statuses: Counter[int] = sum((s.statuses for s in new), Counter())
        return {
            "requested": len(new),
            "ready": len(ready),
            "refused": Counter(s.refused for s in new if s.refused),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "seconds_to_all_ready": round(max((s.ready_at or 0) for s in new) - started, 3)
            if len(ready) == len(new)
            else None,
            "errors": [e for s in new for e in s.errors][:10],
        }

    async def status(self) -> dict[str, Any]:
        now = time.monotonic()
        open_gaps = [now - s.last_line_at for s in self.streams if s.connected and s.last_line_at]
        statuses: Counter[int] = sum((s.statuses for s in self.streams), Counter())
        return {
            "streams": len(self.streams),
            "connected": sum(s.connected for s in self.streams),
            "ready": sum(s.ready_at is not None for s in self.streams),
            "closed_by_server_or_broken": sum(s.closes for s in self.streams),
            "opens": sum(s.opens for s in self.streams),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "refused": sum(bool(s.refused) for s in self.streams),
            "events": sum(s.events for s in self.streams),
            "comments": sum(s.comments for s in self.streams),
            "resets": sum(s.resets for s in self.streams),
            "seen": sum(len(s.seen) for s in self.streams),
            "duplicates": sum(s.duplicates for s in self.streams),
            "max_gap_seconds": round(max([s.max_gap for s in self.streams] + open_gaps + [0]), 2),
            "errors": [e for s in self.streams for e in s.errors][:10],
        }

    async def report(self) -> list[dict[str, Any]]:
        return [
            {
                "user": s.user,
                "port": s.port,
                "label": s.label,
                "seen": s.seen,
                "events": s.events,
                "comments": s.comments,
                "closes": s.closes,
                "opens": s.opens,
                "resets": s.resets,
                "duplicates": s.duplicates,
                "refused": s.refused,
                "errors": s.errors[:5],
                "max_gap_seconds": round(s.max_gap, 2),
            }
            for s in self.streams
        ]

    async def close(self, batch: int = 0, pause: float = 0.0) -> dict[str, Any]:
        """Close every stream (the client's side), `batch` at a time with `pause`
        seconds between (0: all at once), and forget them."""
        before = await self.status()
        tasks = list(self.tasks.values())
        step = batch or len(tasks) or 1
        for start in range(0, len(tasks), step):
            if start:
                await asyncio.sleep(pause)
            for task in tasks[start : start + step]:
                task.cancel()
            await asyncio.gather(*tasks[start : start + step], return_exceptions=True)
        for writer in self.writers.values():
            writer.close()
        self.streams, self.tasks, self.writers = [], {}, {}
        return before

    async def keep_sse(self, stream: Stream) -> None:
        """Hold the stream open, opening it again (Last-Event-ID) when it ends."""
        while True:
            writer = None
            try:
                async with self.gate:
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", stream.port, limit=LINE_LIMIT
                    )
                    self.writers[stream.index] = writer
                    headers = {
                        "Authorization": f"Bearer {stream.token}",
                        "Accept": "text/event-stream",
                        "Cache-Control": "no-cache",
                    }
                    if stream.last_id:
                        headers["Last-Event-ID"] = stream.last_id
                    path = f"/api/{stream.user}/events"
                    writer.write(request_bytes("GET", path, stream.port, headers))
                    stream.opens += 1
                    status, response_headers = await read_head(reader)
                stream.statuses[status] += 1
                if status != 200:
                    body = await whole_body(reader, response_headers)
                    if status in (429, 503):
                        wait = float(response_headers.get("retry-after") or REOPEN_SECONDS)
                        await asyncio.sleep(wait)
                        continue
                    stream.refused = f"{status} {body[:200].decode(errors='replace')}"
                    return
                kind = response_headers.get("content-type", "")
                if not kind.startswith("text/event-stream"):
                    stream.refused = f"200 with Content-Type {kind!r}"
                    return
                stream.connected = True
                parser = SseParser()
                async for chunk in body_chunks(reader, response_headers):
                    now = time.monotonic()
                    for kind, item in parser.feed(chunk):
                        stream.line_arrived(now)
                        if kind == "comment":
                            stream.comments += 1
                        else:
                            self.sse_event(stream, item, now)
                stream.error("ended by the server")
            except asyncio.CancelledError:
                raise
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as error:
                stream.error(f"{type(error).__name__}: {error}")
            finally:
                if writer is not None:
                    writer.close()
                self.writers.pop(stream.index, None)
            if stream.connected:
                stream.closes += 1
            stream.connected = False
            stream.last_line_at = None
            await asyncio.sleep(stream.retry_seconds)

    def sse_event(self, stream: Stream, event: dict[str, Any], now: float) -> None:
        if "retry" in event and event["retry"].isdigit():
            stream.retry_seconds = int(event["retry"]) / 1000
        if "id" in event:
            stream.last_id = event["id"]
            if stream.ready_at is None:
                stream.ready_at = now
        name = event.get("event", "message")
        if event["data"] is None:
            return
        stream.events += 1
        if name == "reset":
            stream.resets += 1
        elif name == "changes":
            stream.changes(json.loads(event["data"]), now)

    async def keep_polling(self, stream: Stream) -> None:
        """The stand-in for a stream: GET …/changes on one keep-alive connection, a full
        sync first (ready once it is done), then a poll every `poll_interval` seconds."""
        since = ""
        while True:
            writer = None
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", stream.port, limit=LINE_LIMIT
                )
                stream.opens += 1
                stream.connected = True
                while True:
                    query = f"&since={since}" if since else ""
                    path = f"/api/{stream.user}/changes?limit=1000{query}"
                    headers = {"Authorization": f"Bearer {stream.token}"}
                    async with self.gate:
                        writer.write(request_bytes("GET", path, stream.port, headers))
                        status, response_headers = await read_head(reader)
                        body = await whole_body(reader, response_headers)
                    now = time.monotonic()
                    stream.statuses[status] += 1
                    if status != 200:
                        stream.refused = f"{status} {body[:200].decode(errors='replace')}"
                        return
                    stream.line_arrived(now)
                    answer = json.loads(body)
                    if since:
                        stream.events += 1
                        stream.changes(answer, now)
                    since = answer["next"]
                    stream.last_id = since
                    if answer["more"]:
                        continue
                    if stream.ready_at is None:
                        stream.ready_at = now
                    if response_headers.get("connection", "").lower() == "close":
                        break
                    await asyncio.sleep(self.poll_interval)
            except asyncio.CancelledError:
                raise
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as error:
                stream.error(f"{type(error).__name__}: {error}")
                stream.closes += 1
            finally:
                if writer is not None:
                    writer.close()
            stream.connected = False
            await asyncio.sleep(REOPEN_SECONDS)


def holder_main(
    conn: Connection, transport: str, poll_interval: float, concurrency: int, cpus: str
) -> None:
    if cpus:
        os.sched_setaffinity(0, parse_cpus(cpus))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the measuring process stops it
    asyncio.run(Holder(transport, poll_interval, concurrency).serve(conn))


class HolderProcess:
    """The stream holder, a process of its own (spawned, so nothing is shared)."""

    def __init__(self, transport: str, poll_interval: float, concurrency: int, cpus: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=holder_main,
            args=(child, transport, poll_interval, concurrency, cpus),
            daemon=True,
        )
        self.process.start()

    def call(self, command: str, **options: Any) -> Any:
        self.conn.send((command, options))
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self.call("exit")
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()


# --- The service ------------------------------------------------------------------------


def parse_cpus(spec: str) -> set[int]:
    cpus: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+)", status)
    assert match, f"no VmRSS for {pid}"
    return int(match[1])


def random_user() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def mint(user: str) -> str:
    now = int(time.time())
    claims = {"sub": user, "iat": now, "exp": now + TOKEN_TTL}
    return jwt.encode(claims, os.environ["BETTER_AUTH_SECRET"], algorithm="HS256")


def service_env(wakeups: str = "poll") -> dict[str, str]:
    """Production settings (DATABASE_URL and the secrets from fresh_database), but plain
    HTTP on loopback, no rate limits, no `.env`, and no worker recycled mid-run. With
    `wakeups` "listen", EVENTS_LISTEN_URL names the database, as a deployment whose
    DATABASE_URL goes through a pooler names the direct host (DATABASE_POOLER is left
    at its default); with "poll" it is unset and streams are woken by polls."""
    listen = {"EVENTS_LISTEN_URL": os.environ["DATABASE_URL"]} if wakeups == "listen" else {}
    return {
        **os.environ,
        **listen,
        "DEBUG": "false",
        "SECURE_HTTPS": "false",
        "RATE_LIMIT_USER": "off",
        "RATE_LIMIT_ANON": "off",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "BETTER_AUTH_URL": "",
        "GUNICORN_MAX_REQUESTS": "100000000",
    }


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """The Procfile's web process on loopback: a gunicorn master and its workers."""

    def __init__(
        self,
        name: str,
        port: int,
        workers: int,
        cpus: str,
        out_dir: Path,
        env: dict[str, str],
        wakeups: str,
    ) -> None:
        self.name, self.port, self.cpus = name, port, cpus
        self.log = out_dir / f"{name}.log"
        self.env = {
            **service_env(wakeups),
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if port_answers(self.port):
            raise SystemExit(f"something already listens on port {self.port}")
        command = [sys.executable, "-m", "gunicorn", "todo_project.asgi"]
        if self.cpus:
            command = ["taskset", "-c", self.cpus, *command]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2).close()
                break
            except (OSError, urllib.error.HTTPError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{self.name} did not start; see {self.log}") from None
                time.sleep(0.2)
        say(
            f"{self.name}: gunicorn on :{self.port}, master {self.process.pid}, "
            f"workers {self.workers()}{f', CPU {self.cpus}' if self.cpus else ''}"
        )

    def workers(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return sorted(int(child) for child in children)

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *self.workers()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# gunicorn's own lines and tracebacks; the app's JSON lines are read by their `level`.
LOG_PROBLEMS = re.compile(r"Traceback|\[(ERROR|CRITICAL|WARNING)\]|WORKER TIMEOUT|was sent SIG")


def scan_log(path: Path) -> dict[str, Any]:
    """What a server's log says went wrong: warnings and errors (a few of each kind
    kept), worker boots, and the request log's non-2xx answers by route and status."""
    problems: Counter[str] = Counter()
    samples: dict[str, list[str]] = {}
    non_2xx: Counter[str] = Counter()
    boots = 0
    with path.open(errors="replace") as log:
        for line in log:
            boots += "Booting worker" in line
            kind = None
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    status = record.get("status")
                    if isinstance(status, int) and not 200 <= status < 300:
                        non_2xx[f"{record.get('method')} {record.get('route')} {status}"] += 1
                    if record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
                        kind = f"{record['level']} {record.get('logger')}"
            elif match := LOG_PROBLEMS.search(line):
                kind = match[0]
            if kind:
                problems[kind] += 1
                kept = samples.setdefault(kind, [])
                if len(kept) < 5:
                    kept.append(line.strip()[:500])
    return {
        "worker_boots": boots,
        "problem_lines": dict(problems),
        "samples": samples,
        "non_2xx_logged": dict(non_2xx),
    }


class PinnedPostgres:
    """PostgreSQL's processes moved to `cpus` (as the harness's --pin-postgres does:
    new backends inherit the postmaster's), their affinity put back afterwards."""

    def __init__(self, cpus: str) -> None:
        self.cpus = parse_cpus(cpus)
        self.before: dict[int, set[int]] = {}

    def __enter__(self) -> "PinnedPostgres":
        for pid in postgres_threads():
            with contextlib.suppress(OSError):
                self.before[pid] = os.sched_getaffinity(pid)
                os.sched_setaffinity(pid, self.cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        everywhere = set(range(os.cpu_count() or 1))
        for pid in postgres_threads():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, self.before.get(pid, everywhere))


def postgres_threads() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry))
    return pids


def say(message: str) -> None:
    print(f"[live {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Part 1: capacity --------------------------------------------------------------------


def load_harness(args: argparse.Namespace) -> Any:
    """The shared harness, copied somewhere writable (as bench/pair.sh does), imported."""
    cache = Path(args.bench_cache)
    shared = Path(args.shared_bench)
    if not (shared / "bench.py").is_file():
        raise SystemExit(f"no bench.py in {shared} (set SHARED_BENCH)")
    ignore = shutil.ignore_patterns(".venv", "results", "__pycache__")
    shutil.copytree(shared, cache, ignore=ignore, dirs_exist_ok=True)
    for path in cache.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    sys.path.insert(0, str(cache))
    import importlib

    return importlib.import_module("bench")


def harness_args(args: argparse.Namespace, url: str) -> argparse.Namespace:
    """What the harness's Target and measure() read, as pair.py gives them."""
    return argparse.Namespace(
        base_url=url,
        secret=os.environ["BETTER_AUTH_SECRET"],
        issuer=None,
        audience=None,
        users=args.harness_users,
        tasks_per_user=args.tasks_per_user,
        seed_concurrency=8,
        scenarios=args.scenarios,
        trailing_slash=False,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=1,
        timeout=10,
        wrk_cpus=args.other_cpus,
        quiet_wait=args.quiet_wait,
        retry_noisy=0,
    )


def capacity(args: argparse.Namespace, out_dir: Path, harness: Any, result: dict[str, Any]) -> None:
    """Fill `result` (kept, as far as it got, when the run fails)."""
    extra = {}
    if args.worker_connections:
        extra["GUNICORN_WORKER_CONNECTIONS"] = str(args.worker_connections)
    server = Server("capacity", args.port, 1, args.server_cpus, out_dir, extra, args.wakeups)
    holder = None
    result |= {
        "streams": args.users * args.streams_per_user,
        "users": args.users,
        "streams_per_user": args.streams_per_user,
        "server_cpus": args.server_cpus,
        "other_cpus": args.other_cpus,
        "worker_connections": args.worker_connections or "gunicorn.conf.py's default",
    }
    try:
        with PinnedPostgres(args.other_cpus):
            server.start()
            url = f"http://127.0.0.1:{args.port}"
            ns = harness_args(args, url)
            target = harness.Target(ns)
            target.probe()
            target.seed()
            subprocess.run(
                ["psql", "-q", f"{args.pg}/{args.db}", "-c", "VACUUM ANALYZE"], check=True
            )
            target.verify_and_find_deep()
            data = out_dir / "capacity-data.lua"
            target.write_lua_data(data)
            scenarios = [s for s in harness.RUN_ORDER if s in args.scenarios]
            if target.deep_strategy is None and "list-deep" in scenarios:
                scenarios.remove("list-deep")
            say("warm-up: one unmeasured pass of every scenario")
            for scenario in scenarios:
                harness.run_wrk(ns, url, scenario, data, 2, server.pids(), measure=False)
            holder = HolderProcess("sse", 0, args.open_concurrency, args.other_cpus)
            users = [random_user() for _ in range(args.users)]
            specs = [
                {"user": user, "token": mint(user), "port": args.port, "label": "idle"}
                for user in users
                for _ in range(args.streams_per_user)
            ]
            result["memory"] = memory = []
            result["stream_checks"] = checks = []
            worker = server.workers()
            result["worker_pid"] = worker

            def open_streams() -> None:
                time.sleep(args.settle)
                before = rss_kib(server.workers()[0])
                opened = holder.call("open", specs=specs, timeout=args.open_timeout)
                say(
                    f"opened {opened['ready']}/{opened['requested']} streams "
                    f"in {opened['seconds_to_all_ready']} s, statuses {opened['statuses']}"
                )
                time.sleep(args.settle)
                after = rss_kib(server.workers()[0])
                ready = opened["ready"] or 1
                memory.append(
                    {
                        "rss_before_kib": before,
                        "rss_open_kib": after,
                        "kib_per_stream": round((after - before) / ready, 1),
                        "open": opened,
                    }
                )
                say(
                    f"worker RSS {before} KiB -> {after} KiB with {opened['ready']} streams: "
                    f"{(after - before) / ready:.1f} KiB per stream"
                )
                if len(memory) == 1:
                    idle["with"] = idle_cost(server, harness, args.idle_seconds)
                if opened["ready"] < opened["requested"]:
                    result.setdefault("problems", []).append(
                        f"only {opened['ready']} of {opened['requested']} streams opened"
                    )

            def close_streams() -> None:
                rss_before = rss_kib(server.workers()[0])
                started = time.monotonic()
                status = holder.call("close", batch=args.close_batch, pause=args.close_pause)
                status["close_seconds"] = round(time.monotonic() - started, 2)
                status["rss_before_close_kib"] = rss_before
                status["slots_left"] = slots_left = open_slots(args, wait=args.slot_wait)
                time.sleep(args.settle)
                status["rss_after_close_kib"] = rss_kib(server.workers()[0])
                checks.append(status)
                say(
                    f"closed in {status['close_seconds']} s: {status['connected']} streams were "
                    f"connected, {status['closed_by_server_or_broken']} ended by the server or "
                    f"broken, longest silence {status['max_gap_seconds']} s; slots left "
                    f"{slots_left}; RSS {rss_before} -> {status['rss_after_close_kib']} KiB"
                )
                if "without" not in idle:
                    idle["without"] = idle_cost(server, harness, args.idle_seconds)
                if slots_left:
                    result.setdefault("problems", []).append(
                        f"{slots_left} stream slots still held {args.slot_wait} s after their "
                        "streams closed"
                    )

            idle: dict[str, dict[str, Any]] = {}
            result["idle"] = idle
            open_streams()
            is_open = True
            runs: dict[str, dict[str, list[dict[str, Any]]]] = {
                s: {"with": [], "without": []} for s in scenarios
            }
            invalid = []
            for round_ in range(args.rounds):
                for state in ("with", "without") if round_ % 2 == 0 else ("without", "with"):
                    if state == "with" and not is_open:
                        open_streams()
                    elif state == "without" and is_open:
                        close_streams()
                    is_open = state == "with"
                    for scenario in scenarios:
                        res = harness.measure(ns, url, scenario, data, server.pids())
                        runs[scenario][state].append(res)
                        if not res["valid"]:
                            invalid.append(f"{state}:{scenario}:{res['problems']}")
                        say(
                            f"round {round_ + 1} {state:<7} {scenario:<10} "
                            f"{res['rps']:>8.1f} req/s p99 {res['p99_ms']} ms"
                            + ("" if res["valid"] else f"  INVALID {res['problems']}")
                        )
            if is_open:
                close_streams()
            if server.workers() != worker:
                result.setdefault("problems", []).append(
                    f"the worker changed during the run: {worker} -> {server.workers()}"
                )
            result["rows"] = rows = []
            for scenario in scenarios:
                with_, without = runs[scenario]["with"], runs[scenario]["without"]
                ratios = [
                    w["rps"] / o["rps"] for w, o in zip(with_, without, strict=True) if o["rps"]
                ]
                # Requests per second of the worker's CPU: on a box where other work takes
                # CPU 0 from the worker now and then, this shows what a request costs.
                per_cpu = [
                    (w["rps"] / w["server_cpu_pct"]) / (o["rps"] / o["server_cpu_pct"])
                    for w, o in zip(with_, without, strict=True)
                    if o["rps"] and w["server_cpu_pct"] and o["server_cpu_pct"]
                ]
                rows.append(
                    {
                        "scenario": scenario,
                        "ratio": round(statistics.median(ratios), 3),
                        "ratios": [round(r, 3) for r in ratios],
                        "per_cpu_ratio": round(statistics.median(per_cpu), 3) if per_cpu else None,
                        "per_cpu_ratios": [round(r, 3) for r in per_cpu],
                        "with": side(with_),
                        "without": side(without),
                    }
                )
            result["invalid"] = invalid
            per_stream = [m["kib_per_stream"] for m in memory]
            result["kib_per_stream_first"] = per_stream[0]
            result["kib_per_stream_median"] = statistics.median(per_stream)
    finally:
        if holder is not None:
            holder.stop()
        server.stop()
        result["log"] = scan_log(server.log)


def idle_cost(server: Server, harness: Any, seconds: float) -> dict[str, Any]:
    """The worker's and PostgreSQL's CPU over `seconds` with no requests, as % of a core:
    what the open streams (heartbeats, rechecks, slot refreshes) cost by themselves."""
    worker = server.workers()
    cpu0, pg0, t0 = harness.cpu_seconds(worker), harness.postgres_cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu1, pg1, t1 = harness.cpu_seconds(worker), harness.postgres_cpu_seconds(), time.monotonic()
    cost = {
        "seconds": round(t1 - t0, 1),
        "worker_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "postgres_cpu_pct": round(100 * (pg1 - pg0) / (t1 - t0), 1),
    }
    say(
        f"idle for {cost['seconds']} s: worker {cost['worker_cpu_pct']}% of a core, "
        f"PostgreSQL {cost['postgres_cpu_pct']}%"
    )
    return cost


def open_slots(args: argparse.Namespace, wait: float) -> int:
    """The stream slots (live.models.OpenStream rows) still held, once none are or
    after `wait` seconds."""
    import psycopg

    deadline = time.monotonic() + wait
    with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as db:
        while True:
            row = db.execute("SELECT count(*) FROM live_openstream").fetchone()
            held = int(row[0]) if row else 0
            if not held or time.monotonic() > deadline:
                return held
            time.sleep(0.5)


def side(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps_median": statistics.median(r["rps"] for r in runs),
        "rps": [r["rps"] for r in runs],
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "server_cpu_pct": [r["server_cpu_pct"] for r in runs],
        "other_cpu_pct": [r["other_cpu_pct"] for r in runs],
    }


# --- Part 2: latency ----------------------------------------------------------------------


@dataclass
class Write:
    user: str
    scheduled: float
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0
    task_id: int | None = None
    error: str | None = None


def make_writes(args: argparse.Namespace, users: list[str], port: int) -> list[Write]:
    """--writes creates on `port`, the i-th at start + i / --rate, by users in turn;
    each user writes in order on a keep-alive connection of its own."""
    start = time.monotonic() + 0.5
    writes = [Write(users[i % len(users)], start + i / args.rate) for i in range(args.writes)]
    tokens = {user: mint(user) for user in users}

    def writer(user: str) -> None:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {tokens[user]}", "Content-Type": "application/json"}
        for number, write in enumerate(writes):
            if write.user != user:
                continue
            time.sleep(max(0.0, write.scheduled - time.monotonic()))
            body = json.dumps({"title": f"Live update #{number}"})
            try:
                write.sent = time.monotonic()
                connection.request("POST", f"/api/{user}/tasks", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                write.answered = time.monotonic()
                write.status = response.status
                if response.status == 201:
                    write.task_id = json.loads(payload)["id"]
                else:
                    write.error = payload[:200].decode(errors="replace")
            except (OSError, http.client.HTTPException) as error:
                write.error = f"{type(error).__name__}: {error}"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.close()

    threads = [threading.Thread(target=writer, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return writes


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "n": len(ordered),
        "min_ms": round(ordered[0] * 1000, 1),
        "p50_ms": round(rank(50) * 1000, 1),
        "p90_ms": round(rank(90) * 1000, 1),
        "p99_ms": round(rank(99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def latency(args: argparse.Namespace, out_dir: Path, result: dict[str, Any]) -> None:
    """Fill `result` (kept, as far as it got, when the run fails)."""
    port_a, port_b = args.ports
    servers = [
        Server(f"latency-{name}", port, args.workers, "", out_dir, {}, args.wakeups)
        for name, port in (("A", port_a), ("B", port_b))
    ]
    holder = None
    result |= {
        "transport": args.transport,
        "writers": args.writers,
        "streams_per_user_per_master": args.streams_per_user,
        "workers_per_master": args.workers,
        "writes": args.writes,
        "rate_per_s": args.rate,
    }
    try:
        for server in servers:
            server.start()
        users = [random_user() for _ in range(args.writers)]
        holder = HolderProcess(args.transport, args.poll_interval, args.open_concurrency, "")
        specs = [
            {"user": user, "token": mint(user), "port": port, "label": label}
            for user in users
            for port, label in ((port_b, "cross"), (port_a, "same"))
            for _ in range(args.streams_per_user)
        ]
        opened = holder.call("open", specs=specs, timeout=args.open_timeout)
        result["open"] = opened
        say(f"{opened['ready']}/{opened['requested']} streams ready, statuses {opened['statuses']}")
        if opened["ready"] < opened["requested"]:
            result["problems"] = [f"only {opened['ready']} of {opened['requested']} streams opened"]
        time.sleep(1)
        say(f"{args.writes} writes on :{port_a} at {args.rate}/s by {len(users)} users")
        started = time.monotonic()
        writes = make_writes(args, users, port_a)
        done = time.monotonic()
        ok = [w for w in writes if w.task_id is not None]
        sent = sorted(w.sent for w in writes if w.sent)
        lateness = [w.sent - w.scheduled for w in writes if w.sent]
        result["writing"] = {
            "seconds": round(done - started, 2),
            "rate_achieved_per_s": round((len(sent) - 1) / (sent[-1] - sent[0]), 1)
            if len(sent) > 1
            else None,
            "statuses": dict(Counter(str(w.status) for w in writes)),
            "errors": [w.error for w in writes if w.error][:10],
            "write_ms": percentiles([w.answered - w.sent for w in ok]),
            "max_send_lateness_ms": round(max(lateness, default=0) * 1000, 1),
        }
        streams_of = Counter(user for user in users for _ in range(2 * args.streams_per_user))
        expected = sum(streams_of[w.user] for w in ok)
        deadline = time.monotonic() + args.drain
        while (status := holder.call("status"))["seen"] < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        result["holder"] = status
        report = holder.call("report")
        result.update(sightings(ok, report))
        say(f"writes: {result['writing']}")
    finally:
        if holder is not None:
            holder.stop()
        for server in servers:
            server.stop()
        result["logs"] = {server.name: scan_log(server.log) for server in servers}


def sightings(writes: list[Write], report: list[dict[str, Any]]) -> dict[str, Any]:
    """Latencies by stream group, and the writes a stream of their user never saw."""
    out: dict[str, Any] = {"lost": 0, "lost_samples": []}
    for label in ("cross", "same"):
        after_201, after_send = [], []
        lost = 0
        streams = [s for s in report if s["label"] == label]
        for write in writes:
            for stream in streams:
                if stream["user"] != write.user:
                    continue
                seen = stream["seen"].get(write.task_id)
                if seen is None:
                    lost += 1
                    if len(out["lost_samples"]) < 10:
                        out["lost_samples"].append(
                            {"task_id": write.task_id, "port": stream["port"], "label": label}
                        )
                    continue
                after_201.append(seen - write.answered)
                after_send.append(seen - write.sent)
        out[label] = {
            "streams": len(streams),
            "after_201": percentiles(after_201),
            "after_send": percentiles(after_send),
            "lost": lost,
            "events": sum(s["events"] for s in streams),
            "comments": sum(s["comments"] for s in streams),
            "closed_by_server_or_broken": sum(s["closes"] for s in streams),
            "duplicates": sum(s["duplicates"] for s in streams),
            "resets": sum(s["resets"] for s in streams),
            "refused": [s["refused"] for s in streams if s["refused"]],
        }
        out["lost"] += lost
    return out


# --- Main ---------------------------------------------------------------------------------


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", nargs="?", default="all", choices=["all", "capacity", "latency"])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_live")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--open-concurrency", type=int, default=50, help="streams opening at once")
    parser.add_argument("--open-timeout", type=float, default=120.0)
    parser.add_argument(
        "--wakeups",
        choices=["listen", "poll"],
        default="listen",
        help="listen: EVENTS_LISTEN_URL names the database (LISTEN/NOTIFY on a direct "
        "connection); poll: left unset, so each web process polls the events table",
    )
    capacity_ = parser.add_argument_group("capacity")
    capacity_.add_argument("--users", type=int, default=50, help="users holding idle streams")
    capacity_.add_argument("--streams-per-user", type=int, default=None, help="20; latency: 4")
    capacity_.add_argument("--rounds", type=int, default=5)
    capacity_.add_argument("--scenarios", default="list,list-deep,get,toggle,update,create,mixed")
    capacity_.add_argument("--duration", type=float, default=6.0, help="measured seconds")
    capacity_.add_argument("--warmup", type=float, default=1.5)
    capacity_.add_argument("--connections", type=int, default=16, help="wrk's")
    capacity_.add_argument("--harness-users", type=int, default=4)
    capacity_.add_argument("--tasks-per-user", type=int, default=1000)
    capacity_.add_argument("--quiet-wait", type=float, default=10.0)
    capacity_.add_argument("--settle", type=float, default=5.0, help="seconds before an RSS read")
    capacity_.add_argument(
        "--idle-seconds", type=float, default=60.0, help="CPU of idle streams, measured"
    )
    capacity_.add_argument("--port", type=int, default=8021)
    capacity_.add_argument("--server-cpus", default="0")
    capacity_.add_argument("--other-cpus", default="1", help="wrk, PostgreSQL, stream holder")
    capacity_.add_argument("--worker-connections", type=int, help="GUNICORN_WORKER_CONNECTIONS")
    capacity_.add_argument(
        "--close-batch", type=int, default=50, help="streams closed at once (0: all)"
    )
    capacity_.add_argument("--close-pause", type=float, default=0.5, help="seconds between")
    capacity_.add_argument(
        "--slot-wait", type=float, default=30.0, help="seconds for the slots to be freed"
    )
    capacity_.add_argument(
        "--shared-bench",
        default=os.environ.get("SHARED_BENCH", str(ROOT.parent / "shared" / "bench")),
    )
    capacity_.add_argument(
        "--bench-cache",
        default=os.environ.get(
            "BENCH_CACHE",
            str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "todo-bench"),
        ),
    )
    latency_ = parser.add_argument_group("latency")
    latency_.add_argument("--ports", default="8011,8012", help="masters A (writes) and B")
    latency_.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY of each")
    latency_.add_argument("--writers", type=int, default=5, help="users who write and listen")
    latency_.add_argument("--writes", type=int, default=1000)
    latency_.add_argument("--rate", type=float, default=25.0, help="writes per second")
    latency_.add_argument("--drain", type=float, default=15.0)
    latency_.add_argument("--transport", choices=["sse", "poll"], default="sse")
    latency_.add_argument("--poll-interval", type=float, default=0.5)
    args = parser.parse_args()
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    args.ports = [int(p) for p in args.ports.split(",")]
    return args


def main() -> int:
    args = options()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    for tool in ("wrk", "taskset", "psql"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install wrk util-linux postgresql-client")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(args.results_dir) / f"live-{stamp}"
    out_dir.mkdir(parents=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    doc: dict[str, Any] = {
        "started_at": stamp,
        "commit": commit,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "argv": sys.argv[1:],
        "wakeups": args.wakeups,
    }
    harness = load_harness(args) if args.part in ("all", "capacity") else None
    status = 0
    try:
        with fresh_database(args.pg, args.db, keep=args.keep_db):
            migrate = [sys.executable, "manage.py", "migrate", "-v0"]
            subprocess.run(migrate, cwd=ROOT, env=service_env(), check=True)
            if args.part in ("all", "capacity"):
                args.streams_per_user = args.streams_per_user or 20
                capacity(args, out_dir, harness, doc.setdefault("capacity", {}))
                args.streams_per_user = None
            if args.part in ("all", "latency"):
                args.streams_per_user = args.streams_per_user or 4
                latency(args, out_dir, doc.setdefault("latency", {}))
    finally:
        doc["machine"]["load_average_after"] = os.getloadavg()
        (out_dir / "live.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    status = summary(doc)
    print(f"results: {out_dir}")
    return status


def summary(doc: dict[str, Any]) -> int:
    status = 0
    capacity_ = doc.get("capacity")
    if capacity_:
        print(f"capacity: {capacity_['streams']} idle streams on one worker")
        for m in capacity_["memory"]:
            print(
                f"  RSS {m['rss_before_kib']} -> {m['rss_open_kib']} KiB: "
                f"{m['kib_per_stream']} KiB per stream ({m['open']['ready']} open)"
            )
        for state, cost in capacity_.get("idle", {}).items():
            print(
                f"  idle, {state} streams: worker {cost['worker_cpu_pct']}% of a core, "
                f"PostgreSQL {cost['postgres_cpu_pct']}%"
            )
        print(
            f"  {'scenario':<10} {'with req/s':>11} {'without':>9} {'ratio':>6}  per round"
            "  | per worker CPU: ratio, per round"
        )
        for row in capacity_["rows"]:
            print(
                f"  {row['scenario']:<10} {row['with']['rps_median']:>11.1f} "
                f"{row['without']['rps_median']:>9.1f} {row['ratio']:>6.2f}  "
                + " ".join(f"{r:.2f}" for r in row["ratios"])
                + f"  | {row['per_cpu_ratio']:.2f}  "
                + " ".join(f"{r:.2f}" for r in row["per_cpu_ratios"])
            )
        worst = min((r["ratio"] for r in capacity_["rows"]), default=0)
        print(f"  worst ratio {worst:.2f} (bar 0.90); log: {capacity_['log']['problem_lines']}")
        if capacity_["invalid"]:
            print(f"  INVALID: {capacity_['invalid']}")
            status = 3
        if capacity_.get("problems"):
            print(f"  problems: {capacity_['problems']}")
            status = status or 1
    latency_ = doc.get("latency")
    if latency_ and "cross" in latency_:
        print(
            f"latency ({latency_['transport']}): {latency_['writes']} writes at "
            f"{latency_['rate_per_s']}/s, {latency_['writing']['statuses']}"
        )
        for label in ("cross", "same"):
            group = latency_[label]
            a, s = group["after_201"], group["after_send"]
            print(
                f"  {label:<5} {group['streams']} streams: after the 201 p50 {a.get('p50_ms')} "
                f"p99 {a.get('p99_ms')} max {a.get('max_ms')} ms; after the send p50 "
                f"{s.get('p50_ms')} p99 {s.get('p99_ms')} max {s.get('max_ms')} ms; "
                f"lost {group['lost']}"
            )
        print(
            f"  lost {latency_['lost']}; logs: "
            + "; ".join(f"{k} {v['problem_lines']}" for k, v in latency_["logs"].items())
        )
        failed = latency_["writing"]["statuses"].keys() - {"201"}
        if latency_["lost"] or failed or latency_.get("problems"):
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
