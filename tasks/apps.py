from django.apps import AppConfig


class TasksConfig(AppConfig):
    """The task resource: model, API and admin."""

    name = "tasks"
