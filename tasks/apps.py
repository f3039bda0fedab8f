from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


class TasksConfig(AppConfig):
    """The task resource: model, API and admin."""

    name = "tasks"

    def ready(self) -> None:
        from tasks import schema  # noqa: F401  (registers itself with drf-spectacular)

        # Every `migrate` (the release step, `make run`, a test database) leaves the
        # statement timeout on the role; post_migrate is sent to apps with models only.
        post_migrate.connect(_apply_statement_timeout, sender=self)


def _apply_statement_timeout(using: str, **_kwargs: Any) -> None:
    from todo_project.database import apply_statement_timeout

    apply_statement_timeout(settings.DB_STATEMENT_TIMEOUT_MS, using)
