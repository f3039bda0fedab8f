"""Conditional requests (RFC 9110): a task's ETag is its version, `"<version>"`.

`If-Match` makes a write happen only at the versions it names (strong comparison: a
weak tag names none; `*` any existing task); `If-None-Match` on a read answers 304
when the task is still at a version it names (weak comparison, as RFC 9110 says).
"""

import re

from rest_framework.request import Request

# An entity tag, maybe weak: W/"..." or "..." (RFC 9110 section 8.8.3).
_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[tuple[bool, str]]:
    """(weak, opaque value) for each well-formed entity tag of the header, in order."""
    tags, position = [], 0
    while position < len(header) and (match := _ENTITY_TAG.match(header, position)):
        tags.append((bool(match[1]), match[2]))
        position = match.end()
    return tags


def _versions(values: list[str]) -> frozenset[int]:
    """The values that can be versions (a version fits in 10 digits)."""
    return frozenset(
        int(value) for value in values if value.isascii() and value.isdigit() and len(value) <= 10
    )


def if_match_versions(request: Request) -> frozenset[int] | None:
    """The versions a write may happen at: None without `If-Match` or with `*` (any
    existing task); else those its strong tags name, maybe none (then no write can)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    return _versions([value for weak, value in _tags(header) if not weak])


def not_modified(request: Request, version: int) -> bool:
    """Whether `If-None-Match` names this version (or is `*`): answer 304."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    return header.strip() == "*" or version in _versions([value for _, value in _tags(header)])
