"""A production start refuses bad settings, naming every one at once, with advice.

The web, worker and release processes all call `todo_project.checks.refuse_to_start`;
these tests call it as they do, in a fresh interpreter with exactly the variables given.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.live import ROOT, service_env
from testing.postgres import database_independent

# Each start is a fresh interpreter with settings of its own, DATABASE_URL among them.
pytestmark = database_independent

GOOD_SECRET = "s" * 24 + "0123456789" * 4
# A raw P-256 private key, base64url: what VAPID_PRIVATE_KEY takes.
VAPID_KEY = "qv5YvQAmzQzPjlWip4pi2r4FgVvfzDwfWh0POLtdH4c"
PASSWORD = "hunter2-database-password"
# The checks connect to nothing: any PostgreSQL URL will do.
POSTGRES_URL = f"postgres://todo:{PASSWORD}@127.0.0.1:1/todo"
REFUSE = "import django; django.setup()\nfrom todo_project.checks import refuse_to_start\n"


def start(code: str = "", **environment: str | None) -> subprocess.CompletedProcess[str]:
    """A production start's checks (then `code`) in a fresh interpreter with good
    production settings, changed by `environment` (None: unset)."""
    env: dict[str, str | None] = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "todo_project.settings",
        "SECRET_KEY": GOOD_SECRET,
        "BETTER_AUTH_SECRET": GOOD_SECRET,
        "METRICS_TOKEN": GOOD_SECRET,
        "DATABASE_URL": POSTGRES_URL,
        "ALLOWED_HOSTS": "api.example.com",
        # The checks connect to nothing: any Redis URL will do.
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", f"{REFUSE}refuse_to_start('web process')\n{code}"],
        cwd=ROOT,
        env={name: value for name, value in env.items() if value is not None},
        capture_output=True,
        text=True,
        check=False,
    )


def named(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The problems a refused start names, one per line of its message."""
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("- ")]


def test_good_production_settings_start() -> None:
    result = start()

    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("name", ["SECRET_KEY", "BETTER_AUTH_SECRET", "METRICS_TOKEN"])
@pytest.mark.parametrize("value", ["change-me", "django-insecure-abc" * 3, "short", "a" * 64])
def test_a_placeholder_or_weak_secret_is_refused(name: str, value: str) -> None:
    (problem,) = named(start(**{name: value}))

    assert problem.startswith(f"- {name} ")


@pytest.mark.parametrize("name", ["SECRET_KEY", "METRICS_TOKEN"])
def test_a_missing_secret_is_refused_with_how_to_make_one(name: str) -> None:
    result = start(**{name: ""})

    (problem,) = named(result)
    assert problem.startswith(f"- {name} is missing")
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert "make run" not in result.stderr


def test_without_any_token_verification_the_advice_is_to_share_the_frontends_secret() -> None:
    result = start(BETTER_AUTH_SECRET="")

    (problem,) = named(result)
    assert "BETTER_AUTH_URL" in problem
    assert "the value your frontend's Better Auth uses" in result.stderr


def test_every_bad_setting_is_named_in_one_message() -> None:
    result = start(SECRET_KEY="", METRICS_TOKEN="x", MAX_BODY_BYTES="lots", SECURE_HSTS_SECONDS="-")

    problems = named(result)
    assert len(problems) == 4
    assert result.stderr.startswith("The web process can't start: 4 setting(s) need attention.")
    for name in ("SECRET_KEY", "METRICS_TOKEN", "MAX_BODY_BYTES", "SECURE_HSTS_SECONDS"):
        assert sum(name in problem for problem in problems) == 1


@pytest.mark.parametrize("url", [None, "", "sqlite:////tmp/todo.sqlite3"])
def test_production_refuses_to_run_without_a_real_database(url: str | None) -> None:
    result = start(DATABASE_URL=url)

    (problem,) = named(result)
    assert problem.startswith("- DATABASE_URL is unset, empty or a SQLite file")
    assert "ALLOW_SQLITE_IN_PRODUCTION=true" in result.stderr


def test_sqlite_in_production_when_it_is_meant() -> None:
    result = start(DATABASE_URL="sqlite:////tmp/todo.sqlite3", ALLOW_SQLITE_IN_PRODUCTION="true")

    assert result.returncode == 0


def test_a_database_url_of_another_kind_is_named_without_its_password() -> None:
    result = start(DATABASE_URL=f"postgress://todo:{PASSWORD}@db.example.com/todo")

    (problem,) = named(result)
    assert problem == "- DATABASE_URL must be a postgres:// URL (or sqlite:///PATH), not postgress."
    assert PASSWORD not in result.stderr


def test_a_mistyped_switch_is_refused_not_read_as_false() -> None:
    (problem,) = named(start(SECURE_HTTPS="ture"))

    assert problem == "- SECURE_HTTPS must be true or false, not 'ture'."


def test_production_needs_a_host_name_to_answer_to() -> None:
    (problem,) = named(start(ALLOWED_HOSTS="localhost,127.0.0.1"))

    assert problem.startswith("- ALLOWED_HOSTS names only this machine")


def test_several_web_processes_need_a_shared_rate_limit_store() -> None:
    result = start(CACHE_URL=None, WEB_CONCURRENCY="4")

    (problem,) = named(result)
    assert problem.startswith("- Rate limits would be counted per process: each of the 4")
    assert "CACHE_URL" in result.stderr


@pytest.mark.parametrize(
    "meant",
    [
        {"RATE_LIMIT_STORE": "per-process"},
        {"WEB_CONCURRENCY": "1"},
        {"RATE_LIMIT_USER": "off", "RATE_LIMIT_ANON": "off"},
    ],
    ids=["said so", "one process", "no limits"],
)
def test_per_process_rate_limits_start_when_meant(meant: dict[str, str]) -> None:
    assert start(CACHE_URL=None, **meant).returncode == 0


def test_an_unknown_rate_limit_store_is_refused() -> None:
    (problem,) = named(start(RATE_LIMIT_STORE="redis"))

    assert problem.startswith("- RATE_LIMIT_STORE must be shared")


def test_jwks_alone_is_enough_to_start() -> None:
    assert start(BETTER_AUTH_SECRET="", BETTER_AUTH_URL="https://app.example.com").returncode == 0


def test_unknown_algorithm_is_refused() -> None:
    (problem,) = named(start(JWT_ALGORITHMS="EdDSA,HS1024"))

    assert "HS1024" in problem


def test_debug_starts_without_secrets_or_a_database() -> None:
    result = start(DEBUG="true", SECRET_KEY="", BETTER_AUTH_SECRET="", DATABASE_URL="")

    assert result.returncode == 0


@pytest.mark.parametrize("rate", ["600", "600/minute", "0/m", "-1/s", "lots"])
def test_malformed_rate_limit_is_refused(rate: str) -> None:
    (problem,) = named(start(RATE_LIMIT_USER=rate))

    assert problem.startswith("- RATE_LIMIT_USER must look like")


def test_rate_limit_off_starts() -> None:
    assert start(RATE_LIMIT_USER="off", RATE_LIMIT_ANON="OFF").returncode == 0


def test_without_https_metrics_need_no_token() -> None:
    """`make run` (plain HTTP on loopback) serves /metrics to loopback callers."""
    assert start(SECURE_HTTPS="false", METRICS_TOKEN="").returncode == 0


def test_production_trusts_no_address_with_the_metrics() -> None:
    shown = start("from django.conf import settings; print(settings.METRICS_ALLOWED_IPS)")

    assert shown.stdout.strip() == "[]"


def test_production_starts_with_web_push_off() -> None:
    result = start("from delivery import push; print(push.public_key())")

    assert (result.returncode, result.stdout.strip()) == (0, "None")


@pytest.mark.parametrize("value", ["change-me", "s" * 64, VAPID_KEY[:-1], VAPID_KEY + "!"])
def test_a_vapid_key_not_shaped_as_one_is_refused(value: str) -> None:
    (problem,) = named(start(VAPID_PRIVATE_KEY=value, VAPID_SUBJECT="mailto:ops@example.com"))

    assert problem.startswith("- VAPID_PRIVATE_KEY is not a raw P-256 private key")
    assert "generate_vapid_keys" in problem


@pytest.mark.parametrize("subject", ["", "ops@example.com", "mailto:", "http://example.com"])
def test_a_vapid_key_needs_a_mailto_or_https_subject(subject: str) -> None:
    (problem,) = named(start(VAPID_PRIVATE_KEY=VAPID_KEY, VAPID_SUBJECT=subject))

    assert problem.startswith("- VAPID_SUBJECT")


@pytest.mark.parametrize("subject", ["mailto:admin@localhost", "https://example.com/contact"])
def test_a_mailto_or_https_subject_starts(subject: str) -> None:
    assert start(VAPID_PRIVATE_KEY=VAPID_KEY, VAPID_SUBJECT=subject).returncode == 0


def test_check_deploy_lists_the_same_problems() -> None:
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "", "DATABASE_URL": POSTGRES_URL}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**env, "DJANGO_READ_DOT_ENV_FILE": "false"},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    for error in ("todo.E010", "todo.E012", "todo.E013"):
        assert error in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["gunicorn", "todo_project.asgi"],
        [sys.executable, "-m", "todo_project.worker"],
        [sys.executable, "-m", "todo_project.release"],
    ],
    ids=["web", "worker", "release"],
)
def test_the_procfiles_processes_refuse_a_missing_setting(
    command: list[str], tmp_path: Path
) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", SECRET_KEY="")

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    (problem,) = named(result)
    assert problem.startswith("- SECRET_KEY is missing")
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching anything


@pytest.mark.parametrize(
    ("environment", "named_setting"),
    [
        ({"CHAT_API_BASE_URL": "ftp://models.example.com", "CHAT_MODEL": "m"}, "CHAT_API_BASE_URL"),
        ({"CHAT_API_BASE_URL": "https://api.openai.com/v1"}, "CHAT_API_BASE_URL and CHAT_MODEL"),
        ({"CHAT_MAX_TOOL_CALLS": "0"}, "CHAT_MAX_TOOL_CALLS"),
        ({"CHAT_TIMEOUT_SECONDS": "0"}, "CHAT_TIMEOUT_SECONDS"),
        ({"CHAT_HISTORY_MESSAGES": "-1"}, "CHAT_HISTORY_MESSAGES"),
        ({"CHAT_MAX_CONCURRENT": "0"}, "CHAT_MAX_CONCURRENT"),
    ],
)
def test_a_chat_setting_that_cannot_work_is_refused(
    environment: dict[str, str], named_setting: str
) -> None:
    (problem,) = named(start(**environment))

    assert problem.startswith(f"- {named_setting} ")


def test_a_chat_model_starts() -> None:
    configured = start(CHAT_API_BASE_URL="https://api.openai.com/v1", CHAT_MODEL="gpt-4.1-mini")

    assert configured.returncode == 0
