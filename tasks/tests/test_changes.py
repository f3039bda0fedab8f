"""The changes feed (contract Part 2): a full sync, then polls that carry every change
once, in its state as of the answer, and never skip one that committed late.

Transactional tests: on PostgreSQL the feed hands out only changes of transactions
that have ended, so a test's own open transaction would hide its writes.
"""

import time
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from tasks import queries
from tasks.changes import encode_token
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.postgres import needs_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def poll(api: APIClient, since: str | None = None, **params: Any) -> dict[str, Any]:
    query = {**params, **({"since": since} if since else {})}
    response = api.get("/api/me/changes", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_full_sync_is_every_live_task(api: APIClient, user_id: str) -> None:
    live, trashed = TaskFactory.create_batch(2, user_id=user_id)
    api.delete(f"/api/me/tasks/{trashed.id}")

    answer = poll(api)

    assert [task["id"] for task in answer["upserted"]] == [live.id]
    assert (answer["deleted"], answer["more"]) == ([], False)
    assert answer["upserted"][0] == api.get(f"/api/me/tasks/{live.id}").json()


def test_a_poll_carries_each_change_once_in_its_state_now(api: APIClient, user_id: str) -> None:
    edited, trashed, purged, untouched = TaskFactory.create_batch(4, user_id=user_id)
    token = poll(api)["next"]

    api.patch(f"/api/me/tasks/{edited.id}", {"title": "One"}, format="json")
    api.patch(f"/api/me/tasks/{edited.id}", {"title": "Two"}, format="json")
    api.delete(f"/api/me/tasks/{trashed.id}")
    api.delete(f"/api/me/tasks/{purged.id}")
    api.delete(f"/api/me/trash/{purged.id}")
    created = api.post("/api/me/tasks", {"title": "New"}, format="json").json()
    answer = poll(api, token)

    assert [(task["id"], task["title"]) for task in answer["upserted"]] == [
        (edited.id, "Two"),
        (created["id"], "New"),
    ]
    assert answer["upserted"][0]["version"] == 3
    assert sorted(answer["deleted"]) == sorted([trashed.id, purged.id])
    assert untouched.id not in answer["deleted"]
    again = poll(api, answer["next"])
    assert (again["upserted"], again["deleted"]) == ([], [])


def test_a_restored_task_comes_back_in_the_feed(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    api.delete(f"/api/me/tasks/{task.id}")
    token = poll(api)["next"]

    api.post(f"/api/me/trash/{task.id}/restore")

    assert [item["id"] for item in poll(api, token)["upserted"]] == [task.id]


def test_a_feed_pages_with_more_and_next(api: APIClient, user_id: str) -> None:
    tasks = TaskFactory.create_batch(5, user_id=user_id)
    seen: list[int] = []
    answer = poll(api, limit=2)
    pages = 1
    while answer["more"]:
        seen += [task["id"] for task in answer["upserted"]]
        answer = poll(api, answer["next"], limit=2)
        pages += 1
    seen += [task["id"] for task in answer["upserted"]]

    assert sorted(seen) == sorted(task.id for task in tasks)
    assert pages == 3


def test_an_admin_change_shows_up_in_the_feed(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    token = poll(api)["next"]

    queries.tasks_set_trashed(task_ids=[task.id], trashed=True)

    assert poll(api, token)["deleted"] == [task.id]


def test_a_poll_that_finds_nothing_is_two_queries(
    api: APIClient, user_id: str, django_assert_num_queries: Any
) -> None:
    """One for the tasks, one for the lists."""
    TaskFactory.create_batch(3, user_id=user_id)
    token = poll(api)["next"]

    with django_assert_num_queries(2):
        answer = poll(api, token)

    assert (answer["upserted"], answer["deleted"], answer["more"]) == ([], [], False)
    assert answer["lists"] == {"upserted": [], "deleted": []}


@pytest.mark.parametrize("since", ["garbage", "1.2:1vLq3b:forged", "x" * 201])
def test_a_token_the_feed_never_issued_is_400(api: APIClient, since: str) -> None:
    response = api.get("/api/me/changes", {"since": since})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["since"]


def test_another_users_token_is_400(api: APIClient, client_for: Any) -> None:
    theirs = poll(client_for("them"))["next"]

    response = api.get("/api/me/changes", {"since": theirs})

    assert response.status_code == 400


def test_a_token_older_than_the_retention_is_410(
    api: APIClient, user_id: str, settings: Any
) -> None:
    settings.TRASH_RETENTION_DAYS = 30
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 86400):
        old = encode_token(user_id, (0, 0))

    response = api.get("/api/me/changes", {"since": old})

    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("sync-token-expired")


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_a_bad_limit_is_400(api: APIClient, limit: str) -> None:
    assert api.get("/api/me/changes", {"limit": limit}).status_code == 400


@needs_postgres
def test_a_change_that_commits_late_is_not_skipped(api: APIClient, user_id: str) -> None:
    """A starts first, B commits first, a poll between them: the poll may not hand out
    B's change with a token past A's; once A commits, the next poll carries it."""
    slow, fast = TaskFactory.create_batch(2, user_id=user_id)
    token = poll(api)["next"]
    params = connection.get_connection_params()
    with psycopg.connect(**params) as writer_a:
        writer_a.execute(  # A: written, not committed
            "UPDATE tasks_task SET title = 'A', version = version + 1 WHERE id = %s", [slow.id]
        )
        api.patch(f"/api/me/tasks/{fast.id}", {"title": "B"}, format="json")  # B commits

        between = poll(api, token)
        writer_a.commit()

    after = poll(api, between["next"])
    handed_out = {task["id"]: task["title"] for task in between["upserted"] + after["upserted"]}
    assert handed_out == {slow.id: "A", fast.id: "B"}
    assert Task.objects.get(id=slow.id).title == "A"


@needs_postgres
def test_a_transaction_in_another_database_holds_nothing_back(api: APIClient, user_id: str) -> None:
    """Another database on the server (another deployment's, another checkout's
    tests) can't write these tables: its open transaction doesn't delay the feed."""
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with psycopg.connect(**params) as elsewhere:
        elsewhere.execute("SELECT pg_current_xact_id()")  # holds a transaction id, open
        task = TaskFactory.create(user_id=user_id)

        answer = poll(api)

    assert [found["id"] for found in answer["upserted"]] == [task.id]


# --- Lists (contract Part 4) ----------------------------------------------------------


def test_a_full_sync_lists_every_list(api: APIClient) -> None:
    work = api.post("/api/me/lists", {"name": "Work"}, format="json").json()

    lists = poll(api)["lists"]

    assert [found["name"] for found in lists["upserted"]] == ["Inbox", "Work"]
    assert lists["upserted"][1] == api.get(f"/api/me/lists/{work['id']}").json()
    assert lists["deleted"] == []


def test_a_poll_carries_lists_changed_and_deleted_since_its_token(api: APIClient) -> None:
    work, home = (
        api.post("/api/me/lists", {"name": name}, format="json").json() for name in ("W", "H")
    )
    token = poll(api)["next"]
    api.patch(f"/api/me/lists/{work['id']}", {"name": "Work"}, format="json")
    api.delete(f"/api/me/lists/{home['id']}")

    answer = poll(api, token)

    assert [found["name"] for found in answer["lists"]["upserted"]] == ["Work"]
    assert answer["lists"]["deleted"] == [home["id"]]
    assert poll(api, answer["next"])["lists"] == {"upserted": [], "deleted": []}


def test_a_task_written_in_a_list_sends_the_list_again_with_its_counts(api: APIClient) -> None:
    work = api.post("/api/me/lists", {"name": "Work"}, format="json").json()
    token = poll(api)["next"]

    api.post("/api/me/tasks", {"title": "t", "list_id": work["id"]}, format="json")
    answer = poll(api, token)

    (changed,) = answer["lists"]["upserted"]
    assert (changed["id"], changed["task_count"], changed["open_count"]) == (work["id"], 1, 1)


def test_a_token_from_before_lists_sends_every_list(api: APIClient, user_id: str) -> None:
    api.post("/api/me/lists", {"name": "Work"}, format="json")
    TaskFactory.create(user_id=user_id)
    from django.core import signing

    signer = signing.TimestampSigner(salt=f"tasks.changes:{user_id}")
    old = signer.sign("0.0.0")  # change.task.epoch, as tokens were before lists

    answer = poll(api, old)

    assert [found["name"] for found in answer["lists"]["upserted"]] == ["Inbox", "Work"]
