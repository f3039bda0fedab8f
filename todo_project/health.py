"""Liveness and readiness probes for the platform: plain Django views, no token."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from todo_project.problems import problem_response


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _unapplied_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers and every migration is applied: 200, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = _unapplied_migrations()
    except DatabaseError:
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
