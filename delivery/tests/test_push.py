"""delivery.push: pushes reach the browser encrypted and signed, failures are retried or
given up as the push service's answer says, and nothing is ever sent to an address
that isn't public. Every push here goes to a loopback push service that decrypts and
verifies it as a browser and a push service would."""

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection
from django.utils import timezone

from accounts.models import BetterAuthUser
from accounts.tests.factories import UserFactory
from delivery import http, push
from delivery.addresses import AddressRefused, check_url
from delivery.models import PushFailure, PushMessage, PushOutcome, PushSubscription
from testing.live import free_port
from testing.postgres import needs_postgres
from testing.push_service import (
    BrowserSubscription,
    PushService,
    browser_subscription,
    running_push_service,
)

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "type": "reminder",
    "notification_id": 17,
    "task": {"id": 42, "title": "Buy oat milk", "due_date": "2030-06-01T17:00:00Z"},
    "remind_at": "2030-06-01T16:30:00Z",
}


@pytest.fixture
def user() -> BetterAuthUser:
    return UserFactory.create()


@pytest.fixture
def service(settings: Any) -> Iterator[PushService]:
    settings.PUSH_ALLOW_LOOPBACK = True
    with running_push_service(push.public_key() or "") as running:
        yield running


def subscribe(user: BetterAuthUser, browser: BrowserSubscription) -> PushSubscription:
    return PushSubscription.objects.create(
        user=user, endpoint=browser.endpoint, **browser.to_json()["keys"]
    )


def enqueue(user: BetterAuthUser, **overrides: Any) -> int:
    fields = {"payload": PAYLOAD, "topic": "reminder-17", "ttl": 3600, **overrides}
    return push.enqueue(user_id=user.id, **fields)


# --- Delivery ----------------------------------------------------------------------------


def test_a_push_reaches_the_browser_decrypted_signed_and_with_its_headers(
    service: PushService, user: BetterAuthUser, settings: Any
) -> None:
    subscribe(user, service.subscribe())

    assert enqueue(user, urgency="high") == 1
    assert push.deliver_due() == 1

    (received,) = service.received
    assert received.problem is None
    assert received.payload == PAYLOAD
    assert received.claims is not None
    assert received.claims["sub"] == settings.VAPID_SUBJECT
    assert received.claims["aud"] == service.url
    assert received.claims["exp"] > timezone.now().timestamp()
    assert received.headers["content-encoding"] == "aes128gcm"
    assert 3590 <= int(received.headers["ttl"]) <= 3600
    assert received.headers["urgency"] == "high"
    assert received.headers["topic"] == "reminder-17"
    assert not PushMessage.objects.exists()
    assert not PushFailure.objects.exists()


def test_each_of_the_users_browsers_gets_it_and_no_one_elses(
    service: PushService, user: BetterAuthUser
) -> None:
    subscribe(user, service.subscribe())
    subscribe(user, service.subscribe())
    subscribe(UserFactory.create(), service.subscribe())

    assert enqueue(user) == 2
    assert push.deliver_due() == 2

    assert [received.payload for received in service.received] == [PAYLOAD, PAYLOAD]


def test_datetimes_in_the_payload_arrive_as_iso_8601(
    service: PushService, user: BetterAuthUser
) -> None:
    subscribe(user, service.subscribe())
    remind_at = timezone.now().replace(microsecond=0)

    enqueue(user, payload={**PAYLOAD, "remind_at": remind_at})
    push.deliver_due()

    assert service.received[0].payload["remind_at"] == remind_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(
    service: PushService, user: BetterAuthUser, status: int
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user)
    enqueue(user, topic="reminder-18")
    service.answer(status)

    push.deliver_due()

    assert not PushSubscription.objects.exists()
    assert not PushMessage.objects.exists()
    assert len(service.received) == 1
    failure = PushFailure.objects.get()
    assert (failure.status_code, failure.endpoint_host) == (status, "127.0.0.1")


def test_a_500_is_retried_with_growing_backoff_and_each_failure_recorded(
    service: PushService, user: BetterAuthUser
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user)
    for _ in range(3):
        service.answer(500)
    now = timezone.now()
    waits = []

    for _ in range(3):
        assert push.deliver_due(now=now) == 1
        message = PushMessage.objects.get()
        waits.append((message.next_attempt_at - now).total_seconds())
        assert push.deliver_due(now=message.next_attempt_at - timedelta(seconds=1)) == 0
        now = message.next_attempt_at

    assert waits == [30, 60, 120]
    assert PushMessage.objects.get().attempts == 3
    assert list(PushFailure.objects.values_list("status_code", flat=True)) == [500] * 3
    assert push.deliver_due(now=now) == 1
    assert service.received[-1].payload == PAYLOAD
    assert not PushMessage.objects.exists()


def test_the_backoff_stops_growing_at_an_hour(
    service: PushService, user: BetterAuthUser, settings: Any
) -> None:
    settings.PUSH_MAX_ATTEMPTS = 20
    subscribe(user, service.subscribe())
    enqueue(user)
    PushMessage.objects.update(attempts=7)
    service.answer(503)
    now = timezone.now()

    push.deliver_due(now=now)

    assert PushMessage.objects.get().next_attempt_at == now + timedelta(hours=1)


@pytest.mark.parametrize("as_date", [False, True])
def test_a_429s_retry_after_is_honoured(
    service: PushService, user: BetterAuthUser, as_date: bool
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user)
    now = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)
    wait = timedelta(seconds=600)
    service.answer(429, Retry_After=format_datetime(now + wait, usegmt=True) if as_date else "600")

    push.deliver_due(now=now)

    assert PushMessage.objects.get().next_attempt_at == now + wait
    assert PushFailure.objects.get().status_code == 429


def test_after_push_max_attempts_it_is_given_up(
    service: PushService, user: BetterAuthUser, settings: Any
) -> None:
    settings.PUSH_MAX_ATTEMPTS = 3
    subscribe(user, service.subscribe())
    enqueue(user, ttl=86400)
    now = timezone.now()

    for _ in range(3):
        service.answer(500)
        push.deliver_due(now=now)
        now += timedelta(hours=1)

    assert push.deliver_due(now=now) == 0
    assert not PushMessage.objects.exists()
    assert PushSubscription.objects.exists()
    assert PushFailure.objects.first().reason.startswith("gave up after 3 attempts: HTTP 500")  # type: ignore[union-attr]
    assert len(service.received) == 3


def test_no_connection_is_retried(user: BetterAuthUser, settings: Any) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True
    subscribe(user, browser_subscription(f"http://127.0.0.1:{free_port()}/push/nobody-home"))
    enqueue(user)

    push.deliver_due()

    assert PushMessage.objects.get().attempts == 1
    failure = PushFailure.objects.get()
    assert failure.status_code is None
    assert failure.reason.startswith("no answer (ConnectionError)")
    assert "nobody-home" not in failure.reason


def test_a_message_whose_ttl_ran_out_while_retrying_is_given_up(
    service: PushService, user: BetterAuthUser
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user, ttl=60)
    PushMessage.objects.update(attempts=1)

    push.deliver_due(now=timezone.now() + timedelta(minutes=2))

    assert service.received == []
    assert not PushMessage.objects.exists()
    assert "TTL" in PushFailure.objects.get().reason


def test_logs_and_failures_name_the_host_never_the_path_or_keys(
    service: PushService, user: BetterAuthUser, caplog: pytest.LogCaptureFixture
) -> None:
    browser = service.subscribe()
    subscribe(user, browser)
    enqueue(user)
    service.answer(500)

    push.deliver_due()

    secret_parts = [browser.endpoint.rsplit("/", 1)[1], *browser.to_json()["keys"].values()]
    records = [str(record.__dict__) for record in caplog.records]
    assert any("127.0.0.1" in record for record in records)
    for part in secret_parts:
        assert all(part not in record for record in records)
        assert not PushFailure.objects.filter(reason__contains=part).exists()


def test_without_a_vapid_key_nothing_is_queued_or_sent(
    service: PushService, user: BetterAuthUser, settings: Any
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user)
    settings.VAPID_PRIVATE_KEY = ""

    assert enqueue(user) == 0
    assert push.deliver_due() == 0
    assert service.received == []
    assert PushMessage.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"topic": ""},
        {"topic": "x" * 33},
        {"topic": "has space"},
        {"topic": "a+b"},
        {"urgency": "urgent"},
        {"ttl": -1},
        {"payload": {"text": "x" * push.MAX_PAYLOAD_BYTES}},
    ],
)
def test_enqueue_refuses_what_no_push_service_takes(user: BetterAuthUser, fields: Any) -> None:
    with pytest.raises(ValueError, match=next(iter(fields)) if "payload" not in fields else "byte"):
        enqueue(user, **fields)


def test_a_worker_killed_mid_send_leaves_its_messages_for_after_the_lease(
    service: PushService, user: BetterAuthUser, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    subscribe(user, service.subscribe())
    enqueue(user)
    now = timezone.now()

    class Killed(BaseException):
        pass

    def die(*args: Any) -> None:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(push, "send", die)
        with pytest.raises(Killed):
            push.deliver_due(now=now)

    lease = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    assert push.deliver_due(now=now + lease - timedelta(seconds=1)) == 0
    assert push.deliver_due(now=now + lease) == 1
    assert [received.payload for received in service.received] == [PAYLOAD]


def test_deliver_due_handles_at_most_limit(service: PushService, user: BetterAuthUser) -> None:
    subscribe(user, service.subscribe())
    for n in range(25):
        enqueue(user, topic=f"t{n}")

    assert push.deliver_due(limit=12) == 12
    assert push.deliver_due() == 13
    assert len(service.received) == 25


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_send_one_message_twice(settings: Any) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True
    user = UserFactory.create()
    with running_push_service(push.public_key() or "") as service:
        service.delay = 0.02
        for _ in range(3):
            subscribe(user, service.subscribe())
        for n in range(12):
            enqueue(user, payload={**PAYLOAD, "notification_id": n}, topic=f"t{n}")
        start = threading.Barrier(2)
        handled: list[int] = []

        def worker() -> None:
            try:
                start.wait()
                handled.append(push.deliver_due())
            finally:
                connection.close()

        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=60)

    sent = [(r.path, r.payload["notification_id"]) for r in service.received]
    assert len(sent) == 36
    assert len(set(sent)) == 36
    assert sorted(handled) != [0, 36]  # both took part
    assert sum(handled) == 36
    assert not PushMessage.objects.exists()


def test_the_connection_goes_to_the_address_checked(
    user: BetterAuthUser, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localhost` resolves (says the resolver here) to 127.0.0.2, where the push
    service is; connecting by the name anew would reach 127.0.0.1, where nothing
    listens."""
    settings.PUSH_ALLOW_LOOPBACK = True
    resolver = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return resolver("127.0.0.2" if host == "localhost" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with running_push_service(push.public_key() or "", host="127.0.0.2") as service:
        browser = service.subscribe(host="localhost")
        subscribe(user, browser)
        enqueue(user)

        push.deliver_due()

    (received,) = service.received
    assert received.problem is None
    assert received.headers["host"] == browser.endpoint.split("/")[2]
    assert received.claims["aud"] == "http://" + browser.endpoint.split("/")[2]  # type: ignore[index]


# --- Where a push may go: never a socket to anything but loopback ------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], None]:
    """Fail any connect or DNS lookup; `resolves({host: [addresses]})` sets what the
    check's resolver answers."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a connection or lookup was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    def resolves(answers: dict[str, list[str]]) -> None:
        monkeypatch.setattr("delivery.addresses.resolve", lambda host: answers[host])

    return resolves


@pytest.mark.parametrize("addresses", [["93.184.216.34"], ["2606:4700::1111", "1.1.1.1"]])
def test_a_host_on_public_addresses_is_allowed(
    no_network: Callable[[dict[str, list[str]]], None], addresses: list[str]
) -> None:
    no_network({"push.example.net": addresses})

    assert check_url("https://push.example.net/send/abc") == addresses[0]


REFUSED = [
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "127.0.0.1",
    "0.0.0.0",  # noqa: S104 (an address to refuse, not to bind)
    "100.64.0.1",
    # Python 3.11.7's tables call it global (CVE-2024-4032): refused by our own list.
    "192.0.0.8",
    "198.18.0.1",
    "2001:db8::1",
    "169.254.169.254",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fec0::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "not an address",
]


@pytest.mark.parametrize("address", REFUSED)
def test_a_host_resolving_to_a_non_public_address_is_refused(
    no_network: Callable[[dict[str, list[str]]], None], address: str
) -> None:
    no_network({"push.example.net": [address]})

    with pytest.raises(AddressRefused, match="not a public address"):
        check_url("https://push.example.net/send/abc")


def test_a_host_resolving_to_public_and_private_addresses_is_refused(
    no_network: Callable[[dict[str, list[str]]], None],
) -> None:
    no_network({"push.example.net": ["93.184.216.34", "10.0.0.1"]})

    with pytest.raises(AddressRefused):
        check_url("https://push.example.net/send/abc")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.net/send/abc",
        "ftp://push.example.net/send/abc",
        "https://10.0.0.1/send/abc",
        "https://[::1]/send/abc",
        "https://[::ffff:10.0.0.1]/send/abc",
        "https://localhost/send/abc",
        "https://a.localhost/send/abc",
        "http://127.0.0.1/send/abc",
    ],
)
def test_a_url_that_is_not_https_to_a_public_host_is_refused_unresolved(
    no_network: Callable[[dict[str, list[str]]], None], endpoint: str
) -> None:
    no_network({})

    with pytest.raises(AddressRefused):
        check_url(endpoint)


def test_loopback_needs_the_flag_and_a_loopback_host(
    no_network: Callable[[dict[str, list[str]]], None], settings: Any
) -> None:
    settings.PUSH_ALLOW_LOOPBACK = True
    no_network(
        {"localhost": ["127.0.0.1", "::1"], "127.0.0.1": ["127.0.0.1"], "evil": ["10.0.0.1"]}
    )

    assert check_url("http://localhost:8080/p") == "127.0.0.1"
    assert check_url("https://127.0.0.1/p") == "127.0.0.1"
    with pytest.raises(AddressRefused):
        check_url("http://evil/p")
    with pytest.raises(AddressRefused):
        check_url("https://evil/p")


def test_a_refused_endpoint_is_never_sent_to_and_its_message_is_dropped(
    no_network: Callable[[dict[str, list[str]]], None], user: BetterAuthUser
) -> None:
    """A name that resolved to a public address when subscribing resolves to a private
    one when sending."""
    no_network({"push.example.net": ["10.0.0.1"]})
    subscribe(user, browser_subscription("https://push.example.net/send/abc"))
    enqueue(user)

    assert push.deliver_due() == 1

    assert not PushMessage.objects.exists()
    assert PushSubscription.objects.exists()
    failure = PushFailure.objects.get()
    assert failure.status_code is None
    assert failure.endpoint_host == "push.example.net"
    assert failure.reason.startswith("refused: push.example.net resolves to 10.0.0.1")


def test_a_failed_dns_lookup_is_retried(
    no_network: Callable[[dict[str, list[str]]], None],
    user: BetterAuthUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_answer(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr("delivery.addresses.resolve", no_answer)
    subscribe(user, browser_subscription("https://push.example.net/send/abc"))
    enqueue(user)

    push.deliver_due()

    assert PushMessage.objects.get().attempts == 1
    assert PushFailure.objects.get().reason.startswith("DNS lookup failed")


@pytest.fixture
def tls_server(tmp_path: Any) -> Iterator[tuple[int, str]]:
    """An HTTPS server on 127.0.0.1 whose certificate names push.example alone; its port
    and the certificate's file (to trust it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("push.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_port, str(cert_file)
    server.shutdown()
    server.server_close()


def test_tls_to_the_checked_address_is_verified_for_the_endpoints_host(
    tls_server: tuple[int, str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both names resolve to 127.0.0.1 (admitted here as loopback hosts), where the
    server's certificate names push.example alone."""
    port, certificate = tls_server
    settings.PUSH_ALLOW_LOOPBACK = True
    monkeypatch.setattr(
        "delivery.addresses.LOOPBACK_HOSTS", frozenset({"push.example", "other.example"})
    )
    resolver = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *args, **kwargs: resolver("127.0.0.1", *args, **kwargs)
    )
    client = http.session()
    client.verify = certificate

    answer = client.post(f"https://push.example:{port}/send/abc", data=b"x", timeout=5)
    assert answer.status_code == 201
    with pytest.raises(requests.exceptions.SSLError):
        client.post(f"https://other.example:{port}/send/abc", data=b"x", timeout=5)


def test_delivery_failures_are_forgotten_after_30_days(user: BetterAuthUser) -> None:
    now = timezone.now()
    for age in (31, 29):
        PushFailure.objects.create(
            user=user,
            endpoint_host="push.example.com",
            outcome=PushOutcome.RETRYING,
            reason="500",
            created_at=now - timedelta(days=age),
        )

    assert push.forget_old_attempts(now=now) == 1
    assert PushFailure.objects.count() == 1
