"""`GET /api/{user_id}/events` (contract Part 6), as the request thread opens it: where
the stream starts (after `Last-Event-ID`, which wins, or `since`, else from now; an
expired token opens with `event: reset`), what refuses it (a token not the caller's,
the per-user cap), and where "now" is (tasks.changes.token_now).

Under Django's test client the stream is a one-shot catch-up: the opening frame, the
changes since its token as `event: changes`, then the end, which frees its slot. The
long-lived serving on the event loop is tested with a real server elsewhere.

Tests that read the feed after writing, or count the frames of a stream, are
transactional (`committed`): on PostgreSQL the feed hands out only changes of
transactions that have ended, and whether a test's own open transaction (the user's
Inbox, written by its first call) counts as ended depends on what else the server
runs. So are those that count queries: in autocommit, as in production, with no test
transaction's savepoints.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from live.models import OpenStream
from live.slots import STREAM_LEASE
from live.streams import EventStreamResponse
from live.tests.conftest import ReadFrames
from tasks.changes import encode_token, token_now
from tasks.tests.factories import TaskFactory
from testing.postgres import needs_postgres
from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db

committed = pytest.mark.django_db(transaction=True)

PROBLEM = "application/problem+json"


def poll(api: APIClient, since: str | None = None) -> dict[str, Any]:
    response = api.get("/api/me/changes", {"since": since} if since else {})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def events(frames: list[Any]) -> list[str]:
    return [found.event for found in frames if found.event is not None]


def opened(response: Any) -> EventStreamResponse:
    """The answer, a stream (the one-shot catch-up under the test client)."""
    assert isinstance(response, EventStreamResponse), response.content
    return response


def expired_token(user_id: str, settings: Any) -> str:
    """A token of the user's older than TRASH_RETENTION_DAYS."""
    settings.TRASH_RETENTION_DAYS = 30
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 86400):
        return encode_token(user_id, (0, 0))


# --- Where a stream starts ------------------------------------------------------------


@committed
def test_a_stream_opens_with_the_reconnect_delay_and_its_token(
    api: APIClient, read_frames: ReadFrames
) -> None:
    response = opened(api.get("/api/me/events"))

    (opening,) = read_frames(response)
    assert (opening.retry, opening.event, opening.data) == (1000, None, None)
    assert opening.id == response.stream.token


def test_a_stream_asks_proxies_not_to_hold_it_back(api: APIClient) -> None:
    response = api.get("/api/me/events")

    assert response["X-Accel-Buffering"] == "no"


@committed
def test_without_since_a_stream_starts_from_now(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    TaskFactory.create_batch(2, user_id=user_id)
    api.post("/api/me/lists", {"name": "Work"}, format="json")

    frames = read_frames(api.get("/api/me/events"))

    assert events(frames) == []


@committed
def test_the_opening_id_is_a_token_the_feed_goes_on_from(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    TaskFactory.create(user_id=user_id)
    opening = read_frames(api.get("/api/me/events"))[0]

    later = api.post("/api/me/tasks", {"title": "Later"}, format="json").json()

    assert [task["id"] for task in poll(api, opening.id)["upserted"]] == [later["id"]]


@committed
def test_opening_a_stream_from_now_is_seven_queries(
    mirrored_api: APIClient, django_assert_num_queries: Any
) -> None:
    """The slot (BEGIN, the user's row locked, lapsed slots dropped, COUNT, INSERT,
    COMMIT) and where the feed stands now (one statement)."""
    with django_assert_num_queries(7):
        assert mirrored_api.get("/api/me/events").status_code == 200


@committed
def test_opening_a_stream_from_a_token_is_six_queries(
    mirrored_api: APIClient, django_assert_num_queries: Any
) -> None:
    """The slot alone: the token says where it starts."""
    token = poll(mirrored_api)["next"]

    with django_assert_num_queries(6):
        assert mirrored_api.get("/api/me/events", {"since": token}).status_code == 200


@committed
def test_a_catch_up_with_nothing_new_is_two_reads_and_the_slot_freed(
    mirrored_api: APIClient, django_assert_num_queries: Any, read_frames: ReadFrames
) -> None:
    """The feed's one poll (tasks, lists), then the slot deleted (BEGIN, DELETE, COMMIT)."""
    response = mirrored_api.get("/api/me/events")

    with django_assert_num_queries(5):
        read_frames(response)


@committed
def test_with_since_the_changes_event_is_what_the_changes_feed_answers(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    edited, trashed = TaskFactory.create_batch(2, user_id=user_id)
    token = poll(api)["next"]
    api.patch(f"/api/me/tasks/{edited.id}", {"title": "Edited"}, format="json")
    api.delete(f"/api/me/tasks/{trashed.id}")
    api.post("/api/me/lists", {"name": "Work"}, format="json")

    # Tokens are signed with the time: both answers are made in the same second.
    with mock.patch("django.core.signing.time.time", return_value=time.time()):
        frames = read_frames(api.get("/api/me/events", {"since": token}))
        feed = poll(api, token)

    opening, changes = frames
    assert opening.id == token
    assert (changes.event, changes.id) == ("changes", feed["next"])
    assert changes.data == feed
    kinds = (feed["upserted"], feed["deleted"], feed["lists"]["upserted"])
    assert [len(kind) for kind in kinds] == [1, 1, 2]  # edited, trashed; Inbox, Work


@committed
def test_a_catch_up_longer_than_a_page_comes_as_several_events(
    api: APIClient, user_id: str, read_frames: ReadFrames, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = poll(api)["next"]
    tasks = TaskFactory.create_batch(3, user_id=user_id)
    monkeypatch.setattr("live.streams.PAGE", 2)

    frames = read_frames(api.get("/api/me/events", {"since": token}))[1:]

    assert [(found.event, found.data["more"]) for found in frames] == [
        ("changes", True),
        ("changes", False),
    ]
    assert frames[0].id == frames[0].data["next"]
    sent = [task["id"] for found in frames for task in found.data["upserted"]]
    assert sent == [task.id for task in tasks]


@committed
def test_last_event_id_wins_over_since(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    early = poll(api)["next"]
    TaskFactory.create(user_id=user_id)
    late = poll(api, early)["next"]

    frames = read_frames(api.get("/api/me/events", {"since": early}, HTTP_LAST_EVENT_ID=late))

    assert frames[0].id == late
    assert events(frames) == []


@committed
def test_an_empty_last_event_id_is_none(api: APIClient, read_frames: ReadFrames) -> None:
    """A browser sends Last-Event-ID only once it has an id; an empty one names none."""
    early = poll(api)["next"]

    frames = read_frames(api.get("/api/me/events", {"since": early}, HTTP_LAST_EVENT_ID=""))

    assert frames[0].id == early


@pytest.mark.parametrize("since", ["garbage", "1.2:1vLq3b:forged", "x" * 201, ""])
def test_a_since_the_feed_never_issued_is_400_naming_since(api: APIClient, since: str) -> None:
    response = api.get("/api/me/events", {"since": since})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert list(response.json()["errors"]) == ["since"]


def test_a_bad_last_event_id_is_400_naming_it(api: APIClient) -> None:
    good_since = poll(api)["next"]

    response = api.get("/api/me/events", {"since": good_since}, HTTP_LAST_EVENT_ID="garbage")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert list(response.json()["errors"]) == ["Last-Event-ID"]


def test_another_users_token_is_400(api: APIClient, client_for: Callable[[str], APIClient]) -> None:
    theirs = poll(client_for("them"))["next"]

    response = api.get("/api/me/events", {"since": theirs})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["since"]


def test_a_refused_opening_holds_no_slot(api: APIClient) -> None:
    assert api.get("/api/me/events", {"since": "garbage"}).status_code == 400

    assert not OpenStream.objects.exists()


@committed
def test_an_expired_token_opens_with_reset(
    api: APIClient, user_id: str, settings: Any, read_frames: ReadFrames
) -> None:
    old = expired_token(user_id, settings)

    opening, reset = read_frames(api.get("/api/me/events", {"since": old}))

    assert opening.retry == 1000
    assert (reset.event, reset.id) == ("reset", opening.id)
    assert reset.data["type"].endswith("sync-token-expired")
    assert reset.data["detail"]


@committed
def test_an_expired_last_event_id_opens_with_reset(
    api: APIClient, user_id: str, settings: Any, read_frames: ReadFrames
) -> None:
    old = expired_token(user_id, settings)

    frames = read_frames(api.get("/api/me/events", HTTP_LAST_EVENT_ID=old))

    assert events(frames) == ["reset"]


@committed
def test_after_reset_a_stream_goes_on_from_now(
    api: APIClient, user_id: str, settings: Any, read_frames: ReadFrames
) -> None:
    TaskFactory.create(user_id=user_id)
    old = expired_token(user_id, settings)

    frames = read_frames(api.get("/api/me/events", {"since": old}))
    later = api.post("/api/me/tasks", {"title": "Later"}, format="json").json()

    assert "changes" not in events(frames)
    assert [task["id"] for task in poll(api, frames[-1].id)["upserted"]] == [later["id"]]


@committed
def test_a_token_behind_the_feeds_horizon_gets_reset(
    api: APIClient, user_id: str, settings: Any, read_frames: ReadFrames
) -> None:
    """Tombstones forgotten beyond MAX_TOMBSTONES_PER_USER: the feed answers 410 to
    such a token; the stream tells the client to sync in full."""
    settings.MAX_TOMBSTONES_PER_USER = 1
    tasks = TaskFactory.create_batch(2, user_id=user_id)
    token = poll(api)["next"]
    for task in tasks:
        api.delete(f"/api/me/tasks/{task.id}")
    assert api.delete("/api/me/trash").status_code == 204

    frames = read_frames(api.get("/api/me/events", {"since": token}))

    assert events(frames) == ["reset"]
    reset = frames[-1]
    assert reset.id is not None
    assert api.get("/api/me/changes", {"since": reset.id}).status_code == 200


@committed
def test_a_stream_ends_when_its_token_expires(
    make_token: TokenFactory, user_id: str, read_frames: ReadFrames
) -> None:
    expires = int(time.time()) + 600
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user_id, exp=expires)}")

    response = opened(client.get("/api/me/events"))

    assert response.stream.ends_at == expires
    read_frames(response)


# --- Content negotiation ----------------------------------------------------------------


@committed
def test_accept_event_stream_opens_a_stream(api: APIClient, read_frames: ReadFrames) -> None:
    response = api.get("/api/me/events", HTTP_ACCEPT="text/event-stream")

    assert read_frames(response)[0].retry == 1000


def test_accept_event_stream_still_gets_a_problem_for_a_bad_since(api: APIClient) -> None:
    response = api.get("/api/me/events", {"since": "garbage"}, HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert list(response.json()["errors"]) == ["since"]


def test_accept_event_stream_still_gets_a_problem_without_a_token(user_id: str) -> None:
    response = APIClient().get(f"/api/{user_id}/events", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_another_users_stream_is_403(api: APIClient) -> None:
    response = api.get("/api/someone-else/events")

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


# --- At most EVENTS_MAX_STREAMS_PER_USER --------------------------------------------------


@pytest.fixture
def two_streams(settings: Any) -> None:
    settings.EVENTS_MAX_STREAMS_PER_USER = 2


def hold_streams(api: APIClient, count: int) -> list[Any]:
    """`count` streams opened and not read: they hold their slots."""
    responses = [api.get("/api/me/events") for _ in range(count)]
    assert [response.status_code for response in responses] == [200] * count
    return responses


@pytest.mark.usefixtures("two_streams")
def test_one_stream_over_the_cap_is_429_with_retry_after(api: APIClient) -> None:
    hold_streams(api, 2)

    response = api.get("/api/me/events")

    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM
    assert response["Retry-After"] == "20"
    assert response.json()["status"] == 429


@pytest.mark.usefixtures("two_streams")
def test_the_cap_is_per_user(api: APIClient, client_for: Callable[[str], APIClient]) -> None:
    hold_streams(api, 2)

    assert client_for("someone-else").get("/api/me/events").status_code == 200


@pytest.mark.usefixtures("two_streams")
def test_a_slot_not_seen_for_the_lease_no_longer_counts(api: APIClient) -> None:
    hold_streams(api, 2)
    OpenStream.objects.update(seen_at=timezone.now() - STREAM_LEASE - timedelta(seconds=1))

    assert api.get("/api/me/events").status_code == 200


@pytest.mark.usefixtures("two_streams")
def test_a_slot_seen_within_the_lease_still_counts(api: APIClient) -> None:
    hold_streams(api, 2)
    OpenStream.objects.update(seen_at=timezone.now() - STREAM_LEASE + timedelta(seconds=10))

    assert api.get("/api/me/events").status_code == 429


@pytest.mark.usefixtures("two_streams")
def test_a_stream_read_to_its_end_frees_its_slot(api: APIClient, read_frames: ReadFrames) -> None:
    first, _ = hold_streams(api, 2)

    read_frames(first)

    assert api.get("/api/me/events").status_code == 200


# --- Where "now" is: tasks.changes.token_now ------------------------------------------------


@committed
def test_a_token_from_now_is_past_every_earlier_change(api: APIClient, user_id: str) -> None:
    """Whichever kind of change came last (here a list deleted, after a task deleted for
    good, a task trashed, one edited), the feed from now hands out none of them."""
    edited, trashed, purged = TaskFactory.create_batch(3, user_id=user_id)
    api.patch(f"/api/me/tasks/{edited.id}", {"title": "Edited"}, format="json")
    api.delete(f"/api/me/tasks/{trashed.id}")
    api.delete(f"/api/me/tasks/{purged.id}")
    api.delete(f"/api/me/trash/{purged.id}")
    gone = api.post("/api/me/lists", {"name": "Gone"}, format="json").json()
    api.delete(f"/api/me/lists/{gone['id']}")

    answer = poll(api, token_now(user_id=user_id))

    assert (answer["upserted"], answer["deleted"], answer["more"]) == ([], [], False)
    assert answer["lists"] == {"upserted": [], "deleted": []}


@committed
def test_a_token_from_now_past_a_deletion_for_good_hands_out_none_of_it(
    api: APIClient, user_id: str
) -> None:
    """The last change is a tombstone: the position is past it too."""
    purged = TaskFactory.create(user_id=user_id)
    api.delete(f"/api/me/tasks/{purged.id}")
    api.delete(f"/api/me/trash/{purged.id}")

    answer = poll(api, token_now(user_id=user_id))

    assert answer["deleted"] == []


@committed
def test_a_token_from_now_hands_out_a_task_created_later(api: APIClient, user_id: str) -> None:
    TaskFactory.create(user_id=user_id)
    token = token_now(user_id=user_id)

    created = api.post("/api/me/tasks", {"title": "Later"}, format="json").json()

    assert [task["id"] for task in poll(api, token)["upserted"]] == [created["id"]]


@committed
def test_a_token_from_now_hands_out_a_task_edited_later(api: APIClient, user_id: str) -> None:
    task, _ = TaskFactory.create_batch(2, user_id=user_id)
    token = token_now(user_id=user_id)

    api.patch(f"/api/me/tasks/{task.id}", {"title": "Edited"}, format="json")

    assert [found["title"] for found in poll(api, token)["upserted"]] == ["Edited"]


@committed
def test_a_token_from_now_hands_out_a_task_trashed_later(api: APIClient, user_id: str) -> None:
    task, _ = TaskFactory.create_batch(2, user_id=user_id)
    token = token_now(user_id=user_id)

    api.delete(f"/api/me/tasks/{task.id}")

    answer = poll(api, token)
    assert (answer["upserted"], answer["deleted"]) == ([], [task.id])


@committed
def test_a_token_from_now_hands_out_a_task_restored_later(api: APIClient, user_id: str) -> None:
    task = TaskFactory.create(user_id=user_id)
    api.delete(f"/api/me/tasks/{task.id}")
    token = token_now(user_id=user_id)

    api.post(f"/api/me/trash/{task.id}/restore")

    assert [found["id"] for found in poll(api, token)["upserted"]] == [task.id]


@committed
def test_a_token_from_now_hands_out_a_task_deleted_for_good_later(
    api: APIClient, user_id: str
) -> None:
    task, _ = TaskFactory.create_batch(2, user_id=user_id)
    api.delete(f"/api/me/tasks/{task.id}")
    token = token_now(user_id=user_id)

    api.delete(f"/api/me/trash/{task.id}")

    answer = poll(api, token)
    assert (answer["upserted"], answer["deleted"]) == ([], [task.id])


@committed
def test_a_token_from_now_hands_out_lists_changed_later(api: APIClient, user_id: str) -> None:
    renamed, deleted, _untouched = (
        api.post("/api/me/lists", {"name": name}, format="json").json() for name in "RDU"
    )
    token = token_now(user_id=user_id)
    api.patch(f"/api/me/lists/{renamed['id']}", {"name": "Renamed"}, format="json")
    api.delete(f"/api/me/lists/{deleted['id']}")
    created = api.post("/api/me/lists", {"name": "New"}, format="json").json()

    lists = poll(api, token)["lists"]

    assert [found["id"] for found in lists["upserted"]] == [renamed["id"], created["id"]]
    assert lists["deleted"] == [deleted["id"]]


@committed
def test_a_token_from_now_is_one_query(
    mirrored_api: APIClient, user_id: str, django_assert_num_queries: Any
) -> None:
    TaskFactory.create(user_id=user_id)

    with django_assert_num_queries(1):
        token_now(user_id=user_id)


def test_a_token_from_now_is_the_users_own(
    api: APIClient, user_id: str, client_for: Callable[[str], APIClient]
) -> None:
    token = token_now(user_id=user_id)

    assert client_for("someone-else").get("/api/me/changes", {"since": token}).status_code == 400


@committed
@needs_postgres
def test_a_token_from_now_does_not_skip_a_change_that_commits_late(
    api: APIClient, user_id: str
) -> None:
    """A starts first, B commits first, the token is taken between them: it may not
    stand past B's change, which is after A's; once A commits, the feed from the token
    hands out A's change."""
    slow, fast = TaskFactory.create_batch(2, user_id=user_id)
    with psycopg.connect(**connection.get_connection_params()) as writer_a:
        writer_a.execute(  # A: written, not committed
            "UPDATE tasks_task SET title = 'A', version = version + 1 WHERE id = %s", [slow.id]
        )
        api.patch(f"/api/me/tasks/{fast.id}", {"title": "B"}, format="json")  # B commits
        token = token_now(user_id=user_id)
        writer_a.commit()

    titles = [task["title"] for task in poll(api, token)["upserted"]]
    assert titles == ["A", "B"]


@committed
@needs_postgres
def test_a_stream_from_now_does_not_skip_a_change_that_commits_late(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    """The same through the stream's opening id."""
    slow, fast = TaskFactory.create_batch(2, user_id=user_id)
    with psycopg.connect(**connection.get_connection_params()) as writer_a:
        writer_a.execute(
            "UPDATE tasks_task SET title = 'A', version = version + 1 WHERE id = %s", [slow.id]
        )
        api.patch(f"/api/me/tasks/{fast.id}", {"title": "B"}, format="json")
        opening = read_frames(api.get("/api/me/events"))[0]
        writer_a.commit()

    titles = [task["title"] for task in poll(api, opening.id)["upserted"]]
    assert titles == ["A", "B"]
