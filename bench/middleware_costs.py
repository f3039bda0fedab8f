"""CPU instructions each middleware adds to one request, counted by valgrind.

    .venv/bin/python bench/middleware_costs.py                  # GET /tasks/{id}
    .venv/bin/python bench/middleware_costs.py --scenario toggle

One process under `valgrind --tool=callgrind` builds a WSGI handler with the full
MIDDLEWARE, one without each middleware in turn, and one with none, warms each up,
then serves 150 requests through each between a reset and a dump of callgrind's
counters (`callgrind_control -z` / `-d`). It prints instructions per request of
every handler and the difference to the full stack: what that middleware costs.
Same settings and database as bench/instructions.py; needs valgrind.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from instructions import ROOT, WARM_UP, request_function, scratch_database

COUNT = 150


def serve(scenario: str) -> None:
    """The measured process: one handler per MIDDLEWARE variant, measured in turn."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    full = list(settings.MIDDLEWARE)
    variants = {"all": full, "none": []}
    variants |= {f"-{path.rsplit('.', 1)[1]}": [m for m in full if m != path] for path in full}
    handlers = {}
    for label, middleware in variants.items():
        settings.MIDDLEWARE = middleware
        handlers[label] = WSGIHandler()
    settings.MIDDLEWARE = full
    requests = {label: request_function(scenario, handler) for label, handler in handlers.items()}
    for request in requests.values():
        for _ in range(WARM_UP):
            request()
    pid = str(os.getpid())
    for index, (label, request) in enumerate(requests.items()):
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
        for _ in range(COUNT):
            request()
        # The dump is named "m<index>": callgrind_control would read a leading "-" in a
        # label as an option, and a bare number as a process id.
        subprocess.run(
            ["callgrind_control", "-d", f"m{index}", pid], check=True, capture_output=True
        )
        print(f"{index} {label}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="get", choices=["get", "toggle", "create"])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_middleware")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    env = scratch_database(args.pg, args.db)
    with tempfile.TemporaryDirectory(prefix="middleware-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--serve", args.scenario]
        run = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        labels = dict(line.split(" ", 1) for line in run.stdout.splitlines())
        counts = {}
        for dump in Path(tmp).glob("callgrind.out.*"):
            text = dump.read_text()
            trigger = re.search(r"^desc: Trigger: dump m(\d+)$", text, re.MULTILINE)
            summary = re.search(r"^summary: (\d+)$", text, re.MULTILINE)
            if trigger and summary:
                counts[labels[trigger.group(1)]] = int(summary.group(1)) / COUNT
    full = counts["all"]
    for label, count in sorted(counts.items(), key=lambda item: item[1]):
        print(f"{label:<38} {count:>12,.0f} instructions/request {count - full:>+10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
