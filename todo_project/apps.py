from django.apps import AppConfig


class TodoProjectConfig(AppConfig):
    """The project's wiring, as an app only so that its system checks register."""

    name = "todo_project"

    def ready(self) -> None:
        from todo_project import checks  # noqa: F401  (registers itself)
