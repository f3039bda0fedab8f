"""Migrations keep the data: tasks created before the user mirror existed keep their
owner; tasks created before the kept counts are counted."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tasks.tests.factories import TaskFactory
from testing.postgres import needs_postgres

BEFORE_MIRROR = [("tasks", "0001_initial")]
AFTER_MIRROR = [("tasks", "0002_task_user")]


@pytest.mark.django_db(transaction=True)
def test_existing_tasks_get_mirrored_owners() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_MIRROR)
    old_task = executor.loader.project_state(BEFORE_MIRROR).apps.get_model("tasks", "Task")
    for owner, title in [("alice", "a1"), ("alice", "a2"), ("bob", "b1")]:
        old_task.objects.create(user_id=owner, title=title)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER_MIRROR)
    apps = executor.loader.project_state(AFTER_MIRROR).apps

    users = apps.get_model("accounts", "BetterAuthUser").objects.order_by("id")
    tasks = apps.get_model("tasks", "Task").objects.order_by("title")
    assert [user.id for user in users] == ["alice", "bob"]
    assert [(task.user_id, task.title) for task in tasks] == [
        ("alice", "a1"),
        ("alice", "a2"),
        ("bob", "b1"),
    ]

    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@needs_postgres
@pytest.mark.django_db
def test_search_is_served_by_trigram_indexes_on_postgresql() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "tasks_task")

    trigram = {name: c["columns"] for name, c in constraints.items() if name.endswith("_trgm")}
    assert trigram == {"task_title_trgm": ["title"], "task_description_trgm": ["description"]}


@pytest.mark.django_db(transaction=True)
def test_task_counts_are_backfilled_then_kept() -> None:
    before, after = [("tasks", "0006_support_lifts_lockouts")], [("tasks", "0007_task_counts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_user = old_apps.get_model("accounts", "BetterAuthUser")
    old_task = old_apps.get_model("tasks", "Task")
    for owner, done in [("alice", False), ("alice", True), ("alice", True), ("bob", False)]:
        old_task.objects.create(
            user=old_user.objects.get_or_create(id=owner)[0],
            title="t",
            completed=done,
            completed_at=timezone.now() if done else None,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    apps.get_model("tasks", "Task").objects.filter(user_id="bob").delete()
    counts = apps.get_model("tasks", "TaskCount").objects.order_by("user_id")

    assert [(c.user_id, c.pending, c.completed) for c in counts] == [
        ("alice", 1, 2),
        ("bob", 0, 0),
    ]

    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_ids_of_tasks_deleted_for_good_never_come_back_after_a_table_rebuild() -> None:
    """SQLite restarts a rebuilt table's ids after its highest live one; a tombstone
    names a deleted task's id, which a new task must not take."""
    before_rebuild = [("tasks", "0010_idempotent_requests")]
    executor = MigrationExecutor(connection)
    executor.migrate(before_rebuild)
    apps = executor.loader.project_state(before_rebuild).apps
    apps.get_model("accounts", "BetterAuthUser").objects.create(id="rebuilt")
    old_task = apps.get_model("tasks", "Task")
    *_, last = [old_task.objects.create(user_id="rebuilt", title=f"t{i}") for i in range(3)]
    old_task.objects.filter(id=last.id).delete()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert TaskFactory.create(user_id="rebuilt").id > last.id
