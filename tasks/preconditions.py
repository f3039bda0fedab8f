"""Conditional requests (RFC 9110): a task's (or list's) ETag is its version, `"<version>"`.

`If-Match` makes a write happen only at the versions it names (strong comparison: a
weak tag names none; `*` any existing task); one that is not `*` nor a list of
entity tags (`If-Match: 3`, unquoted) is a 400 saying so, not a 412 that would send
the client to reread a task that has not changed. `If-None-Match` on a read answers
304 when the task is still at a version it names (weak comparison, as RFC 9110 says);
a malformed one names no version, and the read answers as without it.
"""

import re
from collections.abc import Callable
from typing import Any, NoReturn

from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tasks.exceptions import PreconditionFailed

# One list element: an entity tag, maybe weak, between optional spaces and tabs
# (RFC 9110 sections 8.8.3 and 5.6.1); empty elements are allowed and skipped.
_ENTITY_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*')
# A version as this service writes it: no sign, no leading zero, at most 10 digits.
_VERSION = re.compile(r"[1-9][0-9]{0,9}")
# Beyond this many tags a header is not a client's: it names nothing.
MAX_TAGS = 100
MALFORMED_IF_MATCH = 'Send `*` or entity tags, quoted as the ETag header gives them: If-Match: "3".'


def etag(version: int) -> str:
    return f'"{version}"'


def _versions(header: str, *, weak_match: bool) -> frozenset[int] | None:
    """The versions a list of entity tags names; None if it is malformed or empty."""
    elements = [element for element in header.split(",") if element.strip(" \t")]
    if not elements:
        return None
    if len(elements) > MAX_TAGS:
        return frozenset()
    versions = set()
    for element in elements:
        match = _ENTITY_TAG.fullmatch(element)
        if match is None:
            return None
        weak, value = match.groups()
        if (weak_match or not weak) and _VERSION.fullmatch(value):
            versions.add(int(value))
    return frozenset(versions)


def if_match_versions(request: Request) -> frozenset[int] | None:
    """The versions a write may happen at: None without `If-Match` or with `*` (any
    existing task); else those its strong tags name, maybe none (then no write can).
    Raises DRF's ValidationError (a 400 naming the header) for a malformed one."""
    header = request.headers.get("If-Match")
    if header is None or header.strip(" \t") == "*":
        return None
    versions = _versions(header, weak_match=False)
    if versions is None:
        raise ValidationError({"If-Match": [MALFORMED_IF_MATCH]})
    return versions


def not_modified(request: Request, version: int) -> bool:
    """Whether `If-None-Match` names this version (or is `*`): answer 304."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    return header.strip(" \t") == "*" or version in (_versions(header, weak_match=True) or ())


def answer_read(request: Request, version: int, body: Callable[[], Any]) -> Response:
    """A read's answer: `body()` with its ETag, or 304 while `If-None-Match` names it."""
    headers = {"ETag": etag(version)}
    if not_modified(request, version):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body(), headers=headers)


def refuse_write(current_version: int | None) -> NoReturn:
    """A write that found nothing: 404 when there is no such row (None); 412 with its
    current ETag when it is at a version other than those `If-Match` named."""
    if current_version is None:
        raise NotFound()
    raise PreconditionFailed(etag(current_version))
