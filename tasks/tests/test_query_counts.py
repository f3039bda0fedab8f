"""Database round trips per route, pinned: authentication and rate limits cost none.

A user's first call in `USER_MIRROR_REFRESH_SECONDS` also writes the user mirror;
the `api` fixture here has made that call already.
"""

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tasks import queries
from tasks.models import Task
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api: APIClient) -> APIClient:
    assert api.get("/api/me/tasks/0").status_code == 404  # mirrors the user
    return api


@pytest.fixture
def task(user_id: str) -> Any:
    TaskFactory.create_batch(60, user_id=user_id, tags=["a"])
    return TaskFactory.create(user_id=user_id)


def test_list_with_its_count_is_one_query(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response = api.get("/api/me/tasks?tag=a&status=pending&sort=due_date")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "60"


def test_a_deep_page_is_one_query(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    next_page = api.get("/api/me/tasks?limit=50")["Link"][1:].split(">")[0]

    with django_assert_num_queries(1):
        assert api.get(next_page).status_code == 200


def test_an_empty_page_after_a_cursor_counts_apart(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    next_page = api.get("/api/me/tasks?limit=60")["Link"][1:].split(">")[0]
    Task.objects.filter(user_id=task.user_id).delete()

    with django_assert_num_queries(2):
        response = api.get(next_page)
    assert (response.json(), response["X-Total-Count"]) == ([], "0")


def test_an_empty_first_page_is_one_query(client_for: Any, django_assert_num_queries: Any) -> None:
    newcomer = client_for("empty")
    newcomer.get("/api/me/tasks/0")

    with django_assert_num_queries(1):
        response = newcomer.get("/api/me/tasks")
    assert response["X-Total-Count"] == "0"


def test_get_is_one_query(api: APIClient, task: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert api.get(f"/api/me/tasks/{task.id}").status_code == 200


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no savepoint
@pytest.mark.parametrize("due", [{}, {"due_date": "2030-01-01T09:00:00Z"}])
def test_create_is_one_query(api: APIClient, due: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        body = {"title": "x", "tags": ["a"], **due}
        assert api.post("/api/me/tasks", body, format="json").status_code == 201


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_is_one_query(
    api: APIClient, task: Any, method: str, django_assert_num_queries: Any
) -> None:
    body = {"title": "y", "completed": True, "due_date": "2030-01-01T09:00:00Z"}
    with django_assert_num_queries(1):
        response = getattr(api, method)(f"/api/me/tasks/{task.id}", body, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("body", [None, {"completed": True}])
def test_toggle_is_one_query(
    api: APIClient, task: Any, body: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        assert (
            api.patch(f"/api/me/tasks/{task.id}/complete", body, format="json").status_code == 200
        )


def test_an_empty_patch_is_one_query(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        assert api.patch(f"/api/me/tasks/{task.id}", {}, format="json").status_code == 200


def test_delete_is_one_query(api: APIClient, task: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert api.delete(f"/api/me/tasks/{task.id}").status_code == 204


def test_a_refused_token_costs_no_query(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert (
            APIClient().get("/api/me/tasks", HTTP_AUTHORIZATION="Bearer x.y.z").status_code == 401
        )


def test_a_users_first_call_adds_one_upsert_of_the_mirror(
    client_for: Any, django_assert_num_queries: Any
) -> None:
    newcomer = client_for("newcomer")

    with django_assert_num_queries(2):
        assert newcomer.get("/api/me/tasks/1").status_code == 404
    with django_assert_num_queries(1):
        assert newcomer.get("/api/me/tasks/1").status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix", "if_match", "queries", "status"),
    [
        ("patch", "", '"1"', 1, 200),
        ("patch", "/complete", '"1"', 1, 200),
        ("delete", "", '"1"', 1, 204),
        ("patch", "", '"9"', 2, 412),  # the refusal reads the current ETag
    ],
)
def test_a_conditional_write_is_one_query_and_a_refusal_two(
    api: APIClient,
    task: Any,
    django_assert_num_queries: Any,
    method: str,
    suffix: str,
    if_match: str,
    queries: int,
    status: int,
) -> None:
    url = f"/api/me/tasks/{task.id}{suffix}"
    body = {"priority": "low"} if method == "patch" and not suffix else None

    with django_assert_num_queries(queries):
        response = getattr(api, method)(url, body, format="json", HTTP_IF_MATCH=if_match)
    assert response.status_code == status


def test_a_not_modified_get_is_one_query(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response = api.get(f"/api/me/tasks/{task.id}", HTTP_IF_NONE_MATCH='"1"')
    assert response.status_code == 304


def test_the_trash_page_with_its_count_is_one_query(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    api.delete(f"/api/me/tasks/{task.id}")

    with django_assert_num_queries(1):
        response = api.get("/api/me/trash")
    assert response["X-Total-Count"] == "1"


def test_a_delete_is_one_query_and_a_restore_a_few(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    """A top-level task without subtasks goes to the trash in one UPDATE. A restore
    takes the tree's lock with the family's rows (on PostgreSQL), reads the task, and
    brings it back with what went along in one UPDATE (and here the savepoint and its
    release, in the test's transaction)."""
    locks = 1 if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(1):
        assert api.delete(f"/api/me/tasks/{task.id}").status_code == 204
    with django_assert_num_queries(2 + locks + 2):
        assert api.post(f"/api/me/trash/{task.id}/restore").status_code == 200


def test_a_move_is_four_statements(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    """The order's lock (on PostgreSQL; SQLite's transaction holds its write lock from
    the start), the anchor, its neighbour, the write (and here the savepoint and its
    release, in the test's transaction)."""
    first = Task.objects.filter(user_id=task.user_id).order_by("id")[0]
    lock = 1 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(3 + lock + 2):
        moved = api.post(f"/api/me/tasks/{task.id}/move", {"after": first.id}, format="json")
        assert moved.status_code == 200


def test_settings_are_one_query_to_read_and_two_to_change(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        assert api.get("/api/me/settings").status_code == 200
    with django_assert_num_queries(2):
        assert api.patch("/api/me/settings", {"time_zone": "UTC"}, format="json").status_code == 200


def test_a_local_due_date_costs_one_read_of_the_zone_unless_the_body_names_it(
    api: APIClient, task: Any, django_assert_num_queries: Any
) -> None:
    local = {"title": "x", "due_date": "2026-12-20T09:00"}
    api.patch("/api/me/settings", {"time_zone": "Europe/Berlin"}, format="json")

    with django_assert_num_queries(1):
        api.post("/api/me/tasks", {**local, "time_zone": "UTC"}, format="json")
    with django_assert_num_queries(2):
        assert api.post("/api/me/tasks", local, format="json").status_code == 201
    api.patch(f"/api/me/tasks/{task.id}", {"time_zone": "Asia/Tokyo"}, format="json")
    # The locked read of the task (after, on PostgreSQL, its tree's lock) and the write.
    with django_assert_num_queries(2 + (connection.vendor == "postgresql")):
        assert api.patch(f"/api/me/tasks/{task.id}", local, format="json").status_code == 200


def test_completing_a_recurring_task_reads_it_locked_and_records_the_completion(
    api: APIClient, django_assert_num_queries: Any
) -> None:
    """The plain toggle's UPDATE (which leaves a recurring task alone), on PostgreSQL
    the tree's lock with the task's family, the locked read, the completion, the write."""
    body = {"title": "Daily", "due_date": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
    task = api.post("/api/me/tasks", body, format="json").json()

    with django_assert_num_queries(4 + (connection.vendor == "postgresql")):
        done = api.patch(f"/api/me/tasks/{task['id']}/complete", format="json")

    assert done.json()["due_date"] == "2030-01-02T09:00:00Z"


def _tree(user_id: str, fanout: tuple[int, ...]) -> tuple[int, int, int]:
    """A task with descendants `fanout` children per level deep, loaded as the API would
    write them; its id, a leaf's and another list's (for a move)."""
    root = TaskFactory.create(user_id=user_id)
    level = [root.id]
    for children in fanout:
        level = [
            task.id
            for task in queries.tasks_load(
                (user_id, {"title": "sub", "parent_id": parent}, timezone.now())
                for parent in level
                for _ in range(children)
            )
        ]
    other = queries.list_create(user_id=user_id, fields={"name": f"Other {root.id}"})
    return root.id, level[-1], other.id


# A task with 1,000 descendants (10, then 9 under each, then 10 under each of those),
# and one with a single child: a subtree write runs as many statements for either. On
# PostgreSQL each takes the tree's lock with the family's rows too (one statement).
BIG, SMALL = (10, 9, 10), (1,)
SUBTREE_WRITES: list[tuple[str, str, str, Any, int]] = [
    # Its transaction (a savepoint and its release, in the test's), the task, the
    # list, its move, its descendants' move.
    ("move", "patch", "{root}", {"list_id": "{other}"}, 2 + 4),
    # The plain try (which a task in a tree fails), the locked read, the write, the
    # descendants' completion.
    ("complete", "patch", "{root}/complete", {"completed": True}, 4),
    # The plain try, the locked read, the write, the ancestors' reopening.
    ("reopen", "patch", "{leaf}/complete", {"completed": False}, 4),
    # The plain try, the savepoint, the read, the subtree's one UPDATE, the release.
    ("trash", "delete", "{root}", None, 1 + 2 + 2),
    # The savepoint, the read, the one UPDATE of it and what went along, the release.
    ("restore", "post", "trash/{root}/restore", None, 2 + 2),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "statements"), SUBTREE_WRITES)
def test_a_subtree_write_is_a_few_statements_whatever_its_size(
    api: APIClient,
    user_id: str,
    name: str,
    method: str,
    path: str,
    body: Any,
    statements: int,
    django_assert_num_queries: Any,
) -> None:
    lock = connection.vendor == "postgresql"
    for fanout in (SMALL, BIG):
        root, leaf, other = _tree(user_id, fanout)
        if name == "reopen":
            api.patch(f"/api/me/tasks/{root}/complete", {"completed": True}, format="json")
        if name == "restore":
            api.delete(f"/api/me/tasks/{root}")
        place = {"root": root, "leaf": leaf, "other": other}
        url = f"/api/me/{'' if path.startswith('trash') else 'tasks/'}{path.format(**place)}"
        sent = {
            key: int(value.format(**place)) if isinstance(value, str) else value
            for key, value in (body or {}).items()
        }
        with django_assert_num_queries(statements + lock):
            response = getattr(api, method)(url, sent or None, format="json")
        assert response.status_code in (200, 204), response.content
