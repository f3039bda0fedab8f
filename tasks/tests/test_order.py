"""The manual order (contract Part 2): `position`, `sort=position`, `POST …/move`."""

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from tasks import ordering
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.pages import walk

pytestmark = pytest.mark.django_db


def order(api: APIClient) -> list[int]:
    return [task["id"] for task in api.get("/api/me/tasks?sort=position&limit=200").json()]


def move(api: APIClient, task: Task | int, **body: Any) -> Any:
    task_id = task if isinstance(task, int) else task.id
    return api.post(f"/api/me/tasks/{task_id}/move", body, format="json")


@pytest.fixture
def tasks(api: APIClient) -> list[int]:
    return [
        api.post("/api/me/tasks", {"title": f"t{i}"}, format="json").json()["id"] for i in range(5)
    ]


def test_positions_between_any_two_sort_between_them() -> None:
    rng = random.Random(7)  # noqa: S311 (a reproducible sequence, not a secret)
    places = sorted(
        ordering.stamp(datetime.fromtimestamp(rng.uniform(1e9, 2e9), UTC)) for _ in range(3)
    )
    for _ in range(500):
        index = rng.randrange(len(places) + 1)
        low = places[index - 1] if index else None
        high = places[index] if index < len(places) else None
        place = ordering.between(low, high)
        assert low is None or low < place
        assert high is None or place < high
        places.insert(index, place)
    assert places == sorted(places)


def test_spread_gives_short_evenly_placed_positions() -> None:
    assert ordering.spread("4", "5", 3) == ["42", "45", "47"]
    assert ordering.spread(None, None, 4) == ["2", "4", "6", "8"]


def test_new_tasks_go_last(api: APIClient, tasks: list[int]) -> None:
    assert order(api) == tasks
    positions = [task["position"] for task in api.get("/api/me/tasks?sort=position").json()]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"to": "top"}, [3, 0, 1, 2, 4]),
        ({"to": "bottom"}, [0, 1, 2, 4, 3]),
        ({"before": 1}, [0, 3, 1, 2, 4]),
        ({"after": 0}, [0, 3, 1, 2, 4]),
        ({"after": 4}, [0, 1, 2, 4, 3]),
        ({"before": 0}, [3, 0, 1, 2, 4]),
    ],
)
def test_a_move_puts_the_task_there_changing_it_alone(
    api: APIClient, tasks: list[int], body: dict[str, Any], expected: list[int]
) -> None:
    before = {task["id"]: task for task in api.get("/api/me/tasks").json()}
    anchor = {key: tasks[value] if key != "to" else value for key, value in body.items()}

    response = move(api, tasks[3], **anchor)

    assert response.status_code == 200
    assert (response.json()["version"], response["ETag"]) == (2, '"2"')
    assert order(api) == [tasks[index] for index in expected]
    after = {task["id"]: task for task in api.get("/api/me/tasks").json()}
    assert {tid for tid in tasks if after[tid] != before[tid]} == {tasks[3]}


def test_sort_by_position_pages_by_keyset(api: APIClient, tasks: list[int]) -> None:
    move(api, tasks[4], to="top")
    seen = walk(api, "/api/me/tasks?sort=-position&limit=2")

    assert seen == list(reversed([tasks[4], *tasks[:4]]))


def test_moving_into_one_gap_again_and_again_keeps_positions_short(
    api: APIClient, tasks: list[int]
) -> None:
    for round_ in range(60):
        move(api, tasks[2 + round_ % 2], after=tasks[0])

    positions = [task["position"] for task in api.get("/api/me/tasks?sort=position").json()]
    assert max(map(len, positions)) <= ordering.MAX_LENGTH
    assert len(set(positions)) == len(positions)
    assert order(api)[:3] == [tasks[0], tasks[3], tasks[2]]


def test_move_honours_if_match(api: APIClient, tasks: list[int]) -> None:
    refused = api.post(
        f"/api/me/tasks/{tasks[0]}/move", {"to": "bottom"}, format="json", HTTP_IF_MATCH='"9"'
    )

    assert (refused.status_code, refused["ETag"]) == (412, '"1"')
    assert order(api) == tasks


@pytest.mark.parametrize(
    "body", [{}, {"to": "middle"}, {"to": "top", "after": 1}, {"before": "x"}, {"before": 0}]
)
def test_a_bad_move_is_400(api: APIClient, tasks: list[int], body: dict[str, Any]) -> None:
    assert move(api, tasks[0], **body).status_code == 400


def test_moving_next_to_a_task_not_yours_or_in_the_trash_is_404_naming_it(
    api: APIClient, tasks: list[int]
) -> None:
    theirs = TaskFactory.create(user_id="them")
    api.delete(f"/api/me/tasks/{tasks[1]}")

    for anchor in (theirs.id, tasks[1], 10**15):
        response = move(api, tasks[0], after=anchor)
        assert response.status_code == 404
        assert list(response.json()["errors"]) == ["after"]


def test_moving_next_to_itself_is_400(api: APIClient, tasks: list[int]) -> None:
    response = move(api, tasks[0], before=tasks[0])

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["before"]


def test_moving_a_task_not_yours_is_404(api: APIClient, tasks: list[int]) -> None:
    theirs = TaskFactory.create(user_id="them")

    assert move(api, theirs.id, to="top").status_code == 404


def test_a_new_task_goes_after_one_moved_to_the_bottom(api: APIClient, tasks: list[int]) -> None:
    move(api, tasks[0], to="bottom")

    newest = api.post("/api/me/tasks", {"title": "newest"}, format="json").json()["id"]

    assert order(api)[-2:] == [tasks[0], newest]


def test_a_move_between_tied_positions_spreads_them_apart(api: APIClient, tasks: list[int]) -> None:
    tied = Task.objects.get(id=tasks[1]).position  # as of creates in one microsecond
    Task.objects.filter(id__in=tasks[2:4]).update(position=tied)

    assert move(api, tasks[0], after=tasks[2]).status_code == 200

    positions = [task["position"] for task in api.get("/api/me/tasks?sort=position").json()]
    assert len(set(positions)) == len(positions)
    assert order(api) == [tasks[1], tasks[2], tasks[0], tasks[3], tasks[4]]


def test_a_restored_task_never_shares_a_moved_tasks_position(
    api: APIClient, tasks: list[int]
) -> None:
    trashed = []
    for _ in range(5):
        extra = api.post("/api/me/tasks", {"title": "x"}, format="json").json()["id"]
        move(api, extra, after=tasks[0])
        api.delete(f"/api/me/tasks/{extra}")
        trashed.append(extra)
    for task_id in trashed:
        api.post(f"/api/me/trash/{task_id}/restore")

    assert move(api, tasks[1], before=trashed[2]).status_code == 200
    positions = [task["position"] for task in api.get("/api/me/tasks?sort=position").json()]
    assert len(set(positions)) == len(positions)
