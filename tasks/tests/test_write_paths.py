"""Every way a task gets written keeps the rules of tasks.queries: `completed_at`
follows `completed`, `updated_at` moves only on a real change, `tag_keys` mirrors
`tags`, and each user's TaskCount (kept by triggers) matches their tasks. Each path
runs on a task it starts from, and the rows it leaves are checked."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tasks import queries
from tasks.models import Priority, Task, TaskCount, tag_keys
from tasks.tests.factories import TaskFactory
from testing.live import load_script
from testing.postgres import needs_postgres

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


def assert_rules_hold(task: Task) -> None:
    assert (task.completed_at is not None) is task.completed, task.title
    assert task.tag_keys == tag_keys(task.tags), task.title
    assert task.created_at <= task.updated_at, task.title


def assert_counts_exact() -> None:
    """Every user's TaskCount says what counting their tasks says (no tasks: zeros)."""
    live = Q(deleted_at__isnull=True)
    counted = {
        row["user_id"]: (row["pending"], row["completed"], row["trashed"])
        for row in Task.objects.values("user_id").annotate(
            pending=Count("id", filter=live & Q(completed=False)),
            completed=Count("id", filter=live & Q(completed=True)),
            trashed=Count("id", filter=~live),
        )
    }
    kept = {
        row.user_id: (row.pending, row.completed, row.trashed)
        for row in TaskCount.objects.all()
        if (row.pending, row.completed, row.trashed) != (0, 0, 0)
    }
    assert kept == counted


def form(task: Task, **changes: Any) -> dict[str, Any]:
    """The admin change form of `task`, as the page posts it, with `changes`."""
    fields = {
        "title": task.title,
        "description": task.description,
        "priority": task.priority,
        "due_date_0": "",
        "due_date_1": "",
        "tags": str(task.tags).replace("'", '"'),
        "recurrence": task.recurrence or "",
        "repeat_from": task.repeat_from,
        "reminders": str(task.reminders).replace("'", '"'),
        **changes,
    }
    if task.completed or changes.pop("completed", False):
        fields["completed"] = "on"
    return fields


Write = Callable[[APIClient, Client, Task], Any]


def api_call(method: str, suffix: str = "", body: Any = None) -> Write:
    """A call of the API on the task (`suffix` after its URL)."""
    return lambda api, _, task: getattr(api, method)(
        f"/api/me/tasks/{task.id}{suffix}", body, format="json"
    )


def admin_form(**changes: Any) -> Write:
    """The admin's change form of the task, posted with `changes`."""
    return lambda _, admin, task: admin.post(
        reverse("admin:tasks_task_change", args=[task.id]), form(task, **changes)
    )


def admin_action(action: str) -> Write:
    """The admin's bulk action on the task."""
    return lambda _, admin, task: admin.post(
        reverse("admin:tasks_task_changelist"), {"action": action, "_selected_action": [task.id]}
    )


# (what the path does, whether it changes the task, the write) for a task that starts
# with title "Start", tags ["Work"], not completed.
WRITES: list[tuple[str, bool, Write]] = [
    ("API PUT {title}", True, api_call("put", body={"title": "New"})),
    ("API PUT of its values", False, api_call("put", body={"title": "Start", "tags": ["Work"]})),
    ("API PATCH tags", True, api_call("patch", body={"tags": ["home", "q3"]})),
    ("API PATCH completed", True, api_call("patch", body={"completed": True})),
    ("API PATCH {}", False, api_call("patch", body={})),
    ("API toggle", True, api_call("patch", "/complete")),
    ("API set to its state", False, api_call("patch", "/complete", {"completed": False})),
    ("admin form: complete, retag", True, admin_form(completed=True, tags='["Errand"]')),
    ("admin form unchanged", False, admin_form()),
    ("admin bulk complete", True, admin_action("mark_completed")),
    ("admin bulk reopen of an open task", False, admin_action("mark_not_completed")),
]


@pytest.mark.parametrize(
    ("changes", "write"), [(w[1], w[2]) for w in WRITES], ids=[w[0] for w in WRITES]
)
def test_each_write_path_keeps_the_rules(
    api: APIClient, admin_client: Client, user_id: str, changes: bool, write: Write
) -> None:
    task = TaskFactory.create(user_id=user_id, title="Start", tags=["Work"], now=START)

    response = write(api, admin_client, task)

    assert response.status_code in (200, 302), response.content[:500]
    after = Task.objects.get(id=task.id)
    assert_rules_hold(after)
    assert (after.updated_at > START) is changes
    assert_counts_exact()


def test_a_completed_task_completed_again_keeps_its_completion_time(
    api: APIClient, admin_client: Client, user_id: str
) -> None:
    task = TaskFactory.create(user_id=user_id, completed=True, now=START)

    api.patch(f"/api/me/tasks/{task.id}/complete", {"completed": True}, format="json")
    api.put(f"/api/me/tasks/{task.id}", {"title": "Renamed", "completed": True}, format="json")
    admin_client.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "mark_completed", "_selected_action": [task.id]},
    )

    assert Task.objects.get(id=task.id).completed_at == START


@pytest.mark.parametrize("completed", [False, True])
def test_creates_keep_the_rules(
    api: APIClient, admin_client: Client, user_id: str, completed: bool
) -> None:
    body = {"title": "New", "completed": completed, "tags": ["Work", "home"]}
    api.post("/api/me/tasks", body, format="json")
    admin_client.post(
        reverse("admin:tasks_task_add"),
        {**form(Task(title="Admin", tags=["Work"], priority=Priority.LOW)), "user": user_id}
        | ({"completed": "on"} if completed else {}),
    )
    TaskFactory.create(user_id=user_id, title="Factory", completed=completed, tags=["x"])

    tasks = Task.objects.filter(user_id=user_id)
    assert sorted(task.title for task in tasks) == ["Admin", "Factory", "New"]
    for task in tasks:
        assert_rules_hold(task)
        assert task.completed is completed
        assert task.updated_at == task.created_at
    assert_counts_exact()


def test_the_bench_seeder_keeps_the_rules() -> None:
    load_script("bench/seed.py").main(["seeded", "200"])

    tasks = Task.objects.filter(user_id="seeded")
    assert tasks.count() == 200
    assert tasks.filter(completed=True).exists()
    assert tasks.exclude(tags=[]).exists()
    for task in tasks:
        assert_rules_hold(task)
    assert_counts_exact()


def test_moves_and_deletes_keep_the_counts(
    api: APIClient, admin_client: Client, user_id: str
) -> None:
    kept, moved, deleted = (
        TaskFactory.create(user_id=user_id, completed=done, title=title)
        for title, done in [("kept", True), ("moved", False), ("deleted", True)]
    )
    other = TaskFactory.create(user_id="other", title="other's").user
    TaskFactory.create_batch(3, user_id=other.id, completed=True)

    # The app never moves a task; a data migration or a support engineer's SQL might.
    Task.objects.filter(id=moved.id).update(user_id=other.id)
    api.delete(f"/api/me/tasks/{deleted.id}")
    assert Task.objects.get(id=moved.id).user_id == "other"
    assert_counts_exact()
    api.post(f"/api/me/trash/{deleted.id}/restore")
    assert_counts_exact()
    api.delete(f"/api/me/tasks/{deleted.id}")
    api.delete(f"/api/me/trash/{deleted.id}")
    assert_counts_exact()
    admin_client.post(reverse("admin:tasks_task_delete", args=[kept.id]), {"post": "yes"})
    assert_counts_exact()
    other.delete()  # the cascade deletes the user's tasks and their count row

    assert not Task.objects.filter(user_id="other").exists()
    assert not TaskCount.objects.filter(user_id="other").exists()
    assert_counts_exact()


@needs_postgres
@pytest.mark.django_db(transaction=True)  # PostgreSQL truncates no table with pending checks
def test_a_truncate_empties_the_counts() -> None:
    TaskFactory.create_batch(3, user_id="someone")
    with connection.cursor() as cursor:
        # CASCADE: notifications and completions refer to tasks.
        cursor.execute("TRUNCATE tasks_task CASCADE")

    assert not TaskCount.objects.exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_bulk_action_and_api_toggles_of_the_same_tasks_do_not_deadlock() -> None:
    """The bulk action takes its tasks before any count row, as an API write does; a
    count row taken by its first batch would deadlock with a toggle of a later one."""
    ids = [task.id for task in TaskFactory.create_batch(1200, user_id="bulk")]
    errors: list[Exception] = []

    def run(work: Callable[[], Any]) -> None:
        try:
            work()
        except Exception as error:  # collected for the assertion below
            errors.append(error)
        finally:
            connection.close()

    def bulk() -> None:
        for state in (True, False, True):
            queries.tasks_set_completed(task_ids=ids, completed=state)

    def toggles() -> None:
        for task_id in reversed(ids[::7]):
            queries.task_set_completed(user_id="bulk", task_id=task_id, completed=None)

    threads = [threading.Thread(target=run, args=(work,)) for work in (bulk, toggles, toggles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert_counts_exact()
