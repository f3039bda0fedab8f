"""Audit the pinned requirements against PyPI's vulnerability data (pip-audit).

    .venv-audit/bin/python scripts/audit_dependencies.py      # what `make audit` runs

Exits non-zero on a known vulnerability in requirements.txt or requirements-dev.txt
that .ci/accepted-vulnerabilities.txt does not accept, and on an acceptance that is
past its date or malformed. Accepting one knowingly is a line there:

    GHSA-xxxx-xxxx-xxxx until 2027-01-31: why it can't reach us, who decided

When PyPI's per-release data can't be reached (a mirror without it, no network),
nothing can be audited: that is said loudly and, unless AUDIT_REQUIRED=true, is not
a failure, so that a closed network doesn't block every change.
"""

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / ".ci" / "accepted-vulnerabilities.txt"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
ACCEPTANCE = re.compile(r"(?P<id>[A-Z][A-Z0-9]*-[\w-]+) until (?P<until>\d{4}-\d{2}-\d{2}): \S")


def accepted_ids(text: str, today: date) -> list[str]:
    """The vulnerability ids accepted today; ValueError names a bad or expired line."""
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = ACCEPTANCE.match(line)
        try:
            until = date.fromisoformat(match["until"]) if match else None
        except ValueError:
            until = None
        if not match or not until:
            raise ValueError(f"line {number}: expected 'ID until YYYY-MM-DD: reason'")
        if until < today:
            raise ValueError(f"line {number}: the acceptance of {match['id']} has expired")
        ids.append(match["id"])
    return ids


def vulnerability_data_missing(url: str) -> str:
    """Why PyPI's per-release JSON (which holds the vulnerabilities) can't be read at
    `url`, or "" when it can."""
    try:
        with urllib.request.urlopen(url, timeout=15):  # noqa: S310  (an https: URL of ours)
            return ""
    except urllib.error.HTTPError as error:
        return f"{url} answers HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError) as error:
        return f"{url} is unreachable: {error}"


def main() -> int:
    try:
        ids = accepted_ids(ACCEPTED.read_text() if ACCEPTED.exists() else "", date.today())
    except ValueError as error:
        print(f"{ACCEPTED.relative_to(ROOT)}: {error}", file=sys.stderr)
        return 1
    pinned = re.search(r"^django==(\S+)", (ROOT / "requirements.txt").read_text(), re.M | re.I)
    probe = f"https://pypi.org/pypi/django/{pinned[1] if pinned else '5.2'}/json"
    if missing := vulnerability_data_missing(probe):
        print(f"DEPENDENCY AUDIT SKIPPED: no vulnerability data ({missing})")
        return 1 if os.environ.get("AUDIT_REQUIRED") == "true" else 0
    command = [sys.executable, "-m", "pip_audit", "--strict", "--progress-spinner", "off"]
    command += [part for name in REQUIREMENTS for part in ("-r", str(ROOT / name))]
    command += [part for vulnerability in ids for part in ("--ignore-vuln", vulnerability)]
    return subprocess.run(command, check=False).returncode  # noqa: S603  (our own arguments)


if __name__ == "__main__":
    sys.exit(main())
