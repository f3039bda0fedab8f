"""The service as a real process on loopback, and the one HTTP client that calls it."""

import importlib.util
import json
import os
import secrets
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Node packages the interop tests run (Better Auth, playwright-core), installed by `make test`.
INTEROP = ROOT / "interop"


def interop_installed() -> bool:
    """Whether `make test` could install interop/ (it needs npm and its registry)."""
    return (INTEROP / "node_modules" / ".installed").is_file()


def require_node() -> None:
    """Skip without interop/'s packages; in CI, where `make test` must have installed
    them, fail instead."""
    if interop_installed():
        return
    message = "interop/ is not installed (npm or its registry missing): run `make test`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


needs_browser = pytest.mark.skipif(
    not shutil.which("chromium") or not interop_installed(),
    reason="needs Debian's chromium and `npm ci --prefix interop`",
)


def load_script(path: str) -> ModuleType:
    """A script of the repository (e.g. `bench/seed.py`), imported as a module."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What a clone doesn't have: what `make` installs or builds, and local state (tools'
# caches and coverage data among it).
NOT_IN_A_CLONE = shutil.ignore_patterns(
    *(".git", ".venv*", "node_modules", "staticfiles", "*.sqlite3*", ".env", "__pycache__"),
    *("results", ".*_cache", ".coverage", ".coverage.*", "htmlcov"),
)


def copy_checkout(destination: Path) -> Path:
    """The checkout's files at `destination`, as a fresh clone has them (this
    virtualenv runs them); `destination`."""
    shutil.copytree(ROOT, destination, ignore=NOT_IN_A_CLONE)
    return destination


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 60) -> None:
    """Poll `url` until the server behind it answers at all."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def service_env(**settings: str) -> dict[str, str]:
    """An environment for the service in a subprocess: fresh secrets, plain HTTP, and
    neither the developer's `.env` nor their shell's settings."""
    return {
        # The virtualenv's python and gunicorn first, as on a platform.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "BETTER_AUTH_SECRET": secrets.token_urlsafe(40),
        "VAPID_PRIVATE_KEY": load_script("scripts/ensure_env.py").vapid_private_key(),
        "VAPID_SUBJECT": "mailto:tests@example.com",
        "SECURE_HTTPS": "false",
        # Most live tests run on a SQLite file of their own, without Redis.
        "ALLOW_SQLITE_IN_PRODUCTION": "true",
        "RATE_LIMIT_STORE": "per-process",
        **settings,
    }


@contextmanager
def live_service(env: dict[str, str], *command: str) -> Iterator[str]:
    """Migrate, then run gunicorn's `command` (default: the Procfile's web) on loopback;
    yield its URL.

    Nothing the server holds is shared with another test or another checkout's suite
    running at the same time: it serves on a socket this function bound (handed over
    as gunicorn's `fd://`, so no other process can take the port between a probe and
    the bind), and has a temp directory of its own (TMPDIR, unless `env` names one)."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    web = command or (sys.executable, "-m", "gunicorn", "todo_project.asgi")
    with (
        socket.socket() as listener,
        tempfile.TemporaryDirectory(prefix="todo-live-") as own_tmp,
    ):
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server_env = {
            "TMPDIR": own_tmp,
            **env,
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind fd://{listener.fileno()}",
        }
        server = subprocess.Popen(web, cwd=ROOT, env=server_env, pass_fds=[listener.fileno()])
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def live_token(env: dict[str, str], sub: str = "u1") -> str:
    """A token the service started with `env` accepts, for `sub`, valid for a day."""
    claims = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + 86400}
    return jwt.encode(claims, env["BETTER_AUTH_SECRET"], algorithm="HS256")


def fetch(
    url: str,
    token: str | None = None,
    *,
    method: str = "GET",
    body: Any = None,
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP call to a live service: status, headers and raw body, errors included.
    A `body` is sent as JSON; bytes are sent as they are, with the headers given."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body
    if body is not None and not isinstance(body, bytes):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def fetch_json(url: str, token: str | None = None, **options: Any) -> tuple[int, Any]:
    """`fetch`, with the body parsed as JSON (None when empty)."""
    status, _, raw = fetch(url, token, **options)
    return status, json.loads(raw) if raw else None


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Run `server` (a test's stand-in for a service, on loopback) in a thread for the
    block; shut it down and close its socket after."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
