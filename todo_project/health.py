"""Liveness and readiness probes for the platform: no token, GET and HEAD only, any Host.

They are DRF views like the API, so another method is a 405 problem (never Django's
CSRF page) and a flood from one address meets RATE_LIMIT_ANON, counted apart from the
API's anonymous calls. They skip the check of the Host header against ALLOWED_HOSTS
(todo_project.middleware.CommonMiddleware): a platform's health check often calls an
instance by its address, which no ALLOWED_HOSTS lists.
"""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.ratelimit import RateLimitedViewMixin
from todo_project.database import log_unavailable
from todo_project.problems import problem_response


class Probe(RateLimitedViewMixin, APIView):
    schema = None  # not part of the API's document
    anonymous_rate_group = "probes"
    authentication_classes: list = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head"]


class Healthz(Probe):
    def get(self, request: Request) -> JsonResponse:
        """The process is up and answering; touches nothing else."""
        return JsonResponse({"status": "ok"})


def _unapplied_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Readyz(Probe):
    def get(self, request: Request) -> JsonResponse:
        """The database answers and every migration is applied: 200, else 503."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            pending = _unapplied_migrations()
        except DatabaseError as error:
            log_unavailable(error)
            return problem_response(
                503, "The database is unreachable.", checks={"database": "unreachable"}
            )
        if pending:
            return problem_response(
                503,
                f"{pending} database migration(s) are not applied.",
                checks={"database": "ok", "migrations": "pending"},
            )
        return JsonResponse({"status": "ready", "checks": {"database": "ok", "migrations": "ok"}})


# The probes' paths (todo_project/urls.py); the HTTPS redirect spares them too.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
