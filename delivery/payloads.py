"""What an event says when it goes out: its subject as the REST API answers it, the
webhook body (Standard Webhooks: `type`, `timestamp`, `data`) and the Dapr topics'
messages, each written by the REST API's renderer (date-times in UTC with a `Z`)."""

from datetime import UTC, datetime
from typing import Any

from django.db import models

from delivery.models import Event, EventType
from tasks.models import Task, TaskList
from tasks.queries.rows import ROW_NAMES, TaskRow
from tasks.serializers import list_json, task_json, trashed_task_json
from todo_project.renderers import OrjsonRenderer

_render = OrjsonRenderer().render


def dumps(data: Any) -> bytes:
    """`data` as the REST API writes JSON."""
    return bytes(_render(data))


def _values(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """A row's JSON copy (Event.data) with each column typed as the ORM reads it."""
    values = {}
    for field in model._meta.concrete_fields:
        value = data.get(field.attname)
        if value is not None and not isinstance(field, models.JSONField):
            value = field.to_python(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)  # SQLite's text keeps no offset
        values[field.attname] = value
    return values


def subject(event: Event) -> dict[str, Any]:
    """The event's subject as the REST API answers it: the task (with `deleted_at`
    when in the trash or deleted), the list, or the fired reminder."""
    if event.type == EventType.REMINDER_FIRED:
        return dict(event.data)
    if event.type.startswith("list."):
        return list_json(TaskList(**_values(TaskList, event.data)))
    values = _values(Task, event.data)
    row: TaskRow = {name: values[name] for name in ROW_NAMES}  # type: ignore[assignment]
    return task_json(row) if row["deleted_at"] is None else trashed_task_json(row)


def webhook_body(event: Event) -> bytes:
    """A webhook's body for the event (Standard Webhooks)."""
    return dumps({"type": event.type, "timestamp": event.at, "data": subject(event)})


# The task-events topic's `event_type` for each task event.
TASK_EVENT_TYPES = {
    EventType.TASK_CREATED: "created",
    EventType.TASK_UPDATED: "updated",
    EventType.TASK_COMPLETED: "completed",
    EventType.TASK_DELETED: "deleted",
    EventType.TASK_RESTORED: "updated",
}


def dapr_messages(event: Event) -> dict[str, bytes]:
    """The event's message for each Dapr topic it goes to: `task-events` (a task's
    change), `reminders` (a fired reminder) and `task-updates` (every change, for live
    clients)."""
    data = subject(event)
    messages: dict[str, Any] = {}
    if event.type in TASK_EVENT_TYPES:
        messages["task-events"] = {
            "event_type": TASK_EVENT_TYPES[EventType(event.type)],
            "task_id": event.task_id,
            "task_data": data,
            "user_id": event.user_id,
            "timestamp": event.at,
        }
    if event.type == EventType.REMINDER_FIRED:
        messages["reminders"] = {
            "task_id": event.task_id,
            "title": data["title"],
            "due_at": data.get("due_day") or data.get("due_at"),
            "remind_at": data["remind_at"],
            "user_id": event.user_id,
        }
    else:
        messages["task-updates"] = {
            "type": event.type,
            "user_id": event.user_id,
            "data": data,
            "timestamp": event.at,
        }
    return {topic: dumps(message) for topic, message in messages.items()}
