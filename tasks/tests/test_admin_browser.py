"""The support walkthrough once more, in headless Chromium against gunicorn.

Needs Debian's `chromium` and `npm ci --prefix interop` (for playwright-core, which
drives the installed browser; nothing is downloaded). Skipped where either is
missing. `docs/admin-support.png` is a screenshot from this walkthrough.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "interop"
SEED = """
from django.contrib.auth.models import Group, User
from accounts.models import BetterAuthUser
from tasks.models import Task
staff = User.objects.create_user("sam", password="a support password 123", is_staff=True)
staff.groups.add(Group.objects.get(name="support"))
ann = BetterAuthUser.objects.create(id="Yk3uJ0bq8XyW2mQp", email="ann@example.com", name="Ann")
for title in ("Pay rent", "Call mum", "Renew passport"):
    Task.objects.create(user=ann, title=title)
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.skipif(
    not shutil.which("chromium") or not (INTEROP / "node_modules" / "playwright-core").is_dir(),
    reason="needs Debian's chromium and `npm ci --prefix interop`",
)
def test_support_walkthrough_in_a_real_browser(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": secrets.token_urlsafe(40),
        "BETTER_AUTH_SECRET": secrets.token_urlsafe(40),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "shell", "-v0", "-c", SEED], cwd=ROOT, env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "todo_project.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_up(f"{base}/healthz")
        screenshot = os.environ.get("ADMIN_SCREENSHOT", str(tmp_path / "admin.png"))
        walkthrough = subprocess.run(
            [
                "node",
                "admin_walkthrough.mjs",
                base,
                "sam",
                "a support password 123",
                "ann@example.com",
                screenshot,
            ],
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        server.kill()
        server.wait()

    seen = json.loads(walkthrough.stdout.strip().splitlines()[-1])
    assert seen["usersFound"] == 1
    assert seen["tasksListed"] == 3
    assert seen["message"] == "3 task(s) marked completed."
    assert seen["stylesheetApplied"] is True
    assert seen["deleteStatus"] == 403
    assert Path(screenshot).stat().st_size > 10_000


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
