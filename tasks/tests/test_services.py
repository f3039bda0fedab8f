"""Write services under real concurrency, on PostgreSQL (SQLite serialises writers anyway)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from tasks import selectors, services
from tasks.models import Task
from tasks.tests.factories import TaskFactory

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a server database"
)


def run_concurrently(count: int, work: Callable[[int], object]) -> None:
    """Call `work(0..count-1)` from 8 threads, each on its own connection."""

    def call(index: int) -> None:
        try:
            work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(call, range(count)))


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("toggles", [40, 41])
def test_concurrent_toggles_are_never_lost(toggles: int) -> None:
    task = TaskFactory.create(user_id="u1")

    run_concurrently(
        toggles,
        lambda _: services.task_set_completed(user_id="u1", task_id=task.id, completed=None),
    )

    task.refresh_from_db()
    assert task.completed is (toggles % 2 == 1)
    assert (task.completed_at is not None) is task.completed


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_full_updates_never_mix_two_bodies() -> None:
    task = TaskFactory.create(user_id="u1", title="start", description="start")
    bodies = [
        {"title": f"t{i}", "description": f"d{i}", "completed": i % 2 == 0} for i in range(30)
    ]

    def update(index: int) -> None:
        fresh = selectors.task_get(user_id="u1", task_id=task.id)
        assert fresh is not None
        services.task_update(task=fresh, fields=bodies[index])

    run_concurrently(len(bodies), update)

    task.refresh_from_db()
    assert task.title[1:] == task.description[1:]
    assert (task.completed_at is not None) is task.completed


@pytest.mark.django_db
def test_update_of_a_task_deleted_meanwhile_does_not_resurrect_it() -> None:
    task = TaskFactory.create(user_id="u1")
    row = selectors.task_get(user_id="u1", task_id=task.id)
    Task.objects.filter(id=task.id).delete()

    assert row is not None
    assert services.task_update(task=row, fields={"title": "back?"}) is None
    assert not Task.objects.filter(id=task.id).exists()


@pytest.mark.django_db
def test_set_completed_on_a_missing_task_is_none() -> None:
    assert services.task_set_completed(user_id="u1", task_id=123456, completed=True) is None
