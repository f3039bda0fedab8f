"""Tombstones are bounded per user (M5): deleting for good forgets the oldest beyond
MAX_TOMBSTONES_PER_USER and moves the user's feed horizon; a token from before it is
410, as an old one is, and a full sync then goes on without a change skipped.

Transactional tests: on PostgreSQL the feed hands out only changes of transactions
that have ended.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from tasks import jobs, queries
from tasks.models import FeedHorizon, IdempotentRequest, Task, TaskTombstone
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def small_cap(settings: Any) -> None:
    settings.MAX_TOMBSTONES_PER_USER = 5


def poll(api: APIClient, since: str | None = None) -> Any:
    return api.get("/api/me/changes", {"since": since} if since else {})


def delete_for_good(api: APIClient, tasks: list[Task]) -> None:
    for task in tasks:
        assert api.delete(f"/api/me/tasks/{task.id}").status_code == 204
    assert api.delete("/api/me/trash").status_code == 204


def positions(user_id: str) -> list[tuple[int, int]]:
    kept = TaskTombstone.objects.filter(user_id=user_id).order_by("change_id", "task_id")
    return list(kept.values_list("change_id", "task_id"))


def test_emptying_the_trash_keeps_exactly_the_cap(api: APIClient, user_id: str) -> None:
    tasks = TaskFactory.create_batch(8, user_id=user_id)
    others = TaskFactory.create_batch(7, user_id="someone-else")
    Task.objects.filter(id__in=[task.id for task in others]).delete()  # not trimmed: no cap run
    delete_for_good(api, tasks[:3])
    before = positions(user_id)

    delete_for_good(api, tasks[3:])

    after = positions(user_id)
    assert len(after) == 5
    everything = sorted({*before, *after})
    horizon = FeedHorizon.objects.get(user_id=user_id)
    forgotten = [position for position in everything if position not in after]
    assert len(forgotten) == 3
    assert (horizon.change_id, horizon.task_id) == max(forgotten)
    assert max(forgotten) < min(after)
    assert horizon.epoch == 1
    assert TaskTombstone.objects.filter(user_id="someone-else").count() == 7


def test_purging_one_task_trims_too(api: APIClient, user_id: str) -> None:
    tasks = TaskFactory.create_batch(7, user_id=user_id)
    for task in tasks:
        api.delete(f"/api/me/tasks/{task.id}")
        assert api.delete(f"/api/me/trash/{task.id}").status_code == 204

    assert TaskTombstone.objects.filter(user_id=user_id).count() == 5
    assert FeedHorizon.objects.get(user_id=user_id).epoch == 2


def test_the_daily_purge_trims_each_user(api: APIClient, user_id: str, client_for: Any) -> None:
    mine = TaskFactory.create_batch(7, user_id=user_id)
    theirs = TaskFactory.create_batch(6, user_id="them")
    long_ago = timezone.now() - timedelta(days=31)
    Task.objects.filter(id__in=[task.id for task in [*mine, *theirs]]).update(deleted_at=long_ago)

    purged = jobs.purge_trash()

    assert purged.tasks == 13
    assert purged.tombstones == 2 + 1
    assert TaskTombstone.objects.filter(user_id=user_id).count() == 5
    assert TaskTombstone.objects.filter(user_id="them").count() == 5
    assert FeedHorizon.objects.filter(user_id__in=[user_id, "them"]).count() == 2


def test_a_token_from_before_the_horizon_is_410_and_a_full_sync_goes_on(
    api: APIClient, user_id: str
) -> None:
    # Old live tasks, older than every tombstone: a full sync's tokens stand before the
    # horizon, and must still be good.
    live = TaskFactory.create_batch(3, user_id=user_id)
    token = poll(api).json()["next"]
    doomed = TaskFactory.create_batch(8, user_id=user_id)
    delete_for_good(api, doomed)

    expired = poll(api, token)

    assert expired.status_code == 410
    assert expired["Content-Type"] == "application/problem+json"
    assert expired.json()["type"] == "urn:todo-api:problem:sync-token-expired"
    # A full sync, page by page, sees every live task, and its tokens are good.
    seen: list[int] = []
    page = api.get("/api/me/changes", {"limit": 1}).json()
    seen += [task["id"] for task in page["upserted"]]
    while page["more"]:
        answer = api.get("/api/me/changes", {"since": page["next"], "limit": 1})
        assert answer.status_code == 200
        page = answer.json()
        seen += [task["id"] for task in page["upserted"]]
    assert sorted(seen) == sorted(task.id for task in live)
    again = poll(api, page["next"])
    assert again.status_code == 200
    assert again.json()["upserted"] == again.json()["deleted"] == []
    # And the next deletion reaches it, as does the trim that follows.
    delete_for_good(api, live[:1])
    after = poll(api, page["next"])
    assert (after.status_code, after.json()["deleted"]) == (200, [live[0].id])


def test_a_token_past_the_horizon_stays_good_when_it_moves_behind_it(
    api: APIClient, user_id: str
) -> None:
    delete_for_good(api, TaskFactory.create_batch(6, user_id=user_id))
    token = poll(api, poll(api).json()["next"]).json()["next"]
    last = TaskFactory.create(user_id=user_id)
    delete_for_good(api, [last])  # forgets one more, from before the token

    answer = poll(api, token)

    assert FeedHorizon.objects.get(user_id=user_id).epoch == 2
    assert answer.status_code == 200
    assert answer.json()["deleted"] == [last.id]


def test_a_forgetting_after_a_token_past_the_horizon_is_still_410(
    api: APIClient, user_id: str
) -> None:
    """A token at the horizon that has not yet been handed the tombstones after it:
    when those are forgotten, it is behind the new horizon, and the epoch moved."""
    delete_for_good(api, TaskFactory.create_batch(5, user_id=user_id))
    token = poll(api).json()["next"]  # a full sync: no tombstone handed out
    delete_for_good(api, TaskFactory.create_batch(5, user_id=user_id))

    assert poll(api, token).status_code == 410


def test_a_poll_that_finds_nothing_is_two_queries_with_a_horizon(
    api: APIClient, user_id: str, django_assert_num_queries: Any
) -> None:
    """The tasks' one (the horizon read with them), the lists' one."""
    delete_for_good(api, TaskFactory.create_batch(7, user_id=user_id))
    TaskFactory.create_batch(2, user_id=user_id)
    token = poll(api).json()["next"]

    with django_assert_num_queries(2):
        answer = poll(api, token)

    assert answer.status_code == 200
    assert answer.json()["upserted"] == answer.json()["deleted"] == []


def test_the_reviewers_loop_stays_under_both_bounds(
    api: APIClient, user_id: str, settings: Any
) -> None:
    """Create 100 with a key, delete them, empty the trash, over and over: what stays
    is at most the tombstone cap and the kept-response cap plus one response."""
    settings.MAX_TOMBSTONES_PER_USER = 150
    settings.MAX_KEPT_RESPONSE_BYTES = 150_000
    largest = refused = 0
    for n in range(8):
        body = {"action": "create", "tasks": [{"title": f"Task {i}"} for i in range(100)]}
        created = api.post(
            "/api/me/tasks/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY=f"loop-{n}"
        )
        if created.status_code == 429:
            refused += 1
            created = api.post("/api/me/tasks/bulk", body, format="json")  # no key: served
        assert created.status_code == 201
        kept = IdempotentRequest.objects.filter(key=f"loop-{n}").first()
        largest = max(largest, kept.size if kept else 0)
        deleted = api.post("/api/me/tasks/bulk", {"action": "delete", "where": {}}, format="json")
        assert deleted.status_code == 200
        assert api.delete("/api/me/trash").status_code == 204

        assert TaskTombstone.objects.filter(user_id=user_id).count() <= 150
        total = IdempotentRequest.objects.filter(user_id=user_id).aggregate(total=Sum("size"))
        assert (total["total"] or 0) < settings.MAX_KEPT_RESPONSE_BYTES + largest

    assert refused > 0
    assert TaskTombstone.objects.filter(user_id=user_id).count() == 150
    assert not Task.objects.filter(user_id=user_id).exists()
    assert queries.task_changes(user_id=user_id, after=(-1, 0), size=1).epoch == 7
