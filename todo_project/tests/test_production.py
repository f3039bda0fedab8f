"""The service as a platform runs it: the Procfile's gunicorn, on PostgreSQL, with
Redis.

These start real processes. The PostgreSQL ones run in CI's PostgreSQL pass (each
on a database of its own, never the shared one's data); the others run on an SQLite
file of their own, whatever the pass's database, so they run in the SQLite pass
alone. Redis ones need the local Redis (CI starts it).
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tasks.pagination import encode_cursor
from testing.live import ROOT, fetch, fetch_json, live_service, live_token, service_env
from testing.postgres import database_independent, needs_postgres


def redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return bool(os.environ.get("CI"))  # CI must have it: fail there, don't skip


needs_redis = pytest.mark.skipif(not redis_is_up(), reason="needs Redis on 127.0.0.1:6379")


LOCAL_FRONTEND = "http://localhost:3000"


def procfile(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name == process:
            return command.strip()
    raise LookupError(process)


@needs_postgres
def test_gunicorn_as_the_procfile_says_serves_the_api_and_the_admin(postgres_url: str) -> None:
    env = service_env(DATABASE_URL=postgres_url)
    release = subprocess.run(["sh", "-c", procfile("release")], cwd=ROOT, env=env, check=False)
    assert release.returncode == 0

    with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
        status, _, body = fetch(f"{base}/api/me/tasks", live_token(env))
        _, cors, _ = fetch(f"{base}/api/me/tasks", live_token(env), Origin=LOCAL_FRONTEND)
        login_status, login_headers, login_page = fetch(f"{base}/admin/login/")
        stylesheet = re.findall(r'href="(/static/[^"]+\.css)"', login_page.decode())[0]
        css_status, css_headers, _ = fetch(f"{base}{stylesheet}", **{"Accept-Encoding": "gzip"})

    assert (status, json.loads(body)) == (200, [])
    assert "Access-Control-Allow-Origin" not in cors  # only make run's .env allows it
    assert login_status == 200
    assert login_headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert css_status == 200
    assert css_headers["Content-Type"].startswith("text/css")
    assert css_headers.get("Content-Encoding") == "gzip"
    assert "immutable" in css_headers["Cache-Control"]


def longest_valid_list_url() -> str:
    """Every text parameter at its longest in 4-byte characters, and a cursor after a
    title of 200 of them: what a client following `Link` headers can be handed."""
    emoji = "\U0001f600"
    cursor = encode_cursor("title", {"title": emoji * 200, "id": 1})  # type: ignore[typeddict-item]
    query = {
        "search": emoji * 200,
        "tag": emoji * 50,
        "due_before": "2030-01-01T00:00:00.000000+00:00",
        "due_after": "2020-01-01T00:00:00.000000+00:00",
        "status": "completed",
        "priority": "medium",
        "overdue": "false",
        "sort": "title",
        "limit": "200",
        "cursor": cursor,
    }
    return f"/api/{'u' * 255}/tasks?{urlencode(query)}"


@needs_postgres
def test_gunicorn_serves_the_longest_valid_list_url(postgres_url: str) -> None:
    env = service_env(DATABASE_URL=postgres_url)
    url = longest_valid_list_url()

    with live_service(env) as base:
        status, _, body = fetch(f"{base}{url}", live_token(env, "u" * 255))

    assert len(url) > 4094  # gunicorn's default request-line limit
    assert (status, json.loads(body)) == (200, [])


class TcpProxy:
    """A TCP hop to PostgreSQL that the test can cut and restore, like a network outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        for sock in [self._listener, *self._sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._sockets.clear()
        self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass


def admin_login_form(base: str) -> dict[str, Any]:
    """A POST of the admin's login form with its CSRF token: `fetch` keyword arguments."""
    _, headers, page = fetch(f"{base}/admin/login/")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.decode())[0]
    form = {"csrfmiddlewaretoken": token, "username": "support", "password": "wrong"}
    return {
        "body": urlencode(form).encode(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie,
        "Referer": f"{base}/admin/login/",
    }


@needs_postgres
def test_a_database_outage_is_503_and_heals_without_a_restart(postgres_url: str) -> None:
    database = urlsplit(postgres_url)
    proxy = TcpProxy((database.hostname or "", database.port or 5432))
    proxy.start()
    proxied = postgres_url.replace(database.netloc.split("@")[-1], f"127.0.0.1:{proxy.port}")
    env = service_env(
        DATABASE_URL=proxied,
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="1",
        DB_CONNECT_TIMEOUT_SECONDS="2",
    )
    token = live_token(env)

    with live_service(env) as base:
        before = fetch(f"{base}/api/me/tasks", token)
        login_form = admin_login_form(base)
        proxy.cut()
        during = [fetch(f"{base}/api/me/tasks", token) for _ in range(3)]
        ready_during = fetch(f"{base}/readyz")
        admin_during = fetch(f"{base}/admin/login/", method="POST", **login_form)
        proxy.start()
        after = fetch(f"{base}/api/me/tasks", token)
        admin_after = fetch(f"{base}/admin/login/", method="POST", **login_form)
    proxy.cut()

    assert before[0] == 200
    for status, headers, body in during:
        assert status == 503
        assert headers["Content-Type"] == "application/problem+json"
        assert int(headers["Retry-After"]) >= 1
        assert json.loads(body)["status"] == 503
    assert ready_during[0] == 503
    admin_status, admin_headers, admin_page = admin_during
    assert admin_status == 503
    assert admin_headers["Content-Type"].startswith("text/html")
    assert admin_headers["Retry-After"] == "5"
    assert b"try again in 5 seconds" in admin_page
    assert after[0] == 200
    assert admin_after[0] == 200  # the form again, with "wrong password"


@database_independent
@needs_redis
def test_the_rate_limit_holds_across_two_workers_on_redis(tmp_path: Any) -> None:
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CACHE_URL="redis://127.0.0.1:6379/15",
        # Per day, so the counting window can't roll over mid-test.
        RATE_LIMIT_USER="10/d",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
    )
    # A user of this run's own: its counters are apart from any other suite's on this Redis.
    token = live_token(env, sub=f"limited-{uuid.uuid4().hex}")

    with live_service(env) as base:
        statuses = [fetch(f"{base}/api/me/tasks", token, Connection="close")[0] for _ in range(20)]

    assert statuses == [200] * 10 + [429] * 10


@database_independent
def test_deploy_check_is_clean_with_production_settings() -> None:
    env = service_env(
        ALLOWED_HOSTS="api.example.com",
        SECURE_HTTPS="true",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
        METRICS_TOKEN=secrets.token_urlsafe(40),
        VAPID_PRIVATE_KEY="qv5YvQAmzQzPjlWip4pi2r4FgVvfzDwfWh0POLtdH4c",
        VAPID_SUBJECT="mailto:ops@example.com",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


HALF_SENT_HEAD = b"GET /api/me/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
HALF_SENT_BODY = b"POST /api/me/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20\r\n\r\n{"


def held_open(base: str, *starts: bytes) -> list[socket.socket]:
    """Connections a slow or hostile client leaves open, each after sending one of
    `starts` (b"" sends nothing)."""
    address = urlsplit(base).hostname, urlsplit(base).port
    held = []
    for start in starts:
        connection = socket.create_connection(address)
        connection.sendall(start)
        held.append(connection)
    return held


def closed_by_server(connection: socket.socket, within: float) -> bool:
    """Whether the server closes `connection` (after any answer) within `within` s."""
    connection.settimeout(within)
    try:
        while connection.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@database_independent
@pytest.mark.parametrize("workers", ["1", "2"])
def test_slow_clients_do_not_stop_the_service(tmp_path: Path, workers: str) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", WEB_CONCURRENCY=workers)
    with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
        token = live_token(env)
        # Requests stopped mid-head and mid-body (more than there are threads), and
        # connections that never send a byte.
        held = held_open(base, *[HALF_SENT_HEAD] * 40, *[HALF_SENT_BODY] * 8, *[b""] * 12)
        try:
            timings = []
            for _ in range(5):
                for url, credential in ((f"{base}/healthz", None), (f"{base}/api/me/tasks", token)):
                    started = time.monotonic()
                    status = fetch(url, credential)[0]
                    timings.append((status, time.monotonic() - started))
        finally:
            for connection in held:
                connection.close()

    assert {status for status, _ in timings} == {200}
    assert max(seconds for _, seconds in timings) < 2


@database_independent
def test_what_slow_clients_leave_open_is_closed(tmp_path: Path) -> None:
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_HEADER_TIMEOUT_SECONDS="1",
        WEB_BODY_TIMEOUT_SECONDS="1",
    )
    with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
        idle, half_head, half_body = held_open(base, b"", HALF_SENT_HEAD, HALF_SENT_BODY)
        started = time.monotonic()
        closed = [closed_by_server(connection, within=5) for connection in (idle, half_head)]
        seconds = time.monotonic() - started
        half_body.settimeout(5)
        answer = half_body.recv(4096)
        for connection in (idle, half_head, half_body):
            connection.close()

    assert closed == [True, True]
    assert seconds < 4
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"application/problem+json" in answer


@database_independent
def test_connections_beyond_the_limit_are_closed(tmp_path: Path) -> None:
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="1",
        GUNICORN_WORKER_CONNECTIONS="5",
    )
    with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
        held = held_open(base, *[b""] * 5)
        time.sleep(0.5)  # all five accepted
        (one_more,) = held_open(base, b"")
        refused = closed_by_server(one_more, within=3)
        for connection in [*held, one_more]:
            connection.close()
        time.sleep(0.5)
        after = fetch(f"{base}/healthz")[0]

    assert refused
    assert after == 200


@database_independent
def test_a_client_cannot_choose_its_address(tmp_path: Path) -> None:
    """Without CLIENT_IP_HEADER the client is the address that connected, whatever
    X-Real-IP (or X_Real_IP) says, so anonymous rate limits count per real client."""
    # One worker: without Redis, each worker counts for itself.
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        RATE_LIMIT_ANON="2/m",
        WEB_CONCURRENCY="1",
    )
    with live_service(env, "sh", "-c", f"exec {procfile('web')}") as base:
        statuses = [
            fetch(f"{base}/api/me/tasks", **{"X-Real-IP": f"203.0.113.{n}", "X_Real_IP": "x"})[0]
            for n in range(4)
        ]

    # Were the header trusted, each call would count for another address: all 401.
    assert statuses[-2:] == [429, 429]


@database_independent
def test_a_multi_worker_server_leaves_no_metrics_directory_behind(tmp_path: Path) -> None:
    # The server's own temp dir: a server of another test or checkout never shows here.
    server_tmp = tmp_path / "tmp"
    server_tmp.mkdir()
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="2",
        TMPDIR=str(server_tmp),
    )

    with live_service(env) as base:
        assert fetch(f"{base}/healthz")[0] == 200
        during = set(server_tmp.glob("todo-metrics-*"))

    assert len(during) == 1
    assert not any(directory.exists() for directory in during)


@database_independent
def test_every_status_goes_out_with_its_reason_phrase(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", WEB_CONCURRENCY="1")
    token = live_token(env)
    with live_service(env) as base:
        _, task = fetch_json(f"{base}/api/me/tasks", token, method="POST", body={"title": "t"})
        connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        stale = {"Authorization": f"Bearer {token}", "If-Match": '"999"'}
        connection.request("DELETE", f"/api/me/tasks/{task['id']}", headers=stale)
        response = connection.getresponse()
        connection.close()

    assert (response.status, response.reason) == (412, "Precondition Failed")


def raw_exchange(base: str, request: bytes) -> bytes:
    """Send `request` as it is on a new connection; all the server sends until it closes."""
    address = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := connection.recv(65536):
                answer += chunk
    return answer


def status_and_problem(answer: bytes) -> tuple[int, dict[str, Any] | None]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    is_problem = b"content-type: application/problem+json" in head.lower()
    return status, json.loads(body) if is_problem else None


@database_independent
def test_the_servers_own_refusals_are_problems_and_its_limits_fit_the_longest_token(
    tmp_path: Path,
) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", WEB_CONCURRENCY="1")
    longest_token = "a" * 8192  # accounts.authentication's MAX_TOKEN_BYTES
    requests = {
        "no host": b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
        "not http": b"HELLO THERE\r\n\r\n",
        "a 17 KiB header": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        + b"a" * 17 * 1024
        + b"\r\n\r\n",
        "the longest token": b"GET /api/me/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {longest_token}\r\nConnection: close\r\n\r\n".encode(),
    }
    with live_service(env) as base:
        answers = {
            name: status_and_problem(raw_exchange(base, sent)) for name, sent in requests.items()
        }

    assert answers["no host"][0] == 400
    assert answers["not http"][0] == 400
    assert answers["a 17 KiB header"][0] == 431
    assert answers["the longest token"][0] == 401  # read, and refused as a token
    for status, body in answers.values():
        assert body is not None
        assert body["status"] == status


@database_independent
@pytest.mark.parametrize(("allowed", "served"), [("10.9.9.9", False), ("127.0.0.1", True)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    tmp_path: Path, allowed: str, served: bool
) -> None:
    """Plain HTTP saying `X-Forwarded-Proto: https` is redirected, unless it comes from
    an address of FORWARDED_ALLOW_IPS (here loopback, the test's own)."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SECURE_HTTPS="true",
        METRICS_TOKEN=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="api.example.com,127.0.0.1",
        FORWARDED_ALLOW_IPS=allowed,
        WEB_CONCURRENCY="1",
    )
    with live_service(env) as base:
        request = b"GET /api/me/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        request += b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
        status, _ = status_and_problem(raw_exchange(base, request))

    assert status == (401 if served else 301)


@database_independent
def test_the_listen_queue_is_the_configured_backlog(tmp_path: Path) -> None:
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="1",
        GUNICORN_BACKLOG="1500",
    )
    with live_service(env) as base:
        port = urlsplit(base).port
        time.sleep(0.5)  # the worker's servers up
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()

    assert listening[2] == "1500"  # Send-Q of a listening socket: its backlog


@database_independent
def test_one_address_cannot_fill_the_worker(tmp_path: Path) -> None:
    """Connections over WEB_MAX_CONNECTIONS_PER_ADDRESS from one address are closed at
    once; another address (127.0.0.2, loopback too) is still served."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="1",
        WEB_MAX_CONNECTIONS_PER_ADDRESS="5",
        FORWARDED_ALLOW_IPS="10.9.9.9",  # loopback is no proxy here
    )
    with live_service(env) as base:
        address = urlsplit(base).hostname, urlsplit(base).port
        held = held_open(base, *[b""] * 5)
        time.sleep(0.5)  # all five accepted
        (one_more,) = held_open(base, b"")
        refused = closed_by_server(one_more, within=3)
        with socket.create_connection(address, source_address=("127.0.0.2", 0)) as other:
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            other.settimeout(5)
            answer = other.recv(4096)
        for connection in [*held, one_more]:
            connection.close()
        time.sleep(0.5)
        after = fetch(f"{base}/healthz")[0]

    assert refused
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert after == 200


def refused_mid_stream(address: tuple[str | None, int | None], token: str) -> bytes:
    """A 100 KiB PATCH over MAX_BODY_BYTES, pipelined behind a request for the OpenAPI
    document (330 KB) on a client with a 4 KiB receive buffer, and sent on after its
    413 is queued behind that document: what the client reads of the answers. Closed
    at once with the body unread, the server's socket is reset and what it still
    queues for the client (the rest of the document, the 413) is lost."""
    body = b"{" + b" " * 100 * 1024 + b"}"
    ask = b"GET /api/schema/?format=json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    head = (
        f"PATCH /api/me/tasks/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.socket() as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.settimeout(10)
        connection.connect(address)
        connection.sendall(ask + head + body[:16384])
        time.sleep(0.1)  # the 413 queued behind the document, the rest of the body unread
        with contextlib.suppress(OSError):
            connection.sendall(body[16384:])
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                answer += chunk
    return answer


@database_independent
def test_a_body_refused_mid_stream_still_gets_its_answer(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", WEB_CONCURRENCY="1")
    token = live_token(env)
    with live_service(env) as base, ThreadPoolExecutor(max_workers=8) as pool:
        # The document is built once per process: built, it goes out at once, and the
        # PATCH behind it is read before the client sends the rest of its body (a
        # pipelined tail over gunicorn's cap would close the connection unanswered).
        assert fetch(f"{base}/api/schema/?format=json")[0] == 200
        address = urlsplit(base).hostname, urlsplit(base).port
        answers = list(pool.map(lambda _: refused_mid_stream(address, token), range(200)))

    assert sum(b"HTTP/1.1 413 " in answer for answer in answers) == 200


def never_reading(base: str, requests: int = 20) -> socket.socket:
    """A client with a 2 KiB receive buffer that pipelines `requests` asks for the
    OpenAPI document (330 KB each) and never reads an answer."""
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    connection.connect((urlsplit(base).hostname, urlsplit(base).port))
    ask = b"GET /api/schema/?format=json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    connection.sendall(ask * requests)
    return connection


@database_independent
def test_clients_that_never_read_are_closed_within_the_send_timeout(tmp_path: Path) -> None:
    """Issue 25, H1: as many never-reading clients as the worker holds connections, and
    one more, can keep /healthz from answering for no longer than the send timeout."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="1",
        GUNICORN_WORKER_CONNECTIONS="10",
        WEB_SEND_TIMEOUT_SECONDS="2",
    )
    with live_service(env) as base:
        started = time.monotonic()
        stalled = [never_reading(base) for _ in range(11)]
        try:
            answers: list[tuple[float, int]] = []
            while time.monotonic() - started < 8:
                try:
                    answers.append((time.monotonic() - started, fetch(f"{base}/healthz")[0]))
                except OSError:
                    answers.append((time.monotonic() - started, 0))
                time.sleep(0.1)
            closed = [closed_by_server(connection, within=1) for connection in stalled]
        finally:
            for connection in stalled:
                connection.close()

    assert all(closed)
    # Within the send timeout (2 s) and a margin, and from then on, every probe answers.
    assert {status for moment, status in answers if moment > 4} == {200}


@database_independent
def test_kept_responses_stop_at_the_users_quota(tmp_path: Path) -> None:
    """Issue 25, M5, live: creates with new keys are kept until the user's quota of
    kept responses is full; then a new key is a 429 and the same create without one
    is served."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_CONCURRENCY="1",
        MAX_KEPT_RESPONSE_BYTES="4000",
    )
    token = live_token(env)
    with live_service(env) as base:
        statuses = [
            fetch(
                f"{base}/api/me/tasks",
                token,
                method="POST",
                body={"title": f"t{n}"},
                **{"Idempotency-Key": f"key-{n}"},
            )[0]
            for n in range(8)
        ]
        without_a_key = fetch(f"{base}/api/me/tasks", token, method="POST", body={"title": "x"})

    assert statuses[0] == 201
    assert statuses[-1] == 429
    assert statuses == sorted(statuses)  # served until full, refused from then on
    assert without_a_key[0] == 201
