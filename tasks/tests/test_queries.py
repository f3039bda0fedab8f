"""Task persistence: the allow-list, the owner retry, and writes under real concurrency
(on PostgreSQL; SQLite serialises writers anyway)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction

from accounts.models import BetterAuthUser
from accounts.tests.factories import UserFactory
from tasks import queries
from tasks.models import Task
from tasks.queries import owned
from tasks.serializers import TaskSerializer, TrashedTaskSerializer
from tasks.tests.factories import TaskFactory
from testing.postgres import needs_postgres


def run_concurrently(count: int, work: Callable[[int], object]) -> None:
    """Call `work(0..count-1)` from 8 threads, each on its own connection."""

    def call(index: int) -> None:
        try:
            work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(call, range(count)))


def test_the_row_holds_every_column_but_the_tag_index_the_change_id_and_its_door() -> None:
    columns = {field.attname for field in Task._meta.concrete_fields}

    assert set(queries.TaskRow.__annotations__) == columns - {
        "tag_keys",
        "change_id",
        "changed_via",
    }


def test_the_serializers_show_every_row_field_deleted_at_in_the_trash_alone() -> None:
    row_fields = set(queries.TaskRow.__annotations__)

    # Stored beside the fields they are answered in (an all-day due_date), or for
    # the server's own use (the series' start, the worker's next reminder).
    internal = {"due_day", "series_start", "series_done", "next_remind_at", "children"}

    assert set(TaskSerializer().fields) == row_fields - internal - {"deleted_at"}
    assert set(TrashedTaskSerializer().fields) == row_fields - internal


def test_writable_fields_are_the_models_editable_ones() -> None:
    assert set(queries.WRITABLE_FIELDS) == {
        "title",
        "description",
        "completed",
        "priority",
        "due_date",
        "tags",
        "time_zone",
        "recurrence",
        "repeat_from",
        "reminders",
    }


@pytest.mark.parametrize(
    "key",
    [
        "user_id",
        "id",
        "created_at",
        "completed_at",
        "tag_keys",
        "due_day",
        "next_remind_at",
        "title = 'x'; --",
    ],
)
@pytest.mark.django_db
def test_a_key_off_the_allow_list_is_refused_before_any_sql(
    key: str, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(0), pytest.raises(ValueError, match="Not writable"):  # type: ignore[operator]
        queries.task_update(user_id="u1", task_id=1, fields={key: "x"})
    with django_assert_num_queries(0), pytest.raises(ValueError, match="Not writable"):  # type: ignore[operator]
        queries.task_insert(user_id="u1", fields={"title": "t", key: "x"})


@pytest.mark.django_db(transaction=True)
def test_an_insert_for_a_deleted_owner_restores_them() -> None:
    UserFactory.create(id="u1")
    BetterAuthUser.objects.filter(id="u1").delete()

    task = queries.task_insert(user_id="u1", fields={"title": "back"})

    assert Task.objects.get(id=task["id"]).user_id == "u1"


@pytest.mark.django_db(transaction=True)
def test_the_owner_retry_is_safe_inside_a_transaction() -> None:
    UserFactory.create(id="u1")
    BetterAuthUser.objects.filter(id="u1").delete()

    with transaction.atomic():
        earlier = TaskFactory.create(user_id="u2")
        task = queries.task_insert(user_id="u1", fields={"title": "back"})

    assert Task.objects.filter(user_id="u1").count() == 1
    assert Task.objects.get(id=task["id"]).user.id == "u1"
    assert Task.objects.filter(id=earlier.id).exists()


@pytest.mark.django_db(transaction=True)
def test_an_integrity_error_other_than_the_owner_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    UserFactory.create(id="u1")
    restored: list[str] = []
    monkeypatch.setattr(queries.writes, "user_restore", restored.append)

    with pytest.raises(IntegrityError):
        queries.task_insert(user_id="u1", fields={"title": "t", "priority": 99})

    assert restored == []
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_an_insert_is_one_statement_when_the_owner_is_there(
    django_assert_num_queries: Any,
) -> None:
    UserFactory.create(id="u1")

    with django_assert_num_queries(1):
        queries.task_insert(user_id="u1", fields={"title": "t"})


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("toggles", [40, 41])
def test_concurrent_toggles_are_never_lost(toggles: int) -> None:
    task = TaskFactory.create(user_id="u1")

    run_concurrently(
        toggles,
        lambda _: queries.task_set_completed(user_id="u1", task_id=task.id, completed=None),
    )

    task.refresh_from_db()
    assert task.completed is (toggles % 2 == 1)
    assert (task.completed_at is not None) is task.completed


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_never_mix_two_bodies() -> None:
    task = TaskFactory.create(user_id="u1", title="start", description="start")
    bodies = [
        {"title": f"t{i}", "description": f"d{i}", "completed": i % 2 == 0} for i in range(30)
    ]

    run_concurrently(
        len(bodies),
        lambda index: queries.task_update(user_id="u1", task_id=task.id, fields=bodies[index]),
    )

    task.refresh_from_db()
    assert task.title[1:] == task.description[1:]
    assert (task.completed_at is not None) is task.completed


@pytest.mark.django_db
def test_an_update_of_a_deleted_task_does_not_resurrect_it() -> None:
    task = TaskFactory.create(user_id="u1")
    Task.objects.filter(id=task.id).delete()

    assert queries.task_update(user_id="u1", task_id=task.id, fields={"title": "back?"}) is None
    assert not Task.objects.filter(id=task.id).exists()


@pytest.mark.django_db
def test_set_completed_on_a_missing_task_is_none() -> None:
    assert queries.task_set_completed(user_id="u1", task_id=123456, completed=True) is None


@pytest.mark.django_db
def test_every_statement_is_scoped_to_the_owner() -> None:
    theirs = TaskFactory.create(user_id="them", title="Theirs")

    assert queries.task_get(user_id="me", task_id=theirs.id) is None
    assert queries.task_update(user_id="me", task_id=theirs.id, fields={"title": "x"}) is None
    assert queries.task_set_completed(user_id="me", task_id=theirs.id, completed=None) is None
    assert queries.task_trash(user_id="me", task_id=theirs.id) is None
    queries.task_trash(user_id="them", task_id=theirs.id)
    assert queries.task_restore(user_id="me", task_id=theirs.id) is None
    assert not queries.task_purge(user_id="me", task_id=theirs.id)
    assert queries.trash_empty(user_id="me") == 0
    theirs.refresh_from_db()
    assert (theirs.title, theirs.completed, theirs.version) == ("Theirs", False, 2)


@pytest.mark.django_db
def test_a_scope_narrowed_by_any_condition_stays_the_owners() -> None:
    mine = TaskFactory.create(user_id="owner-a")
    TaskFactory.create(user_id="owner-b")
    scope = owned.Owned("owner-a")

    widened = scope.narrow("1 = 1 OR 1 = 1").narrow("id > 0 OR user_id <> %(user_id)s")

    assert owned.select_ids(widened) == [mine.pk]
    assert owned.select_ids(scope.task(mine.pk + 1)) == []
