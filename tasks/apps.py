from django.apps import AppConfig


class TasksConfig(AppConfig):
    """The task resource: model, API and admin."""

    name = "tasks"

    def ready(self) -> None:
        from tasks import schema  # noqa: F401  (registers itself with drf-spectacular)
