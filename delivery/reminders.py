"""Firing reminders (each turn of the delivery loop): each reminder due fires once, as
a notification, a `reminder.fired` event and a Web Push to each of the owner's
subscriptions.

A task's `next_remind_at` is its earliest reminder due (tasks.schedule). `fire_due`
takes the tasks due under a row lock, skipping those another worker holds, and in one
transaction per batch of them records the notifications and events, queues their
pushes and writes the spent reminders (`remind_at` null). So with several workers none fires
twice, and a worker killed mid-way has committed all of a batch or none of it: the
next run fires what it had not. A reminder of a task completed or trashed by then is spent without
firing; one missed by more than REMINDER_GRACE_MINUTES is listed but not pushed. Each
notification keeps how many browsers its push was queued for, or why none (late, no
subscription, push off): with the push attempts (delivery.push), support's trail of it.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delivery import events, push
from tasks import queries
from tasks.models import Notification, NotPushed, Task

BATCH = 100


def fire_due(*, now: datetime | None = None) -> int:
    """Fire every reminder due by `now` (default: the present); how many fired."""
    now = now or timezone.now()
    fired = 0
    # Looked at first without a transaction: on SQLite, one takes the write lock.
    if not Task.objects.filter(next_remind_at__lte=now).exists():
        return 0
    while True:
        with transaction.atomic():
            due = list(
                Task.objects.select_for_update(skip_locked=True)
                .filter(next_remind_at__lte=now)
                .order_by("next_remind_at", "id")
                .values_list("id", flat=True)[:BATCH]
            )
            for task_id in due:
                fired += _fire(Task.objects.get(id=task_id), now)
        if len(due) < BATCH:
            break
    return fired


def _fire(task: Task, now: datetime) -> int:
    """Fire the task's reminders due by `now`; how many fired."""
    grace = timedelta(minutes=settings.REMINDER_GRACE_MINUTES)
    live = task.deleted_at is None and not task.completed
    fired = 0
    reminders: list[dict[str, Any]] = []
    for reminder in task.reminders:
        remind_at = reminder.get("remind_at")
        if remind_at is None or datetime.fromisoformat(remind_at) > now:
            reminders.append(reminder)
            continue
        reminders.append({**reminder, "remind_at": None})
        if live:
            _notify(task, reminder, datetime.fromisoformat(remind_at), now, grace)
            fired += 1
    queries.task_reminders_spent(user_id=task.user_id, task_id=task.id, reminders=reminders)
    return fired


def _topic(task: Task, reminder: dict[str, Any]) -> str:
    """The push's Topic: one per reminder of the task (whatever its place in the list),
    so a newer push of it replaces one not yet delivered. At most 32 characters."""
    spec = json.dumps({k: v for k, v in reminder.items() if k != "remind_at"}, sort_keys=True)
    return f"t{task.id}-{hashlib.blake2s(spec.encode(), digest_size=4).hexdigest()}"


def _notify(
    task: Task, reminder: dict[str, Any], remind_at: datetime, now: datetime, grace: timedelta
) -> None:
    """Record the notification and its event, and queue its push unless it is late; the
    notification keeps how many browsers it was queued for, or why none."""
    late = now - remind_at > grace
    notification = Notification.objects.create(
        user_id=task.user_id,
        task=task,
        title=task.title,
        remind_at=remind_at,
        fired_at=now,
        pushes=0,
        not_pushed=NotPushed.LATE if late else "",
    )
    events.record_reminder(task=task, notification=notification)
    if late:
        return
    pushes = push.enqueue(
        user_id=task.user_id,
        payload={
            "type": "reminder",
            "notification_id": notification.id,
            "task": {
                "id": task.id,
                "title": task.title,
                "due_date": task.due_day or task.due_date,
            },
            "remind_at": remind_at,
        },
        topic=_topic(task, reminder),
        ttl=int(grace.total_seconds()),
        urgency="high",
    )
    if pushes:
        not_pushed = ""
    elif push.signing_key() is None:
        not_pushed = NotPushed.PUSH_OFF
    else:
        not_pushed = NotPushed.NO_SUBSCRIPTION
    # Known only now: the push names the notification, so it is created first.
    Notification.objects.filter(id=notification.id).update(pushes=pushes, not_pushed=not_pushed)
