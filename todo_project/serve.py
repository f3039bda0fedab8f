"""The web process (the Procfile's `web`): nginx in front of gunicorn.

gunicorn's threads block on a client that sends its request slowly, and its docs say
not to let clients reach it directly: 16 half-sent headers held every thread of a
worker, and /healthz timed out while they stayed open. nginx reads each request whole,
within its header and body timeouts, before gunicorn sees it, and buffers the answer
out; gunicorn listens on a unix socket that only nginx may reach. nginx passes the
address it was called from in `X-Real-IP`, which is then the client address unless
CLIENT_IP_HEADER names the platform's own header.

`WEB_PROXY=none` serves with gunicorn alone on $PORT, for a platform whose router
already buffers requests (and for a machine without nginx, as `make run` does).

    python -m todo_project.serve
"""

import grp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
django.setup()

from django.conf import settings  # noqa: E402

from todo_project.problems import problem  # noqa: E402

NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {run}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    # A client gets this long to send its headers, and its body between two reads.
    client_header_timeout {header_timeout}s;
    client_body_timeout {body_timeout}s;
    send_timeout 30s;
    keepalive_timeout 5s;
    # As long as gunicorn takes them (limit_request_line, gunicorn.conf.py, 8190 bytes;
    # no valid URL comes near): nginx refuses a longer line itself.
    large_client_header_buffers 4 8k;
    # The app answers an over-long body itself (413 problem+json); nginx only stops
    # what is far beyond it, with the same kind of answer.
    client_max_body_size {body_limit};
    upstream app {{
        server unix:{socket};
        keepalive 32;
        # Below gunicorn's own keep-alive (5 s), so nginx never reuses a connection
        # gunicorn is closing.
        keepalive_timeout 4s;
    }}
    server {{
        {listen}
        error_page 413 = @too_large;
        error_page 502 504 = @unavailable;
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Real-IP $remote_addr;
            # Longer than gunicorn's worker timeout, which ends a stuck request first.
            proxy_read_timeout 120s;
            proxy_buffering on;
            proxy_request_buffering on;
        }}
        location @too_large {{
            default_type application/problem+json;
            return 413 '{too_large}';
        }}
        location @unavailable {{
            default_type application/problem+json;
            add_header Retry-After 5 always;
            return 503 '{unavailable}';
        }}
    }}
}}
"""


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _listen(host: str, port: str) -> str:
    """nginx's listen lines: every address, IPv6 too where the machine has it, or one."""
    if host != "0.0.0.0":  # noqa: S104 (the platform's router reaches the app there)
        return f"listen {host}:{port};"
    return f"listen {port};" + (f" listen [::]:{port};" if _ipv6() else "")


# Started as root (as in many containers), nginx serves as this user and group; the
# group alone may reach gunicorn's socket besides its owner.
NGINX_WORKER = ("nobody", "nogroup")


def _worker_gid() -> int | None:
    """The group nginx's workers run as, when it differs from this process's (as root)."""
    return grp.getgrnam(NGINX_WORKER[1]).gr_gid if os.geteuid() == 0 else None


def nginx_conf(run: Path, upstream: Path, host: str, port: str) -> str:
    return NGINX_CONF.format(
        user=f"user {' '.join(NGINX_WORKER)};" if _worker_gid() is not None else "",
        run=run,
        socket=upstream,
        listen=_listen(host, port),
        header_timeout=settings.WEB_HEADER_TIMEOUT_SECONDS,
        body_timeout=settings.WEB_BODY_TIMEOUT_SECONDS,
        body_limit=4 * settings.MAX_BODY_BYTES,
        too_large=json.dumps(problem(413, "The request body is too large.")),
        unavailable=json.dumps(problem(503, "The service is starting or restarting; try again.")),
    )


def _run_directory(path: Path) -> None:
    """Only this user, and nginx's workers when they run as another, may reach the
    socket in `path`: gunicorn trusts X-Real-IP from whatever connects to it."""
    gid = _worker_gid()
    if gid is not None:
        os.chown(path, -1, gid)
        path.chmod(0o750)
    else:
        path.chmod(0o700)


def _wait_for(path: Path, gunicorn: subprocess.Popen[bytes]) -> None:
    while not path.exists():
        if gunicorn.poll() is not None:
            sys.exit(gunicorn.returncode)
        time.sleep(0.05)


def serve() -> int:
    """Run gunicorn, and nginx in front of it, until one of them stops or a signal
    comes; the exit status is that of the first to stop."""
    host, port = os.environ.get("HOST", "0.0.0.0"), os.environ.get("PORT", "8000")  # noqa: S104
    gunicorn = [sys.executable, "-m", "gunicorn", "todo_project.wsgi"]
    if settings.WEB_PROXY == "none":
        os.execv(sys.executable, gunicorn)
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if nginx is None:
        sys.exit(
            "nginx is not installed: install it, or set WEB_PROXY=none if the "
            "platform's router buffers requests before they reach the app."
        )
    with tempfile.TemporaryDirectory(prefix="todo-web-") as directory:
        run = Path(directory)
        _run_directory(run)
        upstream = run / "gunicorn.sock"
        conf = run / "nginx.conf"
        conf.write_text(nginx_conf(run, upstream, host, port))
        conf.chmod(0o600)
        env = {**os.environ, "GUNICORN_BIND": f"unix:{upstream}", "GUNICORN_UMASK": "0o007"}
        if not settings.CLIENT_IP_HEADER:
            env |= {"CLIENT_IP_HEADER": "X-Real-IP", "TRUSTED_PROXY_COUNT": "1"}
        children: list[subprocess.Popen[bytes]] = []

        def stop(_signum: int, _frame: object) -> None:
            for child, graceful in zip(children, (signal.SIGTERM, signal.SIGQUIT), strict=False):
                child.send_signal(graceful)  # gunicorn's graceful stop, then nginx's

        # Before the children start, so a stop signal never orphans them; each child in a
        # session of its own, so a signal to this process group reaches them only as sent.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
        app = subprocess.Popen(gunicorn, env=env, start_new_session=True)
        children.append(app)
        _wait_for(upstream, app)
        if (gid := _worker_gid()) is not None:
            os.chown(upstream, -1, gid)  # gunicorn made it its own group's
        proxy = subprocess.Popen([nginx, "-p", str(run), "-c", str(conf)], start_new_session=True)
        children.append(proxy)
        while app.poll() is None and proxy.poll() is None:
            time.sleep(0.2)
        first = app if app.poll() is not None else proxy
        for process in (proxy, app):
            if process.poll() is None:
                process.terminate()
            process.wait()
        return first.returncode


if __name__ == "__main__":
    sys.exit(serve())
