"""Recording events: which door a change came through, and the events the database's
triggers don't write (a list's changes, a fired reminder).

A task's changes are recorded by the database (migration 0002's triggers) in the
statement that writes the task, so every path that writes a task (the API, bulk, the
admin, the MCP tools, the chat, the worker) records them, in its transaction, at no
extra round trip. The trigger takes the source from the task's `changed_via`, which
tasks.queries writes from `current_source()`.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models

from delivery.models import Event, EventType, Source

# Outside a request (the worker, a command) a change is the worker's.
_source: ContextVar[str] = ContextVar("change_source", default=Source.WORKER)
_CHAT = re.compile(r"^/api/[^/]+/chat/?$")


def current_source() -> str:
    """The door the changes being made now come through (`Source`)."""
    return _source.get()


@contextmanager
def changes_from(source: str) -> Iterator[None]:
    """Record the changes made inside as coming through `source`."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def source_of_path(path: str) -> str:
    """The door a request to `path` is: the admin, the MCP server, the chat, or the API."""
    if path.startswith("/" + settings.ADMIN_URL):
        return Source.ADMIN
    if path.rstrip("/") == "/mcp":
        return Source.MCP
    if _CHAT.match(path):
        return Source.CHAT
    return Source.API


def row_data(instance: models.Model) -> dict[str, Any]:
    """A model row as an event's `data` keeps it: each concrete column by its
    attribute name (date-times as ISO 8601, by Event.data's encoder)."""
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def record_list(event_type: EventType, task_list: Any) -> None:
    """Record a change of a list (a tasks.models.TaskList), in the caller's transaction."""
    Event.objects.create(
        user_id=task_list.user_id,
        type=event_type,
        list_id=task_list.id,
        title=task_list.name,
        data=row_data(task_list),
        source=current_source(),
    )


def record_reminder(*, task: Any, notification: Any) -> None:
    """Record a reminder that fired (a tasks.models.Notification of `task`), in the
    caller's transaction."""
    Event.objects.create(
        user_id=task.user_id,
        type=EventType.REMINDER_FIRED,
        task_id=task.id,
        list_id=task.list_id,
        title=notification.title,
        data={
            "notification_id": notification.id,
            "task_id": task.id,
            "title": notification.title,
            "due_at": task.due_date,
            "due_day": task.due_day,
            "remind_at": notification.remind_at,
            "fired_at": notification.fired_at,
        },
        source=current_source(),
    )
