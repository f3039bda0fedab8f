"""Retry-safe requests: an `Idempotency-Key` makes a create (or bulk call) happen once.

The first request with a key claims it: a row inserted and committed before the work,
with no status yet, so that any concurrent request with the key finds it in flight
(409, `Retry-After`). Its response is kept in that row by the same transaction as the
work, so a crash between the two leaves neither, and the claim is taken over once it
is IN_FLIGHT_SECONDS old. A retry with the same body gets the kept response again
(`Idempotency-Replayed: true`); with another body, 422. A response of 500 or more is
not kept: the claim is released and a retry runs again. Keys live KEPT_FOR.

What a user may keep is bounded in bytes: each row records its `size` (the kept
response and the row's own share of the table and its indexes, `kept_size`), and a
claim of a new key is refused (429, `KeptResponsesFull`) once the user's rows add up
to MAX_KEPT_RESPONSE_BYTES. The claim and the check are one statement, summed from an
index that leads with the user. A claim counts as RESERVED_BYTES while its request
runs, so requests one after another can't pass the check together; what a user keeps
is then at most MAX_KEPT_RESPONSE_BYTES plus one response (plus one more per keyed
request of theirs whose claim is taken at the very same instant). Every row of the user
counts, expired ones not yet forgotten by the daily purge too (they take room as
well): before refusing, the user's expired rows are forgotten and the check runs
again. A key already kept is replayed (or 409, 422) as before, never refused.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, QuerySet, Sum
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from tasks.exceptions import KeptResponsesFull, KeyInFlight, KeyReused
from tasks.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
# Longer than any request runs: a claim this old is a crashed worker's.
IN_FLIGHT_SECONDS = 60
KEPT_HEADERS = ("Location", "ETag")
_CREATED_AT = IdempotentRequest._meta.get_field("created_at")
# A row's share of the table beyond the text `kept_size` counts, on PostgreSQL: the
# tuple and page overhead, id, user id (a 32-character Better Auth id), created_at,
# status, size, the fingerprint, and the entries of the indexes on (created_at) and
# (user, created_at, size). Measured with pg_relation_size and pg_indexes_size on a
# table of 20,000 rows: 324 bytes a row; rounded up.
ROW_BYTES = 352
# What a claim counts while its request runs: more than the largest kept response, a
# bulk create of 100 tasks filling a 64 KiB body with reminders, tags and 4-byte
# characters (measured: 131.5 KB; responses are at most about twice the body).
RESERVED_BYTES = 160 * 1024


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not (key.isascii() and key.isprintable()):
        raise ValidationError({HEADER: ["Send 1 to 255 printable ASCII characters."]})
    return key


def _fingerprint(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def kept_size(*, scope: str, key: str, body: str, content_type: str, headers: str) -> int:
    """The bytes a kept row takes: its text as UTF-8 (the scope and key twice, in the
    row and in the unique index), and ROW_BYTES for the rest."""
    texts = (scope, key, scope, key, body, content_type, headers)
    return ROW_BYTES + sum(len(text.encode()) for text in texts)


# Inserted as a SELECT, typed for PostgreSQL (a bare '{}' there would be text).
_EMPTY_HEADERS = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"


def _claim(user_id: str, scope: str, key: str, fingerprint: str) -> IdempotentRequest | None:
    """The new claim of this key, or None if a request holds it (or held it) already,
    or if the user's kept rows already add up to MAX_KEPT_RESPONSE_BYTES. One
    statement: the sum reads the index on (user, created_at, size) alone."""
    table = connection.ops.quote_name(IdempotentRequest._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, scope, key, fingerprint, created_at, status, "  # noqa: S608
            f"content_type, body, headers, size) SELECT %s, %s, %s, %s, %s, NULL, '', '', "
            f"{_EMPTY_HEADERS}, %s WHERE (SELECT COALESCE(SUM(size), 0) FROM {table} "
            "WHERE user_id = %s) < %s "
            "ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING id",
            [
                user_id,
                scope,
                key,
                fingerprint,
                _CREATED_AT.get_db_prep_value(now, connection),
                RESERVED_BYTES,
                user_id,
                settings.MAX_KEPT_RESPONSE_BYTES,
            ],
        )
        row = cursor.fetchone()
    return IdempotentRequest(id=row[0], created_at=now) if row else None


def _refuse_if_full(user_id: str) -> None:
    """Raise KeptResponsesFull if the user's kept rows add up to the cap, once their
    expired ones are forgotten; return if there is room (again). Only on the path
    where a claim found no row: a few statements more there alone."""
    kept = IdempotentRequest.objects.filter(user_id=user_id)
    total = kept.aggregate(total=Sum("size"))["total"] or 0
    if total < settings.MAX_KEPT_RESPONSE_BYTES:
        return
    now = timezone.now()
    forgotten, _ = kept.filter(created_at__lt=now - KEPT_FOR).delete()
    found = kept.aggregate(total=Sum("size"), oldest=Min("created_at"))
    if forgotten and (found["total"] or 0) < settings.MAX_KEPT_RESPONSE_BYTES:
        return
    oldest = found["oldest"] or now
    raise KeptResponsesFull(wait=(oldest + KEPT_FOR - now).total_seconds())


def _held(claim: IdempotentRequest) -> QuerySet[IdempotentRequest]:
    """The claim's row while this request still holds it (not taken over since)."""
    return IdempotentRequest.objects.filter(id=claim.id, created_at=claim.created_at)


def _take_over(earlier: IdempotentRequest, fingerprint: str) -> bool:
    """Claim a crashed request's key; False if another request took it first."""
    now = timezone.now()
    claimed = _held(earlier).update(
        created_at=now,
        fingerprint=fingerprint,
        status=None,
        body="",
        headers={},
        size=RESERVED_BYTES,
    )
    earlier.created_at = now
    return claimed == 1


def _replay(earlier: IdempotentRequest) -> Response:
    headers = {**earlier.headers, "Idempotency-Replayed": "true"}
    body = json.loads(earlier.body) if earlier.body else None
    return Response(
        body, status=earlier.status, headers=headers, content_type=earlier.content_type or None
    )


def _keep(claim: IdempotentRequest, scope: str, key: str, response: Response) -> None:
    # Compact and UTF-8 as the response itself is, not \u escapes: a kept body is no
    # larger than the response (an emoji escaped would take 12 bytes for 4).
    body = (
        json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
        if response.data is not None
        else ""
    )
    content_type = response.content_type or ""
    headers = {name: response[name] for name in KEPT_HEADERS if name in response}
    size = kept_size(
        scope=scope,
        key=key,
        body=body,
        content_type=content_type,
        headers=json.dumps(headers, ensure_ascii=False),
    )
    _held(claim).update(
        status=response.status_code,
        content_type=content_type,
        body=body,
        headers=headers,
        size=size,
    )


def idempotent(view: APIView, request: Request, work: Callable[[], Response]) -> Response:
    """`work()`'s response, done at most once per `Idempotency-Key` of the caller,
    method and path; without the header, just `work()`. A new key is refused with
    KeptResponsesFull (429) while the caller keeps MAX_KEPT_RESPONSE_BYTES already."""
    key = _key(request)
    if key is None:
        return work()
    owner_id, user_id = str(request.user.id), view.kwargs["user_id"]
    # `me` and the owner's id name one path, with or without its trailing slash.
    path = request.path.rstrip("/").replace(f"/{user_id}/", f"/{owner_id}/", 1)
    scope = f"{request.method} {path}"
    fingerprint = _fingerprint(request.data)
    claim = _claim(owner_id, scope, key, fingerprint)
    while claim is None:
        earlier = IdempotentRequest.objects.filter(user_id=owner_id, scope=scope, key=key).first()
        if earlier is None:  # no such key: the user keeps too much (or it was released)
            _refuse_if_full(owner_id)
            claim = _claim(owner_id, scope, key, fingerprint)
            continue
        age = timezone.now() - earlier.created_at
        if age > KEPT_FOR:
            # Expired: forgotten, and the key claimed anew, as a new key is (its bytes
            # counted against the cap); a request that forgot it first wins the claim.
            _held(earlier).delete()
            claim = _claim(owner_id, scope, key, fingerprint)
            continue
        if earlier.fingerprint != fingerprint:
            raise KeyReused()
        if earlier.status is None and age.total_seconds() > IN_FLIGHT_SECONDS:
            # A crashed request's claim: its reservation stays counted.
            if not _take_over(earlier, fingerprint):
                raise KeyInFlight()
            claim = earlier
        elif earlier.status is None:
            raise KeyInFlight()
        else:
            return _replay(earlier)
    try:
        with transaction.atomic():
            response = work()
            if response.status_code < 500:
                _keep(claim, scope, key, response)
    except Exception as exc:  # rolled back: answer as DRF would, and keep that answer
        try:
            response = view.handle_exception(exc)
        except Exception:
            _held(claim).delete()
            raise
        if response.status_code < 500:
            _keep(claim, scope, key, response)
    if response.status_code >= 500:
        _held(claim).delete()
    return response


def forget_expired() -> int:
    """Delete every kept request older than KEPT_FOR; how many there were."""
    forgotten, _ = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    return forgotten
