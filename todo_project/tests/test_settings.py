"""Outside DEBUG the service refuses to start on secrets that protect nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 64
# A raw P-256 private key, base64url: what VAPID_PRIVATE_KEY takes.
VAPID_KEY = "qv5YvQAmzQzPjlWip4pi2r4FgVvfzDwfWh0POLtdH4c"


def start(code: str = "", **environment: str) -> subprocess.CompletedProcess[str]:
    """Import the settings (then run `code`) in a fresh interpreter with exactly these
    variables set."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": GOOD_SECRET,
        "BETTER_AUTH_SECRET": GOOD_SECRET,
        "METRICS_TOKEN": GOOD_SECRET,
        "VAPID_PRIVATE_KEY": VAPID_KEY,
        "VAPID_SUBJECT": "mailto:ops@example.com",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", f"from todo_project import settings\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_good_secrets_start() -> None:
    assert start().returncode == 0


@pytest.mark.parametrize("name", ["SECRET_KEY", "BETTER_AUTH_SECRET", "METRICS_TOKEN"])
@pytest.mark.parametrize("value", ["", "change-me", "django-insecure-abc" * 3, "short"])
def test_missing_placeholder_or_short_secret_is_refused(name: str, value: str) -> None:
    result = start(**{name: value})

    assert result.returncode != 0
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("django.core.exceptions.ImproperlyConfigured")
    assert name in refusal


def test_jwks_alone_is_enough_to_start() -> None:
    assert start(BETTER_AUTH_SECRET="", BETTER_AUTH_URL="https://app.example.com").returncode == 0


def test_unknown_algorithm_is_refused() -> None:
    result = start(JWT_ALGORITHMS="EdDSA,HS1024")

    assert result.returncode != 0
    assert "HS1024" in result.stderr


def test_debug_starts_without_secrets() -> None:
    assert start(DEBUG="true", SECRET_KEY="", BETTER_AUTH_SECRET="").returncode == 0


@pytest.mark.parametrize("rate", ["600", "600/minute", "0/m", "-1/s", "lots"])
def test_malformed_rate_limit_is_refused(rate: str) -> None:
    result = start(RATE_LIMIT_USER=rate)

    assert result.returncode != 0
    assert "RATE_LIMIT_USER must look like" in result.stderr


def test_rate_limit_off_starts() -> None:
    assert start(RATE_LIMIT_USER="off", RATE_LIMIT_ANON="OFF").returncode == 0


def test_without_https_metrics_need_no_token() -> None:
    """`make run` (plain HTTP on loopback) serves /metrics to loopback callers."""
    assert start(SECURE_HTTPS="false", METRICS_TOKEN="").returncode == 0


def test_production_trusts_no_address_with_the_metrics() -> None:
    shown = start("print(settings.METRICS_ALLOWED_IPS)")

    assert shown.stdout.strip() == "[]"


@pytest.mark.parametrize("value", ["", "change-me", "s" * 64, VAPID_KEY[:-1], VAPID_KEY + "!"])
def test_production_needs_a_vapid_key_shaped_as_one(value: str) -> None:
    result = start(VAPID_PRIVATE_KEY=value)

    assert result.returncode != 0
    assert "VAPID_PRIVATE_KEY" in result.stderr.strip().splitlines()[-1]


def test_without_https_pushes_may_be_off() -> None:
    """`make run` without a key: it starts, and the public-key route says 503."""
    assert start(SECURE_HTTPS="false", METRICS_TOKEN="", VAPID_PRIVATE_KEY="").returncode == 0


@pytest.mark.parametrize("subject", ["", "ops@example.com", "mailto:", "http://example.com"])
def test_a_vapid_key_needs_a_mailto_or_https_subject(subject: str) -> None:
    result = start(VAPID_SUBJECT=subject)

    assert result.returncode != 0
    assert "VAPID_SUBJECT" in result.stderr


@pytest.mark.parametrize("subject", ["mailto:admin@localhost", "https://example.com/contact"])
def test_a_mailto_or_https_subject_starts(subject: str) -> None:
    assert start(VAPID_SUBJECT=subject).returncode == 0
