"""The one HTTP client of every outbound call (webhooks, the Dapr sidecar, Web Push),
configured here alone.

- requests-hardened: redirects are never followed (a redirect would go unchecked),
  and each connection goes to the very address its check resolved (TLS still verified
  for the URL's host), so DNS can't change its answer between the check and the
  connect;
- the address rules of delivery.addresses, checked on that address too: https on
  public addresses, loopback only with PUSH_ALLOW_LOOPBACK;
- no proxy from the environment (it would connect elsewhere);
- a total deadline (`deadline`): connecting, sending and reading all count, so a
  receiver that drips its answer a byte at a time is cut off when it runs out, not
  after one read timeout per byte.
"""

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from delivery.addresses import AddressRefused, check_url, is_public

USER_AGENT = "todo-api-delivery/1"
_local = threading.local()


class NoAnswer(Exception):
    """No answer came within the deadline, or no connection could be made."""


class _Deadline:
    """The sockets of one call, shut down when its time runs out: a blocked read or
    write then ends at once, whatever its own timeout."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    current: _Deadline | None = getattr(_local, "deadline", None)
    if current is not None:
        current.watch(sock)


@contextmanager
def deadline(seconds: float | None = None) -> Iterator[None]:
    """Every request this thread makes inside ends within `seconds` (default:
    DELIVERY_TIMEOUT_SECONDS) in all; one cut off raises NoAnswer."""
    limit = _Deadline(settings.DELIVERY_TIMEOUT_SECONDS if seconds is None else seconds)
    _local.deadline = limit
    limit._timer.start()
    try:
        yield
    except requests.RequestException as error:
        if limit.expired:
            raise NoAnswer("no answer within the deadline") from error
        raise
    finally:
        limit._timer.cancel()
        _local.deadline = None
    if limit.expired:
        raise NoAnswer("no answer within the deadline")


class _Watched(HTTPConnection):
    """A connection whose socket the call's deadline watches, from its connect on, or
    from its next request when kept alive."""

    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection, used again
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """Connections under the call's deadline (`deadline`)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _CheckedAdapter(IPFilterAdapter, _DeadlineAdapter):
    """requests-hardened's adapter (it resolves the host, checks the first address
    and connects to it), with our rules before it (every address the host resolves
    to) and on the address it chose, under the call's deadline."""

    def __init__(self, *, https: bool) -> None:
        IPFilterAdapter.__init__(
            self, is_https_proto=https, allow_loopback=settings.PUSH_ALLOW_LOOPBACK
        )

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        check_url(request.url or "")
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        chosen = host_params["host"].strip("[]")
        loopback = settings.PUSH_ALLOW_LOOPBACK and ipaddress.ip_address(chosen).is_loopback
        if not (is_public(chosen) or loopback):
            raise AddressRefused(f"{chosen} is not a public address")
        return host_params, pool_kwargs


def session(*, users_urls: bool = True) -> requests.Session:
    """A new session of the hardened client (one per thread: a Session is not
    shared). `users_urls`: the URLs are users' (webhooks, push endpoints), held to
    delivery.addresses; else they are the deployment's own (the Dapr sidecar, on
    loopback by design), which only redirects and the deadline bound."""
    config = Config(
        ip_filter_enable=False,  # the adapters below are mounted instead
        ip_filter_allow_loopback_ips=settings.PUSH_ALLOW_LOOPBACK,
        never_redirect=True,
        default_timeout=(settings.DELIVERY_TIMEOUT_SECONDS, settings.DELIVERY_TIMEOUT_SECONDS),
        user_agent_override=USER_AGENT,
    )
    opened = HTTPSession(config)
    opened.trust_env = False
    for scheme in ("http://", "https://"):
        adapter = (
            _CheckedAdapter(https=scheme == "https://")
            if users_urls
            else _DeadlineAdapter(max_retries=0)
        )
        opened.mount(scheme, adapter)
    return opened


class Sessions:
    """A delivery thread's two sessions: for users' URLs, and for the deployment's own."""

    def __init__(self) -> None:
        self.users = session()
        self.own = session(users_urls=False)

    def close(self) -> None:
        self.users.close()
        self.own.close()
