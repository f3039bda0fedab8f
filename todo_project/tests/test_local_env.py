"""`.env` is the local machine's: `make run` fills it in, the tests never read it."""

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

from testing.live import ROOT, copy_checkout, load_script
from testing.postgres import database_independent

pytestmark = database_independent

# The order of the P-256 group: a private key is a scalar below it.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


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


def test_make_run_gets_a_fresh_vapid_key_and_may_push_to_loopback(tmp_path: Path) -> None:
    script = load_script("scripts/ensure_env.py")
    first, second = tmp_path / "first.env", tmp_path / "second.env"

    script.ensure_env(first, {})
    script.ensure_env(second, {})

    key = settings_in(first)["VAPID_PRIVATE_KEY"]
    scalar = int.from_bytes(base64.urlsafe_b64decode(key + "="), "big")
    assert len(key) == 43
    assert 0 < scalar < P256_ORDER
    assert key != settings_in(second)["VAPID_PRIVATE_KEY"]
    assert settings_in(first)["VAPID_SUBJECT"] == "mailto:admin@localhost"
    assert settings_in(first)["PUSH_ALLOW_LOOPBACK"] == "true"


def test_the_written_env_starts_the_service_with_pushes_on(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    load_script("scripts/ensure_env.py").ensure_env(env_file, {})
    show = "from delivery import push; print(push.public_key() is not None)"

    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "todo_project.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            **settings_in(env_file),
        },
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.stdout.strip() == "True", result.stderr


def test_what_env_or_the_environment_gives_is_kept(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    mine = {"SECRET_KEY": "mine", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}
    mine["VAPID_PRIVATE_KEY"] = "qv5YvQAmzQzPjlWip4pi2r4FgVvfzDwfWh0POLtdH4c"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in mine.items()))
    shell = {"BETTER_AUTH_SECRET": "from the shell", "SECURE_HTTPS": "true"}
    shell |= {"VAPID_SUBJECT": "mailto:me@example.com", "PUSH_ALLOW_LOOPBACK": "false"}
    shell |= {"ALLOW_SQLITE_IN_PRODUCTION": "false", "RATE_LIMIT_STORE": "shared"}

    written = load_script("scripts/ensure_env.py").ensure_env(env_file, shell)

    assert written == []
    assert settings_in(env_file) == mine


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


DOT_ENV_MARK = "MAX_BODY_BYTES=1234"
SHOW_BODY_LIMIT = "from django.conf import settings; print(settings.MAX_BODY_BYTES)"


def checkout_with_a_dot_env(tmp_path: Path) -> Path:
    """A copy of the checkout whose `.env` is what `make run` wrote, plus a mark."""
    checkout = copy_checkout(tmp_path / "checkout")
    load_script("scripts/ensure_env.py").ensure_env(checkout / ".env", {})
    with (checkout / ".env").open("a") as lines:
        lines.write(f"{DOT_ENV_MARK}\n")
    return checkout


def bare_environment() -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_a_developers_manage_py_reads_dot_env(tmp_path: Path) -> None:
    checkout = checkout_with_a_dot_env(tmp_path)

    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", SHOW_BODY_LIMIT],
        cwd=checkout,
        env=bare_environment(),
        capture_output=True,
        text=True,
        check=True,
    )

    assert shown.stdout.strip() == "1234"


def test_the_procfiles_web_never_reads_dot_env(tmp_path: Path) -> None:
    """In a checkout where `make run` ran, the Procfile's web must not come up on the
    development secrets: with none in its environment, it refuses to start."""
    checkout = checkout_with_a_dot_env(tmp_path)
    web = (checkout / "Procfile").read_text().split("web:", 1)[1].splitlines()[0]

    started = subprocess.run(
        ["sh", "-c", f"exec {web}"],
        cwd=checkout,
        env={**bare_environment(), "PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode == 1
    assert "- SECRET_KEY is missing" in started.stderr


def test_settings_read_dot_env_only_when_asked(tmp_path: Path) -> None:
    checkout = checkout_with_a_dot_env(tmp_path)
    code = f"import django; django.setup(); {SHOW_BODY_LIMIT}"
    env = {**bare_environment(), "DJANGO_SETTINGS_MODULE": "todo_project.settings", "DEBUG": "1"}

    def body_limit(**settings: str) -> str:
        shown = subprocess.run(
            [sys.executable, "-c", code],
            cwd=checkout,
            env={**env, **settings},
            capture_output=True,
            text=True,
            check=True,
        )
        return shown.stdout.strip()

    assert body_limit() == "65536"
    assert body_limit(DJANGO_READ_DOT_ENV_FILE="true") == "1234"


def test_images_leave_out_the_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()

    for local in (".env", ".venv", "db.sqlite3*", "staticfiles"):
        assert local in ignored
