"""Request guards that apply before any view runs."""

from collections.abc import Callable

import django.middleware.common
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

from todo_project.health import PROBE_PATHS
from todo_project.problems import is_api_path, problem_response

CHUNKED_DETAIL = "Send the body with a Content-Length header; chunked bodies are not read."


class BodySizeLimitMiddleware:
    """Refuse a body declared larger than `MAX_BODY_BYTES` with 413, before reading it,
    and a chunked one (no Content-Length) with 411: Django would read it as empty, and
    the client would believe its change was saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return problem_response(411, CHUNKED_DETAIL)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return problem_response(400, "The Content-Length header is not a number.")
        if length > settings.MAX_BODY_BYTES:
            return problem_response(
                413, f"The request body is larger than {settings.MAX_BODY_BYTES} bytes."
            )
        return self.get_response(request)


class PrivateApiResponsesMiddleware:
    """Every API response (`/api/…`, `/mcp`) is `Cache-Control: private, no-cache` and varies by
    `Authorization`: `/api/me/tasks` is one URL for every user, so a cache keyed by
    the URL alone would hand one user's tasks to another. A 304 carries no
    `Content-Length` (RFC 9110 8.6: it would have to be the full response's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_api_path(request.path_info):
            response["Cache-Control"] = "private, no-cache"
            patch_vary_headers(response, ("Authorization",))
            if response.status_code == 304:
                # CommonMiddleware, inside this one, counts the empty body.
                del response["Content-Length"]
        return response


class ContentSecurityPolicyMiddleware:
    """Send `CONTENT_SECURITY_POLICY` with every HTML page (the API docs, the admin,
    Django's own pages), so nothing on them loads from or talks to another origin,
    including what a bundled script refers to (Redoc's footer logo is on a CDN)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class BrowserOnlyMiddleware:
    """Sessions, logged-in users, messages and the sign-in lockout, for the admin only.

    API calls carry a bearer token and no cookies, so they skip these middlewares,
    which cost about a tenth of a small API request. (Django's admin checks look
    for them in MIDDLEWARE by name; settings silence those checks.)
    """

    STACK = (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "axes.middleware.AxesMiddleware",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        browser_response = get_response
        for path in reversed(self.STACK):
            browser_response = import_string(path)(browser_response)
        self.browser_response = browser_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path_info):
            return self.get_response(request)
        return self.browser_response(request)


class CommonMiddleware(django.middleware.common.CommonMiddleware):
    """Django's, except that the platform's probes skip it: their Host header may be
    the instance's address, which no ALLOWED_HOSTS lists (todo_project/health.py)."""

    def process_request(self, request: HttpRequest) -> HttpResponsePermanentRedirect | None:
        if request.path_info in PROBE_PATHS:
            return None
        return super().process_request(request)
