"""RFC 9457 problem details: the one shape of every error this service answers.

`exception_handler` renders DRF's exceptions (the apps raise only those); the
`*_view` functions are Django's handler404/400/403/500 and answer problem+json under
`/api/`, Django's usual HTML pages elsewhere (the admin), and 503 with `Retry-After`
wherever the database failed.
"""

import logging
import sys
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from accounts.ratelimit import client_address
from agents import MCP_PATH
from todo_project.database import log_unavailable

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Refusals worth a security log line: bad or missing tokens, wrong user, rate limits.
SECURITY_STATUSES = {401, 403, 429}

logger = logging.getLogger(__name__)
security_log = logging.getLogger("todo_project.security")


def problem(
    status: int,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    problem_type: str = "about:blank",
) -> dict:
    """Build a problem body: `type`, `title`, `status`, `detail` and maybe `errors`."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(status: int, detail: str, **extra: Any) -> JsonResponse:
    """A plain Django response carrying a problem body (for code outside DRF views)."""
    body = problem(status, detail) | extra
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into `{"field.index": ["message", ...]}`."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in messages]}


def validation_detail(errors: Mapping[str, list[str]]) -> str:
    """What a person reads: each bad field with its first message, `; `-separated
    (many frontends show `detail` alone)."""
    return "; ".join(f"{name}: {messages[0]}" for name, messages in errors.items())


class DatabaseUnavailable(exceptions.APIException):
    """The database can't be reached or dropped the connection: 503, retry shortly."""

    status_code = 503
    default_detail = "The service can't reach its database right now; try again shortly."

    def __init__(self) -> None:
        super().__init__()
        self.wait = settings.DB_UNAVAILABLE_RETRY_AFTER_SECONDS


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering problem+json. Non-API errors fall to 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError):
        log_unavailable(exc)
        exc = DatabaseUnavailable()
    if not isinstance(exc, exceptions.APIException):
        return None
    if exc.status_code in SECURITY_STATUSES:
        _log_refusal(exc, context["request"])

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        body = problem(exc.status_code, validation_detail(errors), errors=errors)
    else:
        # An exception may name its own kind of problem (`problem_type`, a URI) and
        # the inputs it is about (`errors`).
        problem_type = getattr(exc, "problem_type", "about:blank")
        named = getattr(exc, "errors", None)
        body = problem(exc.status_code, str(exc.detail), errors=named, problem_type=problem_type)

    headers = dict(getattr(exc, "headers", {}))
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if (wait := getattr(exc, "wait", None)) is not None:
        headers["Retry-After"] = str(max(1, int(wait)))

    set_rollback()
    return Response(
        body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE
    )


def _log_refusal(exc: exceptions.APIException, request: Request) -> None:
    """A security event: who was refused and why; never the token or its claims."""
    user = request.user
    security_log.warning(
        "request refused",
        extra={
            "status": exc.status_code,
            "reason": getattr(exc, "reason", None) or str(exc.detail),
            "client": client_address(request),
            "method": request.method,
            "path": request.path,
            "user_id": user.id if user else None,
        },
    )


def is_api_path(path: str) -> bool:
    """Whether `path` is the API's (bearer tokens, problem+json), not a page's."""
    # /mcp: a token, no cookies, as `/api/…`
    return path.startswith("/api/") or path.rstrip("/") == MCP_PATH


def _is_api(request: HttpRequest) -> bool:
    return is_api_path(request.path)


def not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(404, "No such resource.")
    return defaults.page_not_found(request, exception)


def bad_request_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(400, "The request could not be understood.")
    return defaults.bad_request(request, exception)


def permission_denied_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(403, "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def server_error_view(request: HttpRequest) -> HttpResponse:
    """500, or 503 with `Retry-After` when the database failed: the error being handled
    may come from anywhere, a middleware or a view outside DRF (the admin)."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        log_unavailable(error)
        return _database_unavailable(request)
    if _is_api(request):
        return problem_response(500, "The server failed to answer; the error has been logged.")
    return defaults.server_error(request)


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    wait = settings.DB_UNAVAILABLE_RETRY_AFTER_SECONDS
    if _is_api(request):
        response: HttpResponse = problem_response(503, DatabaseUnavailable.default_detail)
    else:
        page = render_to_string("503.html", {"retry_after": wait})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(wait)
    return response
