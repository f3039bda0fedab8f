"""The API docs in a real browser (headless Chromium): drawn, and talking to no other origin."""

import json
import subprocess
from pathlib import Path

from testing.live import INTEROP, live_service, needs_browser, service_env
from testing.postgres import database_independent


@needs_browser
@database_independent  # the service runs on an SQLite file of its own
def test_docs_pages_render_and_send_nothing_to_another_origin(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with live_service(env) as base:
        run = subprocess.run(
            ["node", "docs_pages.mjs", base],
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    seen = json.loads(run.stdout)
    for page in ("/api/docs/", "/api/redoc/"):
        assert seen[page]["operations"] >= 7, page
        assert [url for url in seen[page]["sent"] if not url.startswith((base, "blob:"))] == []
    # Redoc's bundle draws the CDN's logo in its footer; the CSP stops it in the browser.
    assert seen["/api/redoc/"]["blocked"] == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
