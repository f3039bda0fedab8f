"""Retry-safe requests: an `Idempotency-Key` makes a create (or bulk call) happen once.

The first request with a key claims it: a row inserted and committed before the work,
with no status yet, so that any concurrent request with the key finds it in flight
(409, `Retry-After`). Its response is kept in that row by the same transaction as the
work, so a crash between the two leaves neither, and the claim is taken over once it
is IN_FLIGHT_SECONDS old. A retry with the same body gets the kept response again
(`Idempotency-Replayed: true`); with another body, 422. A response of 500 or more is
not kept: the claim is released and a retry runs again. Keys live KEPT_FOR.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from tasks.exceptions import KeyInFlight, KeyReused
from tasks.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
# Longer than any request runs: a claim this old is a crashed worker's.
IN_FLIGHT_SECONDS = 60
KEPT_HEADERS = ("Location", "ETag")
_CREATED_AT = IdempotentRequest._meta.get_field("created_at")


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


def _claim(user_id: str, scope: str, key: str, fingerprint: str) -> IdempotentRequest | None:
    """The new claim of this key, or None if a request holds it (or held it) already."""
    table = connection.ops.quote_name(IdempotentRequest._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, scope, key, fingerprint, created_at, status, "  # noqa: S608
            "content_type, body, headers) VALUES (%s, %s, %s, %s, %s, NULL, '', '', '{}') "
            "ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING id",
            [user_id, scope, key, fingerprint, _CREATED_AT.get_db_prep_value(now, connection)],
        )
        row = cursor.fetchone()
    return IdempotentRequest(id=row[0], created_at=now) if row else None


def _held(claim: IdempotentRequest) -> QuerySet[IdempotentRequest]:
    """The claim's row while this request still holds it (not taken over since)."""
    return IdempotentRequest.objects.filter(id=claim.id, created_at=claim.created_at)


def _take_over(earlier: IdempotentRequest, fingerprint: str) -> bool:
    """Claim a key whose row is expired, or a crashed request's; False if another
    request took it first."""
    now = timezone.now()
    claimed = _held(earlier).update(
        created_at=now, fingerprint=fingerprint, status=None, body="", headers={}
    )
    earlier.created_at = now
    return claimed == 1


def _replay(earlier: IdempotentRequest) -> Response:
    headers = {**earlier.headers, "Idempotency-Replayed": "true"}
    body = json.loads(earlier.body) if earlier.body else None
    return Response(
        body, status=earlier.status, headers=headers, content_type=earlier.content_type or None
    )


def _keep(claim: IdempotentRequest, response: Response) -> None:
    body = json.dumps(response.data, cls=JSONEncoder) if response.data is not None else ""
    _held(claim).update(
        status=response.status_code,
        content_type=response.content_type or "",
        body=body,
        headers={name: response[name] for name in KEPT_HEADERS if name in response},
    )


def idempotent(view: APIView, request: Request, work: Callable[[], Response]) -> Response:
    """`work()`'s response, done at most once per `Idempotency-Key` of the caller,
    method and path; without the header, just `work()`."""
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
        if earlier is None:  # released in the meantime
            claim = _claim(owner_id, scope, key, fingerprint)
            continue
        age = timezone.now() - earlier.created_at
        expired = age > KEPT_FOR
        if not expired and earlier.fingerprint != fingerprint:
            raise KeyReused()
        crashed = earlier.status is None and age.total_seconds() > IN_FLIGHT_SECONDS
        if expired or crashed:
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
                _keep(claim, response)
    except Exception as exc:  # rolled back: answer as DRF would, and keep that answer
        try:
            response = view.handle_exception(exc)
        except Exception:
            _held(claim).delete()
            raise
        if response.status_code < 500:
            _keep(claim, response)
    if response.status_code >= 500:
        _held(claim).delete()
    return response


def forget_expired() -> int:
    """Delete every kept request older than KEPT_FOR; how many there were."""
    forgotten, _ = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    return forgotten
