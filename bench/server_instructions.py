"""CPU instructions per request of the whole gunicorn worker, counted by valgrind: the
app (what bench/instructions.py counts) plus gunicorn's own work around it.

    .venv/bin/python bench/server_instructions.py          # GET /tasks/{id}

It starts gunicorn as production does (gunicorn.conf.py, one worker, its threads)
under `valgrind --tool=callgrind --trace-children=yes` on a scratch PostgreSQL
database, sends 200 warm-up requests and then N more over one keep-alive
connection, stops it, and reads the worker's total; N = 200 and N = 600 give
(difference) / 400 per request. gunicorn parses with its Python parser here:
valgrind stops on an instruction of gunicorn_h1c. Needs valgrind; a run takes a few
minutes.
"""

import argparse
import http.client
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from instructions import BODY, ROOT, bench_token, scratch_database

PORT = 8020
WARM_UP = 200


def requests_through(port: int, count: int) -> None:
    """`count` requests of GET /tasks/{id}, one after another on one connection."""
    headers = {"Authorization": f"Bearer {bench_token()}", "Content-Type": "application/json"}
    # Under valgrind, and beside other work, the first requests take long.
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    client.request("POST", "/api/me/tasks", body=BODY, headers=headers)
    task_id = json.loads(client.getresponse().read())["id"]
    for _ in range(count):
        client.request("GET", f"/api/me/tasks/{task_id}", headers=headers)
        response = client.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"GET /api/me/tasks/{task_id}: {response.status}")


def worker_instructions(count: int, env: dict[str, str], out: Path) -> int:
    """Instructions of the gunicorn worker over start-up, warm-up and `count` requests."""
    for old in out.glob("callgrind.*"):
        old.unlink()
    command = ["valgrind", "--tool=callgrind", "--trace-children=yes"]
    command += [f"--callgrind-out-file={out}/callgrind.%p", sys.executable, "-m", "gunicorn"]
    command += ["--bind", f"127.0.0.1:{PORT}", "--http-parser", "python", "todo_project.asgi"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(600):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=5).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.5)
        requests_through(PORT, WARM_UP + count)
    finally:
        server.terminate()
        server.wait()
    # The master and the worker each leave a file; the worker served the requests.
    totals = [
        int(match.group(1))
        for path in out.glob("callgrind.*")
        if (match := re.search(r"^summary: (\d+)$", path.read_text(), re.MULTILINE))
    ]
    return max(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_server_instructions")
    args = parser.parse_args()

    env = scratch_database(args.pg, args.db, WEB_CONCURRENCY="1", GUNICORN_MAX_REQUESTS="0")
    with tempfile.TemporaryDirectory(prefix="server-instructions-") as tmp:
        fewer, more = (worker_instructions(n, env, Path(tmp)) for n in (200, 600))
    print(f"get      {(more - fewer) / 400:>12,.0f} instructions/request (gunicorn worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
