"""The web process (the Procfile's `web`): nginx in front of gunicorn.

gunicorn's threads block on a client that sends its request slowly, and its docs say
not to let clients reach it directly: 16 half-sent headers held every thread of a
worker, and /healthz timed out while they stayed open. nginx reads each request whole,
within its header and body timeouts, before gunicorn sees it, and buffers the answer
out; gunicorn listens on a unix socket that only nginx reaches. nginx passes the
address it was called from in `X-Real-IP`, which is then the client address unless
CLIENT_IP_HEADER names the platform's own header.

`WEB_PROXY=none` serves with gunicorn alone on $PORT, for a platform whose router
already buffers requests (and for a machine without nginx, as `make run` does).

    python -m todo_project.serve
"""

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

# The request line may be as long as gunicorn's limit (gunicorn.conf.py), 8190 bytes.
NGINX_CONF = """\
daemon off;
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
    large_client_header_buffers 4 16k;
    # The app answers an over-long body itself (413 problem+json); nginx only stops
    # what is far beyond it, with the same kind of answer.
    client_max_body_size {body_limit};
    upstream app {{
        server unix:{socket};
        keepalive 32;
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
            proxy_read_timeout {read_timeout}s;
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


def nginx_conf(run: Path, upstream: Path, host: str, port: str) -> str:
    return NGINX_CONF.format(
        run=run,
        socket=upstream,
        listen=_listen(host, port),
        header_timeout=settings.WEB_HEADER_TIMEOUT_SECONDS,
        body_timeout=settings.WEB_BODY_TIMEOUT_SECONDS,
        body_limit=4 * settings.MAX_BODY_BYTES,
        read_timeout=int(os.environ.get("GUNICORN_TIMEOUT", "30")) + 5,
        too_large=json.dumps(problem(413, "The request body is too large.")),
        unavailable=json.dumps(problem(503, "The service is starting or restarting; try again.")),
    )


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
        # nginx started as root (as in many containers) serves as `nobody`, which must
        # reach the socket; nobody else can list the directory.
        run.chmod(0o711)
        upstream = run / "gunicorn.sock"
        (run / "nginx.conf").write_text(nginx_conf(run, upstream, host, port))
        env = {**os.environ, "GUNICORN_BIND": f"unix:{upstream}"}
        if not settings.CLIENT_IP_HEADER:
            env |= {"CLIENT_IP_HEADER": "X-Real-IP", "TRUSTED_PROXY_COUNT": "1"}
        app = subprocess.Popen(gunicorn, env=env)
        _wait_for(upstream, app)
        proxy = subprocess.Popen([nginx, "-p", str(run), "-c", str(run / "nginx.conf")])

        def stop(_signum: int, _frame: object) -> None:
            proxy.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            app.send_signal(signal.SIGTERM)  # gunicorn's

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
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
