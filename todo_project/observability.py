"""Request ids, one structured log line per request, and Prometheus metrics.

Every response carries `X-Request-ID` (the client's, when it sent a sane one) and
every log line written while serving it carries the same id. The access log line
names the route template, never the query string or any header, so no token can
reach it.
"""

import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)

from accounts.ratelimit import client_address
from todo_project.problems import problem_response
from todo_project.request_context import request_id_var

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Metric labels take only these methods; any other (a client can send anything) is
# OTHER, so no caller can grow the number of series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("todo_project.access")

REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_QUERIES = Histogram(
    "http_request_db_queries",
    "Database queries run to answer a request, by route template.",
    ["route"],
    buckets=(0, 1, 2, 3, 4, 5, 10, 20, 50),
)


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        self.count += 1
        return execute(*args)


@lru_cache(maxsize=256)
def _template(route: str) -> str:
    """`api/^(?P<user_id>[^/]+)/tasks/?$` → `api/{user_id}/tasks`."""
    template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    return "/" + template.replace("^", "").replace("$", "").replace("/?", "").rstrip("/")


def route_template(match: ResolverMatch | None) -> str:
    return _template(match.route) if match else "unmatched"


@lru_cache(maxsize=2048)
def _series(method: str, route: str, status: int) -> tuple[Histogram, Histogram]:
    """The labelled series a request is counted in: `labels()` costs more than `observe()`."""
    return REQUEST_SECONDS.labels(method, route, status), REQUEST_QUERIES.labels(route)


class RequestObservabilityMiddleware:
    """Tags the request with an id, then logs and measures its answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if SANE_REQUEST_ID.match(incoming) else secrets.token_hex(16)
        context = request_id_var.set(request_id)
        queries = _QueryCounter()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(queries):
                response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            self._record(request, response, seconds, queries.count)
        finally:
            request_id_var.reset(context)
        return response

    def _record(
        self, request: HttpRequest, response: HttpResponse, seconds: float, queries: int
    ) -> None:
        route = route_template(request.resolver_match)
        user = getattr(request, "user", None)
        access_log.info(
            "%s %s %s %.1f ms",
            request.method,
            route,
            response.status_code,
            seconds * 1000,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "queries": queries,
                "user_id": user.id if getattr(user, "is_authenticated", False) else None,  # type: ignore[union-attr]
                "client": client_address(request),
            },
        )
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        duration, query_count = _series(method, route, response.status_code)
        duration.observe(seconds)
        query_count.observe(queries)


def _may_scrape(request: HttpRequest) -> bool:
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    token = settings.METRICS_TOKEN.encode()
    if token and hmac.compare_digest(supplied.encode(errors="replace"), token):
        return True
    return client_address(request) in settings.METRICS_ALLOWED_IPS


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a bearer of METRICS_TOKEN or a METRICS_ALLOWED_IPS caller.

    Under gunicorn with several workers, PROMETHEUS_MULTIPROC_DIR (set by
    gunicorn.conf.py) makes every scrape see all of them.
    """
    if not _may_scrape(request):
        return problem_response(403, "Metrics need METRICS_TOKEN or an allowed address.")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
