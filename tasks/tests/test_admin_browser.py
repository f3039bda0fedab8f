"""The support walkthrough once more, in headless Chromium against gunicorn.

Needs Debian's `chromium` and `npm ci --prefix interop` (for playwright-core, which
drives the installed browser; nothing is downloaded). Skipped where either is
missing. `docs/admin-support.png` is a screenshot from this walkthrough.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from testing.live import INTEROP, ROOT, live_service, needs_browser, service_env
from testing.postgres import database_independent

SEED = """
from django.contrib.auth.models import Group, User
from accounts.models import BetterAuthUser
from tasks.tests.factories import TaskFactory
staff = User.objects.create_user("sam", password="a support password 123", is_staff=True)
staff.groups.add(Group.objects.get(name="support"))
ann = BetterAuthUser.objects.create(id="Yk3uJ0bq8XyW2mQp", email="ann@example.com", name="Ann")
for title in ("Pay rent", "Call mum", "Renew passport"):
    TaskFactory.create(user_id=ann.id, title=title)
"""


@needs_browser
@database_independent  # the service runs on an SQLite file of its own
def test_support_walkthrough_in_a_real_browser(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with live_service(env) as base:
        manage = [sys.executable, "manage.py", "shell", "-v0", "-c", SEED]
        subprocess.run(manage, cwd=ROOT, env=env, check=True)
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

    seen = json.loads(walkthrough.stdout.strip().splitlines()[-1])
    assert seen["usersFound"] == 1
    assert seen["tasksListed"] == 3
    assert seen["message"] == "3 task(s) marked completed."
    assert seen["stylesheetApplied"] is True
    assert seen["deleteStatus"] == 403
    assert Path(screenshot).stat().st_size > 10_000
