"""The OpenAPI document and its viewers, completed with what drf-spectacular can't infer.

Every API operation gets its problem+json error responses (which ones follows from
the operation: a body can be invalid or too large, an `{id}` can be missing) and
the response headers the contract promises (`Link`, `X-Total-Count`, `Location`,
`ETag`, `WWW-Authenticate`, `Retry-After`) and the conditional request headers
(`If-Match`, `If-None-Match`); a created task links to its operations.
"""

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.utils.encoding import force_bytes
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from accounts.ratelimit import RateLimitedViewMixin
from agents.exceptions import ChatModelFailed
from tasks.exceptions import KeyReused, PreconditionFailed, SyncTokenExpired, TaskLimitReached
from todo_project.middleware import CHUNKED_DETAIL
from todo_project.problems import PROBLEM_CONTENT_TYPE, problem, validation_detail

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {
            "type": "object",
            "description": "Validation errors: field or parameter name (a nested item as "
            "a dotted path, `tags.3`) to messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_INVALID = {"title": ["This field may not be blank."]}
ERRORS = {
    400: (
        "Invalid body, query parameter or header (`If-Match`, `Idempotency-Key`).",
        problem(400, validation_detail(_INVALID), errors=_INVALID),
    ),
    401: ("Missing, invalid or expired token.", problem(401, "The access token is invalid.")),
    403: (
        "The URL's user is not the token's.",
        problem(403, "This token does not belong to the user in the URL."),
    ),
    404: ("No such task for this user.", problem(404, "Not found.")),
    409: (
        "The user holds `MAX_TASKS_PER_USER` tasks already; or a request with this "
        "`Idempotency-Key` is still running (with `Retry-After`).",
        problem(409, str(TaskLimitReached.default_detail)),
    ),
    411: ("A chunked body: send it with `Content-Length`.", problem(411, CHUNKED_DETAIL)),
    412: (
        "The task is not at a version `If-Match` names; nothing was written.",
        problem(412, str(PreconditionFailed.default_detail)),
    ),
    410: (
        "The token is older than `TRASH_RETENTION_DAYS`: sync in full (no `since`).",
        problem(
            410, str(SyncTokenExpired.default_detail), problem_type=SyncTokenExpired.problem_type
        ),
    ),
    413: ("The body is over `MAX_BODY_BYTES`.", problem(413, "The request body is too large.")),
    422: (
        "This `Idempotency-Key` came with another body.",
        problem(422, str(KeyReused.default_detail)),
    ),
    415: (
        "The body is not `application/json`.",
        problem(415, 'Unsupported media type "text/plain" in request.'),
    ),
    429: (
        "Over the rate limit; or, for a request with a new Idempotency-Key, the user keeps "
        "as many retry-safe responses as allowed (MAX_KEPT_RESPONSE_BYTES). Wait "
        "`Retry-After` seconds.",
        problem(429, "Request was throttled. Expected available in 12 seconds."),
    ),
    502: (
        "The chat's model failed or timed out. The message is kept, with the tool calls "
        "made, in the problem's `conversation_id`: send it again there to retry.",
        problem(
            502,
            "The model did not answer within 60 seconds.",
            problem_type=ChatModelFailed.problem_type,
        )
        | {"conversation_id": 3},
    ),
    503: (
        "Better Auth's keys can't be fetched to verify the token; retry later. For the "
        "chat, also: the server has no model (`chat-not-configured`), or is answering as "
        "many messages as it may (`chat-busy`).",
        problem(503, "The sign-in service's keys can't be fetched right now; try again shortly."),
    ),
}

HEADERS = {
    "WWW-Authenticate": ("string", 'Always `Bearer realm="api"`.'),
    "Retry-After": ("integer", "Seconds to wait before trying again."),
    "Link": ("string", 'The next page: `<url>; rel="next"`; absent on the last page.'),
    "X-Total-Count": ("integer", "How many items (tasks, conversations...) match, over all pages."),
    "Location": ("string", "The new task's URL."),
    "ETag": ("string", 'The task\'s version, quoted (`"3"`): send it as `If-Match`.'),
    "Idempotency-Replayed": ("string", "`true`: the kept response to this key's first request."),
}
ERROR_HEADERS = {
    401: ["WWW-Authenticate"],
    409: ["Retry-After"],
    412: ["ETag"],
    429: ["Retry-After"],
    503: ["Retry-After"],
}
_ETAG = {"200": ("ETag",)}
_PAGE = {"200": ("Link", "X-Total-Count")}


@dataclass(frozen=True)
class Operation:
    """What the hook adds to one operation of `/api/{user_id}/` that drf-spectacular
    can't see: response headers by status, the precondition header it takes, whether
    it creates tasks (refused at the cap, with an Idempotency-Key), statuses of its
    own, and whether its body is required though no one field of it is."""

    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    condition: str | None = None
    creates: bool = False
    own_statuses: tuple[int, ...] = ()
    needs_body: bool = False


# Every operation of `/api/{user_id}/`, each once: one missing here (or one here that
# the API lacks) fails todo_project/tests/test_openapi.py, rather than losing its
# headers silently.
OPERATIONS = {
    "tasks_list": Operation(headers=_PAGE),
    "tasks_create": Operation(
        headers={"201": ("Location", "ETag", "Idempotency-Replayed")}, creates=True
    ),
    "tasks_bulk": Operation(
        headers={"200": ("Idempotency-Replayed",), "201": ("Idempotency-Replayed",)},
        creates=True,
        own_statuses=(404,),
    ),
    "tasks_retrieve": Operation(headers=_ETAG, condition="If-None-Match"),
    "tasks_update": Operation(headers=_ETAG, condition="If-Match"),
    "tasks_partial_update": Operation(headers=_ETAG, condition="If-Match"),
    "tasks_destroy": Operation(condition="If-Match"),
    "tasks_complete_partial_update": Operation(headers=_ETAG, condition="If-Match"),
    "tasks_completions": Operation(),
    "tasks_move": Operation(headers=_ETAG, condition="If-Match", needs_body=True),
    "lists_list": Operation(),
    "lists_create": Operation(
        headers={"201": ("Location", "ETag", "Idempotency-Replayed")}, creates=True
    ),
    "lists_retrieve": Operation(headers=_ETAG, condition="If-None-Match"),
    "lists_update": Operation(headers=_ETAG, condition="If-Match", own_statuses=(409,)),
    "lists_partial_update": Operation(headers=_ETAG, condition="If-Match", own_statuses=(409,)),
    "lists_destroy": Operation(condition="If-Match", own_statuses=(409,)),
    "lists_move": Operation(headers=_ETAG, condition="If-Match", needs_body=True),
    "trash_list": Operation(headers=_PAGE),
    "trash_empty": Operation(),
    "trash_destroy": Operation(),
    "trash_restore": Operation(headers=_ETAG),
    "changes_list": Operation(own_statuses=(410,)),
    "notifications_list": Operation(),
    "notifications_read": Operation(),
    "settings_retrieve": Operation(),
    "settings_partial_update": Operation(),
    "push_subscriptions_list": Operation(),
    "push_subscriptions_create": Operation(),
    "push_subscriptions_destroy": Operation(),
    "chat_create": Operation(own_statuses=(404, 502)),
    "conversations_list": Operation(headers=_PAGE),
    "conversations_messages": Operation(headers=_PAGE),
    "conversations_destroy": Operation(),
    "webhooks_list": Operation(),
    "webhooks_create": Operation(),
    "webhooks_retrieve": Operation(),
    "webhooks_partial_update": Operation(),
    "webhooks_destroy": Operation(),
    "webhooks_test": Operation(),
    "activity_list": Operation(headers=_PAGE),
    "events_stream": Operation(),
    "events_ticket": Operation(),
}
CONDITIONS = {
    "If-Match": 'Write only if the task is at this version (its ETag, e.g. `"3"`; `*`: '
    "any existing task). Otherwise 412 with the current ETag, and nothing changes; a value "
    "that is neither (an unquoted `3`) is a 400.",
    "If-None-Match": "The ETag you hold: 304 with no body while the task is still at it.",
    "Idempotency-Key": "1 to 255 printable ASCII characters, new for each new request: a "
    "retry with it (and the same body) within 24 hours gets the first response again, "
    "with `Idempotency-Replayed: true`, and creates nothing.",
}


def _headers(names: Iterable[str]) -> dict[str, Any]:
    return {
        name: {"schema": {"type": HEADERS[name][0]}, "description": HEADERS[name][1]}
        for name in names
    }


def _error_statuses(
    path: str, method: str, operation: dict[str, Any], known: Operation
) -> list[int]:
    statuses = [401, 403, 429, 503]
    has_query = any(p["in"] == "query" for p in operation.get("parameters", []))
    if "requestBody" in operation or method in ("put", "patch"):
        statuses += [400, 411, 413, 415]
    elif has_query:
        statuses.append(400)
    if known.creates:
        statuses += [409, 422]
    if "{id}" in path:
        statuses.append(404)
    if known.condition == "If-Match":
        statuses += [400, 412]
    statuses += known.own_statuses
    return sorted(set(statuses))


# An RFC 9110 entity tag, maybe weak, and a list of them or `*`: what If-Match takes
# (tasks.preconditions refuses anything else). A malformed If-None-Match is ignored.
_ENTITY_TAG = '(W/)?"[\\x21\\x23-\\x7e]*"'
ENTITY_TAGS = f"^[ \\t]*(\\*|{_ENTITY_TAG}([ \\t]*,[ \\t]*{_ENTITY_TAG})*)[ \\t]*$"
# What a header parameter's value may be, beyond a string.
HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {"minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    "If-Match": {"pattern": ENTITY_TAGS},
}


def _header_parameter(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string", **HEADER_SCHEMAS.get(name, {})},
        "description": CONDITIONS[name],
    }


def _links_from_create(paths: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from a created task to every operation on it, so clients and
    stateful fuzzers know the `id` in the 201 body names it."""
    return {
        operation["operationId"]: {
            "operationId": operation["operationId"],
            "parameters": {"user_id": "$request.path.user_id", "id": "$response.body#/id"},
        }
        for path, operations in paths.items()
        if path.startswith("/api/{user_id}/tasks/{id}")
        for operation in operations.values()
    }


def complete_operations(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook (see SPECTACULAR_SETTINGS): problem
    responses, response headers and links on every task operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    # The router accepts both spellings; document the contract's, without the slash.
    result["paths"] = {
        path.rstrip("/") or path: ops for path, ops in result.get("paths", {}).items()
    }
    for path, operations in result["paths"].items():
        if not path.startswith("/api/{user_id}/"):
            continue
        for method, operation in operations.items():
            operation_id = operation["operationId"]
            known = OPERATIONS.get(operation_id, Operation())
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if names := known.headers.get(code):
                    response["headers"] = _headers(names)
                if operation_id == "tasks_create" and code == "201":
                    response["links"] = _links_from_create(result["paths"])
            if known.needs_body:
                operation["requestBody"]["required"] = True
            if known.creates:
                operation.setdefault("parameters", []).append(_header_parameter("Idempotency-Key"))
            if condition := known.condition:
                parameters = operation.setdefault("parameters", [])
                if condition not in {parameter["name"] for parameter in parameters}:
                    parameters.append(_header_parameter(condition))
                if condition == "If-None-Match":
                    responses["304"] = {
                        "description": "Not modified: the task is at the version you hold.",
                        "headers": _headers(["ETag"]),
                    }
            for status in _error_statuses(path, method, operation, known):
                description, example = ERRORS[status]
                response = {
                    "description": description,
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref, "example": example}},
                }
                if status in ERROR_HEADERS:
                    response["headers"] = _headers(ERROR_HEADERS[status])
                responses[str(status)] = response
    return result


@functools.cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return schema


@functools.cache
def _document(media_type: str) -> bytes:
    """The document as the schema view's renderer for `media_type` writes it."""
    (renderer,) = [r for r in SchemaView.renderer_classes if r.media_type == media_type]
    return force_bytes(renderer().render(_schema(), renderer_context={}))


class SchemaView(RateLimitedViewMixin, SpectacularAPIView):
    """The OpenAPI document (YAML, or JSON by `?format=json` or `Accept`), built and
    rendered once per process: it changes only with the code. Public, and counted
    against RATE_LIMIT_ANON like any call without a token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        renderer = request.accepted_renderer
        charset = f"; charset={renderer.charset}" if renderer.charset else ""
        response = HttpResponse(
            _document(renderer.media_type), content_type=f"{request.accepted_media_type}{charset}"
        )
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, None)}"'
        return response


class SwaggerView(RateLimitedViewMixin, SpectacularSwaggerSplitView):
    """Swagger UI, its start-up script served as a file: the CSP allows no inline script."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class RedocView(RateLimitedViewMixin, SpectacularRedocView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
