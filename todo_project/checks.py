"""What a start needs of the settings, as Django system checks, and the refusal to start
without it.

Two checks: every value the settings couldn't use (always), and what production needs
(with `--deploy`, and outside DEBUG). `refuse_to_start` runs both for the web, worker
and release processes and stops the process with one message naming every problem.
"""

import re
import sys
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks

# Values that must never protect a running service: empty, Django's own "insecure"
# development keys (the settings' stand-in for an unset SECRET_KEY is one), and the
# placeholders of `.env.example`.
PLACEHOLDER_SECRET = re.compile(r"^(|django-insecure.*|change-?me.*|replace-?me.*)$", re.I)
# The default ALLOWED_HOSTS: enough for `make run`, nothing for a public service.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


@checks.register()
def check_readable_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every setting the environment gave a value the settings couldn't use."""
    return [checks.Error(problem, id="todo.E001") for problem in settings.SETTINGS_PROBLEMS]


def _weak(secret: str, min_length: int) -> bool:
    return (
        bool(PLACEHOLDER_SECRET.match(secret)) or len(secret) < min_length or len(set(secret)) < 5
    )


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """What a production start (DEBUG off) needs: secrets, a way to verify tokens, and a
    real database."""
    if settings.DEBUG:
        return []
    errors: list[checks.CheckMessage] = []
    if _weak(settings.SECRET_KEY, 50):
        errors.append(
            checks.Error(
                "SECRET_KEY is missing, a placeholder, or shorter than 50 characters.",
                hint=f"Set it to a random value (`{GENERATE}`), the same for every process "
                "and kept across deploys: sessions and queued jobs are signed with it.",
                id="todo.E010",
            )
        )
    if settings.BETTER_AUTH_SECRET and _weak(settings.BETTER_AUTH_SECRET, 32):
        errors.append(
            checks.Error(
                "BETTER_AUTH_SECRET is a placeholder or shorter than 32 characters.",
                hint="It must be your frontend's BETTER_AUTH_SECRET, the very same value "
                "(Better Auth signs HS256 tokens with it); set a strong one on both sides.",
                id="todo.E011",
            )
        )
    if not settings.BETTER_AUTH_SECRET and not settings.BETTER_AUTH_JWKS_URL:
        errors.append(
            checks.Error(
                "Neither BETTER_AUTH_URL (or BETTER_AUTH_JWKS_URL) nor BETTER_AUTH_SECRET is "
                "set, so no token could ever be verified.",
                hint="Set BETTER_AUTH_URL to your Better Auth server's base URL (tokens "
                "signed by its jwt plugin, checked against its JWKS), or BETTER_AUTH_SECRET "
                "to the value your frontend's Better Auth uses (HS256); a newly generated "
                "secret would verify no token.",
                id="todo.E012",
            )
        )
    if settings.SECURE_HTTPS and _weak(settings.METRICS_TOKEN, 32):
        errors.append(
            checks.Error(
                "METRICS_TOKEN is missing, a placeholder, or shorter than 32 characters.",
                hint=f"Set it to a random value (`{GENERATE}`) and give your metrics "
                "scraper the same, as `Authorization: Bearer <METRICS_TOKEN>`.",
                id="todo.E013",
            )
        )
    if settings.SECURE_HTTPS and set(settings.ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
        errors.append(
            checks.Error(
                "ALLOWED_HOSTS names only this machine, so every request from outside "
                "would be refused (400).",
                hint="Set it to the API's host name(s), e.g. ALLOWED_HOSTS=api.example.com "
                "(the health probes answer whatever the Host).",
                id="todo.E015",
            )
        )
    per_process = settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    limited = settings.RATE_LIMIT_USER or settings.RATE_LIMIT_ANON
    if (
        limited
        and per_process
        and settings.WEB_PROCESSES > 1
        and settings.RATE_LIMIT_STORE != "per-process"
    ):
        errors.append(
            checks.Error(
                f"Rate limits would be counted per process: each of the "
                f"{settings.WEB_PROCESSES} web processes (WEB_CONCURRENCY) would let a "
                "client through as often as the limit says.",
                hint="Set CACHE_URL to a Redis (redis://… or rediss://…) that every web "
                "process shares, or RATE_LIMIT_STORE=per-process if that is meant.",
                id="todo.E016",
            )
        )
    # The URL given, not the engine: an unusable URL falls back to SQLite, and is named
    # by check_readable_settings.
    on_sqlite = settings.DATABASE_URL.startswith("sqlite:")
    if on_sqlite and not settings.ALLOW_SQLITE_IN_PRODUCTION:
        errors.append(
            checks.Error(
                "DATABASE_URL is unset, empty or a SQLite file: on most platforms the disk "
                "is emptied on every deploy, and the web and worker processes would each "
                "get a file of their own.",
                hint="Set DATABASE_URL to your PostgreSQL connection string (on Neon: "
                "postgres://USER:PASSWORD@HOST/DB?sslmode=require), or "
                "ALLOW_SQLITE_IN_PRODUCTION=true if one machine's SQLite file is meant.",
                id="todo.E014",
            )
        )
    return errors


def refuse_to_start(process: str) -> None:
    """Exit with one message naming every problem the checks find (the deploy checks
    included); return when there is none."""
    errors = [
        message
        for message in checks.run_checks(include_deployment_checks=True)
        if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        sys.exit(refusal(process, errors))


def refusal(process: str, errors: Sequence[checks.CheckMessage]) -> str:
    """The message a refused start prints: each problem, and what to do about it."""
    lines = [f"The {process} can't start: {len(errors)} setting(s) need attention."]
    for error in errors:
        lines.append(f"- {error.msg}")
        if error.hint:
            lines.append(f"  {error.hint}")
    lines.append("(`python manage.py check --deploy` lists them too.)")
    return "\n".join(lines)
