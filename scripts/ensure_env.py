"""Write to `.env` what `make run` needs and neither the environment nor `.env` gives:
fresh secrets, plain HTTP on loopback, and the origins of a local frontend dev
server for CORS.

Run by `make run` before Django starts, because the settings refuse to start without
real secrets. `.env` is the local machine's: production sets its environment instead,
and the tests never read it. Standard library only: it runs before anything else.
"""

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"
GENERATED_SECRETS = ("SECRET_KEY", "BETTER_AUTH_SECRET")
LOCAL_DEFAULTS = {
    # No TLS on loopback: no HTTPS redirect, HSTS or secure-only cookies, and
    # /metrics readable from loopback without a token.
    "SECURE_HTTPS": "false",
    # `npm run dev` of a Next.js frontend serves here.
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000",
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
    missing = {name: secrets.token_urlsafe(48) for name in GENERATED_SECRETS}
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
