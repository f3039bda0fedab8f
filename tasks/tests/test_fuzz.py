"""Schemathesis against the service's own OpenAPI document, on a live gunicorn on
PostgreSQL with a valid token: every operation, valid and invalid data, stateful
sequences along the schema's links, every check (no 5xx, statuses, content types,
headers and bodies as documented). Settings: schemathesis.toml beside this file;
FUZZ_MAX_EXAMPLES overrides its examples per operation.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tasks.filters import SORT_CHOICES
from tasks.queries import TRASH_SORT
from testing.chat_model import running_chat_model
from testing.live import ROOT, fetch, fetch_json, live_service, live_token, service_env
from testing.postgres import needs_postgres, scratch_postgres

pytestmark = needs_postgres

CONFIG = Path(__file__).with_name("schemathesis.toml")


def cursors_by_sort(base: str, token: str) -> dict[str, str]:
    """A real cursor for every sort of the list and for the trash's, from the `Link`
    of a one-task first page."""
    for title in ("first", "second", "trashed first", "trashed second"):
        status, task = fetch_json(
            f"{base}/api/me/tasks", token, method="POST", body={"title": title}
        )
        assert status == 201
        if title.startswith("trashed"):
            fetch(f"{base}/api/me/tasks/{task['id']}", token, method="DELETE")
    pages = {sort: f"/api/me/tasks?sort={sort}&limit=1" for sort in SORT_CHOICES}
    pages[TRASH_SORT] = "/api/me/trash?limit=1"
    cursors = {}
    for sort, page in pages.items():
        _, headers, _ = fetch(f"{base}{page}", token)
        next_url = headers["Link"][1 : headers["Link"].index(">")]
        cursors[sort] = parse_qs(urlparse(next_url).query)["cursor"][0]
    return cursors


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, str]]:
    with scratch_postgres() as database, running_chat_model() as model:
        model.fallback = "Noted."  # the chat route answers, and never leaves loopback
        env = service_env(
            DATABASE_URL=database,
            RATE_LIMIT_USER="off",
            RATE_LIMIT_ANON="off",
            CHAT_API_BASE_URL=model.url,
            CHAT_MODEL="scripted",
        )
        with live_service(env) as base:
            yield base, live_token(env, "fuzzer")


def test_schemathesis_finds_nothing(service: tuple[str, str], tmp_path: Path) -> None:
    base, token = service
    env = {
        **os.environ,
        "FUZZ_CURSORS": json.dumps(cursors_by_sort(base, token)),
        "FUZZ_SINCE": fetch_json(f"{base}/api/me/changes", token)[1]["next"],
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/schema/",
        "--header",
        f"Authorization: Bearer {token}",
        "--no-color",
    ]
    if examples := os.environ.get("FUZZ_MAX_EXAMPLES"):
        command += ["--max-examples", examples]

    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)

    print(run.stdout)  # phases and counts, for `pytest -s`
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
