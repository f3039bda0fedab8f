"""`make run`'s processes: the Procfile's web and worker side by side, until Ctrl-C.

Each child runs in a session of its own, so the terminal's Ctrl-C reaches this process
alone, which then stops both gracefully (SIGTERM) and waits for them; a second Ctrl-C
kills what is left. When either child stops by itself the other is stopped too, and
the exit status is the first one's.

    python scripts/run_local.py
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = {
    "web": [sys.executable, "-m", "gunicorn", "todo_project.asgi"],
    "worker": [sys.executable, "-m", "todo_project.worker"],
}


def main() -> int:
    """Run every process of PROCESSES until a signal comes or one of them stops."""
    signals: list[int] = []

    def note(signum: int, _frame: object) -> None:
        signals.append(signum)

    # Before the children start, so that a Ctrl-C never leaves one of them orphaned.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, note)
    # The local `.env` (scripts/ensure_env.py) configures them, which the Procfile's
    # processes never read by themselves.
    env = {"DJANGO_READ_DOT_ENV_FILE": "true", **os.environ}
    children = {
        name: subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        for name, command in PROCESSES.items()
    }
    while not signals and all(child.poll() is None for child in children.values()):
        time.sleep(0.1)
    first = next((name for name, child in children.items() if child.poll() is not None), None)
    if first:
        print(f"The {first} process stopped; stopping the others.", file=sys.stderr)
    else:
        print("Stopping the web server and the worker (Ctrl-C again to kill them).", flush=True)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    handled = len(signals)
    while any(child.poll() is None for child in children.values()):
        if len(signals) > handled:
            for child in children.values():
                if child.poll() is None:
                    child.kill()
        time.sleep(0.1)
    return children[first].returncode if first else 0


if __name__ == "__main__":
    sys.exit(main())
