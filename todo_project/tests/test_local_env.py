"""`.env` is the local machine's: `make run` fills it in, the tests never read it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testing.live import ROOT, load_script


def settings_in(env_file: Path) -> dict[str, str]:
    lines = env_file.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_make_run_gets_fresh_secrets_and_the_local_frontends_origins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"

    load_script("scripts/ensure_env.py").ensure_env(env_file, {})

    written = settings_in(env_file)
    assert len(written["SECRET_KEY"]) >= 50
    assert len(written["BETTER_AUTH_SECRET"]) >= 32
    assert written["CORS_ALLOWED_ORIGINS"] == "http://localhost:3000,http://127.0.0.1:3000"
    assert written["SECURE_HTTPS"] == "false"
    assert env_file.stat().st_mode & 0o077 == 0


def test_what_env_or_the_environment_gives_is_kept(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=mine\nCORS_ALLOWED_ORIGINS=https://app.example.com\n")

    written = load_script("scripts/ensure_env.py").ensure_env(
        env_file, {"BETTER_AUTH_SECRET": "from the shell", "SECURE_HTTPS": "true"}
    )

    assert written == []
    assert settings_in(env_file) == {
        "SECRET_KEY": "mine",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    }


def test_the_suites_settings_ignore_a_developers_env(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "todo_project", tmp_path / "todo_project")
    (tmp_path / ".env").write_text("JWT_LEEWAY_SECONDS=999\nRATE_LIMIT_USER=1/d\n")
    show = "import todo_project.test_settings as s; print(s.JWT_LEEWAY_SECONDS, s.RATE_LIMIT_USER)"

    result = subprocess.run(
        [sys.executable, "-c", show],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["30", "600/m"]
