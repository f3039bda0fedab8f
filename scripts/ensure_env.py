"""Write to `.env` what `make run` needs and neither the environment nor `.env` gives:
fresh secrets and a VAPID key, plain HTTP on loopback, and the origins of a local
frontend dev server for CORS.

Run by `make run` before Django starts, because the settings refuse to start without
real secrets. `.env` is the local machine's: production sets its environment instead,
and the tests never read it. It needs no Django, only `cryptography` (installed from
requirements.txt before it runs) for the VAPID key.
"""

import base64
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def vapid_private_key() -> str:
    """A fresh VAPID key as VAPID_PRIVATE_KEY takes it: the raw P-256 scalar, base64url."""
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(scalar.to_bytes(32, "big")).rstrip(b"=").decode()


GENERATED_SECRETS: dict[str, Callable[[], str]] = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "BETTER_AUTH_SECRET": lambda: secrets.token_urlsafe(48),
    "VAPID_PRIVATE_KEY": vapid_private_key,
}
LOCAL_DEFAULTS = {
    # No TLS on loopback: no HTTPS redirect, HSTS or secure-only cookies, and
    # /metrics readable from loopback without a token.
    "SECURE_HTTPS": "false",
    # `npm run dev` of a Next.js frontend serves here.
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000",
    # Who push services may write to about this sender (RFC 8292).
    "VAPID_SUBJECT": "mailto:admin@localhost",
    # Browsers on loopback subscribe through a push service on the internet, but a
    # local test push service (testing/push_service.py) listens on loopback.
    "PUSH_ALLOW_LOOPBACK": "true",
    # `make run` serves on the SQLite file beside manage.py, with production's settings.
    "ALLOW_SQLITE_IN_PRODUCTION": "true",
    # Rate limits counted by each of its two web processes apart: no Redis needed.
    "RATE_LIMIT_STORE": "per-process",
}


def _names_in(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text().splitlines())
    return {
        line.removeprefix("export ").split("=", 1)[0].strip()
        for line in lines
        if "=" in line and not line.startswith("#")
    }


def ensure_env(env_file: Path, environment: Mapping[str, str]) -> list[str]:
    """Append the missing settings to `env_file`; the names written."""
    present = _names_in(env_file) | set(environment)
    missing = {name: generate() for name, generate in GENERATED_SECRETS.items()}
    missing |= LOCAL_DEFAULTS
    missing = {name: value for name, value in missing.items() if name not in present}
    if missing:
        with env_file.open("a") as lines:
            lines.write("# Written by scripts/ensure_env.py for `make run`; keep it out of git.\n")
            lines.writelines(f"{name}={value}\n" for name, value in missing.items())
        env_file.chmod(0o600)
    return list(missing)


if __name__ == "__main__":
    if written := ensure_env(ENV_FILE, os.environ):
        print(f"Wrote {', '.join(written)} to {ENV_FILE.name}.", file=sys.stderr)
