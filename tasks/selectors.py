"""Reads of tasks, always scoped to their owner."""

from typing import Any

from django.db.models import QuerySet

from tasks.filters import filter_tasks
from tasks.models import Task


def task_get(*, user_id: str, task_id: int) -> Task | None:
    """The owner's task with this id, or None (another user's task is None too)."""
    return Task.objects.filter(id=task_id, user_id=user_id).first()


def task_list(*, user_id: str, query: dict[str, Any]) -> QuerySet[Task]:
    """The owner's tasks matching a validated TaskListQuery, not yet ordered."""
    return filter_tasks(Task.objects.filter(user_id=user_id), query)
