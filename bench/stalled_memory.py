"""Memory of a web worker holding clients that never read their answers.

    python bench/stalled_memory.py [--clients 30] [--path /static/...]

Starts the Procfile's web (one worker, SQLite in a temp dir), reads the worker's RSS,
opens CLIENTS connections that each pipeline 20 asks for PATH with a 2 KiB receive
buffer and never read, waits, and reads the RSS again: the growth per stalled
connection is what one costs the worker while the send timeout runs.
"""

import argparse
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from testing.live import service_env, wait_until_up  # noqa: E402


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--path", default="/api/docs/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = service_env(
            DATABASE_URL=f"sqlite:///{scratch}/db.sqlite3",
            WEB_CONCURRENCY="1",
            WEB_SEND_TIMEOUT_SECONDS="600",
            PORT="8131",
            SECRET_KEY=secrets.token_urlsafe(50),
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "todo_project.asgi"], cwd=ROOT, env=env
        )
        try:
            wait_until_up("http://127.0.0.1:8131/healthz")
            worker = int(
                Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0]
            )
            time.sleep(1)
            before = rss_kib(worker)
            held = []
            for _ in range(args.clients):
                connection = socket.socket()
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
                connection.connect(("127.0.0.1", 8131))
                connection.sendall(
                    f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * 20
                )
                held.append(connection)
            time.sleep(5)
            after = rss_kib(worker)
            growth = (after - before) / args.clients
            print(f"{args.clients} stalled clients on {args.path}: worker RSS {before} KiB")
            print(f"  -> {after} KiB, {growth:.0f} KiB per connection")
            for connection in held:
                connection.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
