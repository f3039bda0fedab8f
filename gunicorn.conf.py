"""gunicorn's settings for production (the Procfile's `web`), all from the environment.

gunicorn reads this file from the working directory by itself.
"""

import os
import resource
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Connections the kernel queues for a worker to accept (todo_project/http_worker.py
# keeps it past asyncio's own 100).
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# gunicorn's asyncio worker, so that a slow client holds a connection, never a thread;
# the application (todo_project/asgi.py) runs Django on GUNICORN_THREADS threads.
worker_class = "todo_project.http_worker.BoundedConnectionWorker"
# Open connections per worker, live streams (live/) and API calls together; one more is
# closed at once (todo_project/http_worker.py).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "4000"))
# File descriptors a worker needs beside its connections: database connections, the
# listening socket, logs, the metrics files.
SPARE_FILES = 256
# A worker whose event loop stops answering for this long is restarted. A request's
# thread is bounded by the database's statement timeout (DB_STATEMENT_TIMEOUT_MS).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, staggered, so no slow leak grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))
# The longest valid list URL (200-character search, 50-character tag, a cursor after
# a 200-character title, all of it 4-byte UTF-8) is about 4.6 KB: over gunicorn's
# 4094-byte default, within this, its maximum.
limit_request_line = 8190
# A header field may be 16 KiB: an Authorization header with the largest token the
# service takes (8 KiB, accounts.authentication) fits with room to spare.
limit_request_field_size = 16384
# Parse request heads in C (gunicorn_h1c); "fast" refuses to start without it rather
# than falling back to gunicorn's Python parser.
http_parser = "fast"
# The app logs every request itself, as JSON with its request id.
accesslog = None
errorlog = "-"
control_socket_disable = True

# Metrics from every worker, not just the one a scrape lands on, in a directory of
# this server's own, removed when it stops.
_metrics_dir = None
if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    _metrics_dir = tempfile.mkdtemp(prefix="todo-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def raise_open_files_limit() -> None:
    """Let each process open a file per connection it may hold, as far as the hard
    limit allows: platforms often start the soft one at 1,024, short of
    worker_connections. Workers inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = worker_connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE,
            (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard),
        )


def on_starting(server: object) -> None:
    """Refuse to start, naming every bad setting at once, before any worker boots."""
    raise_open_files_limit()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    django.setup()
    from todo_project.checks import refuse_to_start

    refuse_to_start("web process")


def on_exit(server: object) -> None:
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
