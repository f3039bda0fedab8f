"""Tasks in lists, and subtasks (contract Part 4): placing and moving a task with its
subtree, depth and cycles, completion down and up, trash and restore, filters, order."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.pages import walk
from testing.worker import wait_for

pytestmark = pytest.mark.django_db


def create(api: APIClient, **body: Any) -> dict[str, Any]:
    response = api.post("/api/me/tasks", {"title": "Task", **body}, format="json")
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def get(api: APIClient, task: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/api/me/tasks/{task['id']}")
    assert response.status_code == 200, response.content
    found: dict[str, Any] = response.json()
    return found


def patch(api: APIClient, task: dict[str, Any], **body: Any) -> Any:
    return api.patch(f"/api/me/tasks/{task['id']}", body, format="json")


def new_list(api: APIClient, name: str) -> int:
    response = api.post("/api/me/lists", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    list_id: int = response.json()["id"]
    return list_id


def inbox_id(api: APIClient) -> int:
    (found,) = [found["id"] for found in api.get("/api/me/lists").json() if found["is_inbox"]]
    assert isinstance(found, int)
    return found


def chain(api: APIClient, levels: int, **body: Any) -> list[dict[str, Any]]:
    """A root and its descendants, each the only child of the one before."""
    tasks = [create(api, title="Level 1", **body)]
    for level in range(2, levels + 1):
        tasks.append(create(api, title=f"Level {level}", parent_id=tasks[-1]["id"]))
    return tasks


def assert_problem(response: Any, status: int, name: str) -> None:
    """A problem+json of `status` whose `errors` name `name`."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert name in response.json()["errors"], response.json()


def placement(api: APIClient, task: dict[str, Any]) -> tuple[int, int | None]:
    found = get(api, task)
    return found["list_id"], found["parent_id"]


def completion(api: APIClient, *tasks: dict[str, Any]) -> list[bool]:
    return [get(api, task)["completed"] for task in tasks]


# --- list_id --------------------------------------------------------------------------


def test_a_task_goes_to_the_inbox_by_default(api: APIClient) -> None:
    task = create(api)

    assert (task["list_id"], task["parent_id"]) == (inbox_id(api), None)


def test_a_task_can_be_created_in_one_of_my_lists(api: APIClient) -> None:
    work = new_list(api, "Work")

    task = create(api, list_id=work)

    assert (task["list_id"], task["parent_id"]) == (work, None)
    assert placement(api, task) == (work, None)


BAD_LIST_IDS = {
    "another user's": "theirs",
    "missing": 10**9,
    "a numeric string": "mine as a string",
    "a float": 5.5,
    "true": True,
    "null": None,
    "zero": 0,
    "negative": -1,
    "beyond 64 bits": 2**63,
    "an object": {"id": 1},
}


def bad_list_id(api: APIClient, client_for: Any, kind: str) -> Any:
    """The value of BAD_LIST_IDS[kind], made real: a list of another user, or one of
    mine spelled as another JSON type."""
    value = BAD_LIST_IDS[kind]
    mine = new_list(api, "Mine")
    if value == "theirs":
        response = client_for("them").post("/api/me/lists", {"name": "Theirs"}, format="json")
        return response.json()["id"]
    if value == "mine as a string":
        return str(mine)
    return value


@pytest.mark.parametrize("kind", BAD_LIST_IDS)
def test_a_bad_list_id_on_create_is_400_naming_list_id(
    api: APIClient, client_for: Any, user_id: str, kind: str
) -> None:
    list_id = bad_list_id(api, client_for, kind)

    response = api.post("/api/me/tasks", {"title": "x", "list_id": list_id}, format="json")

    assert_problem(response, 400, "list_id")
    assert not Task.objects.filter(user_id=user_id).exists()


@pytest.mark.parametrize("kind", BAD_LIST_IDS)
def test_a_bad_list_id_on_update_is_400_naming_list_id(
    api: APIClient, client_for: Any, kind: str
) -> None:
    task = create(api)
    list_id = bad_list_id(api, client_for, kind)

    response = patch(api, task, list_id=list_id, title="Changed")

    assert_problem(response, 400, "list_id")
    assert get(api, task) == task


# --- parent_id ----------------------------------------------------------------------


def test_a_subtask_lands_in_its_parents_list(api: APIClient) -> None:
    work = new_list(api, "Work")
    parent = create(api, list_id=work)

    child = create(api, parent_id=parent["id"])

    assert (child["list_id"], child["parent_id"]) == (work, parent["id"])


def test_a_subtask_may_name_its_parents_list(api: APIClient) -> None:
    work = new_list(api, "Work")
    parent = create(api, list_id=work)

    child = create(api, parent_id=parent["id"], list_id=work)

    assert (child["list_id"], child["parent_id"]) == (work, parent["id"])


def test_a_list_id_other_than_the_parents_is_400_naming_list_id(
    api: APIClient, user_id: str
) -> None:
    work = new_list(api, "Work")
    parent = create(api, list_id=work)

    response = api.post(
        "/api/me/tasks",
        {"title": "x", "parent_id": parent["id"], "list_id": inbox_id(api)},
        format="json",
    )

    assert_problem(response, 400, "list_id")
    assert Task.objects.filter(user_id=user_id).count() == 1


def test_moving_under_a_parent_with_another_list_id_is_400_naming_list_id(
    api: APIClient,
) -> None:
    work = new_list(api, "Work")
    parent = create(api, list_id=work)
    task = create(api)

    response = patch(api, task, parent_id=parent["id"], list_id=inbox_id(api))

    assert_problem(response, 400, "list_id")
    assert get(api, task) == task


def bad_parent(api: APIClient, client_for: Any, kind: str) -> Any:
    if kind == "another user's task":
        return create(client_for("them"))["id"]
    if kind == "a trashed task":
        trashed = create(api, title="Trashed")
        api.delete(f"/api/me/tasks/{trashed['id']}")
        return trashed["id"]
    if kind == "a task deleted for good":
        gone = create(api, title="Gone")
        api.delete(f"/api/me/tasks/{gone['id']}")
        api.delete(f"/api/me/trash/{gone['id']}")
        return gone["id"]
    return {
        "missing": 10**9,
        "a string": "1",
        "a float": 1.5,
        "true": True,
        "zero": 0,
        "beyond 64 bits": 2**63,
    }[kind]


BAD_PARENTS = [
    "another user's task",
    "a trashed task",
    "a task deleted for good",
    "missing",
    "a string",
    "a float",
    "true",
    "zero",
    "beyond 64 bits",
]


@pytest.mark.parametrize("kind", BAD_PARENTS)
def test_a_bad_parent_on_create_is_400_naming_parent_id(
    api: APIClient, client_for: Any, user_id: str, kind: str
) -> None:
    parent_id = bad_parent(api, client_for, kind)
    before = Task.objects.filter(user_id=user_id).count()

    response = api.post("/api/me/tasks", {"title": "x", "parent_id": parent_id}, format="json")

    assert_problem(response, 400, "parent_id")
    assert Task.objects.filter(user_id=user_id).count() == before


@pytest.mark.parametrize("kind", BAD_PARENTS)
def test_a_bad_parent_on_update_is_400_naming_parent_id(
    api: APIClient, client_for: Any, kind: str
) -> None:
    task = create(api)
    parent_id = bad_parent(api, client_for, kind)

    response = patch(api, task, parent_id=parent_id)

    assert_problem(response, 400, "parent_id")
    assert get(api, task) == task


def test_a_task_cant_be_its_own_parent(api: APIClient) -> None:
    task = create(api)

    assert_problem(patch(api, task, parent_id=task["id"]), 400, "parent_id")
    assert get(api, task) == task


@pytest.mark.parametrize("below", [1, 3])
def test_a_task_cant_go_under_its_own_descendant(api: APIClient, below: int) -> None:
    tasks = chain(api, 4)

    response = patch(api, tasks[0], parent_id=tasks[below]["id"])

    assert_problem(response, 400, "parent_id")
    assert [placement(api, task)[1] for task in tasks] == [None] + [t["id"] for t in tasks[:-1]]


def test_a_chain_of_five_levels_is_fine(api: APIClient) -> None:
    tasks = chain(api, 5)

    assert [task["parent_id"] for task in tasks] == [None] + [t["id"] for t in tasks[:-1]]


def test_a_sixth_level_is_400_naming_parent_id(api: APIClient, user_id: str) -> None:
    tasks = chain(api, 5)

    response = api.post(
        "/api/me/tasks", {"title": "x", "parent_id": tasks[-1]["id"]}, format="json"
    )

    assert_problem(response, 400, "parent_id")
    assert Task.objects.filter(user_id=user_id).count() == 5


def test_moving_a_task_under_the_fifth_level_is_400_naming_parent_id(api: APIClient) -> None:
    tasks = chain(api, 5)
    loose = create(api)

    assert_problem(patch(api, loose, parent_id=tasks[-1]["id"]), 400, "parent_id")
    assert get(api, loose) == loose


def test_moving_a_subtree_counts_its_own_depth(api: APIClient) -> None:
    deep = chain(api, 4)
    subtree = chain(api, 2)

    too_deep = patch(api, subtree[0], parent_id=deep[3]["id"])
    fits = patch(api, subtree[0], parent_id=deep[2]["id"])

    assert_problem(too_deep, 400, "parent_id")
    assert fits.status_code == 200, fits.content
    assert fits.json()["parent_id"] == deep[2]["id"]
    assert placement(api, subtree[1])[1] == subtree[0]["id"]


def test_moving_a_subtask_deeper_counts_its_subtree_there_too(api: APIClient) -> None:
    """Within one tree: a subtree of three moved from level 2 to under level 3 would
    reach level 6."""
    root, _second, third = chain(api, 3)
    side = create(api, parent_id=root["id"])
    child = create(api, parent_id=side["id"])
    create(api, parent_id=child["id"])

    assert_problem(patch(api, side, parent_id=third["id"]), 400, "parent_id")
    assert placement(api, side)[1] == root["id"]


# --- Moving between lists -----------------------------------------------------------


def test_changing_list_id_moves_the_whole_subtree(api: APIClient) -> None:
    work = new_list(api, "Work")
    root, child, grandchild = chain(api, 3)
    bystander = create(api)

    response = patch(api, root, list_id=work)

    assert response.status_code == 200, response.content
    assert (response.json()["list_id"], response.json()["parent_id"]) == (work, None)
    assert placement(api, child) == (work, root["id"])
    assert placement(api, grandchild) == (work, child["id"])
    assert placement(api, bystander) == (inbox_id(api), None)


def test_every_task_that_changed_list_gets_a_new_version(api: APIClient) -> None:
    work = new_list(api, "Work")
    tasks = chain(api, 3)
    versions = [get(api, task)["version"] for task in tasks]

    patch(api, tasks[0], list_id=work)

    assert [get(api, task)["version"] for task in tasks] == [v + 1 for v in versions]


def test_a_subtask_moved_to_another_list_becomes_top_level_with_its_subtree(
    api: APIClient,
) -> None:
    work = new_list(api, "Work")
    root, child, grandchild = chain(api, 3)

    response = patch(api, child, list_id=work)

    assert (response.json()["list_id"], response.json()["parent_id"]) == (work, None)
    assert placement(api, grandchild) == (work, child["id"])
    assert placement(api, root) == (inbox_id(api), None)
    assert get(api, root)["version"] == root["version"]


def test_sending_the_list_a_subtask_is_in_keeps_it_under_its_parent(api: APIClient) -> None:
    root, child = chain(api, 2)

    response = patch(api, child, list_id=root["list_id"])

    assert response.status_code == 200
    assert response.json() == get(api, child)
    assert (response.json()["parent_id"], response.json()["version"]) == (root["id"], 1)


@pytest.mark.django_db(transaction=True)
def test_every_task_that_changed_list_appears_in_the_changes_feed(api: APIClient) -> None:
    """Transactional: on PostgreSQL the feed hands out only settled changes, so it
    polls on while another transaction on the server holds them back."""
    work = new_list(api, "Work")
    moved = chain(api, 3)
    stays = create(api, title="Stays")
    since = api.get("/api/me/changes").json()["next"]
    patch(api, moved[0], list_id=work)
    seen: dict[int, dict[str, Any]] = {}

    def caught_up() -> bool:
        nonlocal since
        answer = api.get("/api/me/changes", {"since": since})
        assert answer.status_code == 200, answer.content
        seen.update((task["id"], task) for task in answer.json()["upserted"])
        since = answer.json()["next"]
        return {task["id"] for task in moved} <= seen.keys() and not answer.json()["more"]

    wait_for(caught_up, timeout=10, what="the moved tasks in the changes feed")

    assert [seen[task["id"]] for task in moved] == [get(api, task) for task in moved]
    assert {seen[task["id"]]["list_id"] for task in moved} == {work}
    assert [seen[task["id"]]["version"] for task in moved] == [2, 2, 2]
    assert seen.get(stays["id"], stays)["version"] == 1


def test_setting_parent_id_moves_the_subtree_into_the_parents_list(api: APIClient) -> None:
    work = new_list(api, "Work")
    parent = create(api, list_id=work)
    root, child = chain(api, 2)

    response = patch(api, root, parent_id=parent["id"])

    assert response.status_code == 200, response.content
    assert (response.json()["list_id"], response.json()["parent_id"]) == (work, parent["id"])
    assert placement(api, child) == (work, root["id"])
    assert get(api, child)["version"] == child["version"] + 1


def test_parent_id_null_makes_a_subtask_top_level_in_its_list(api: APIClient) -> None:
    work = new_list(api, "Work")
    _root, child, grandchild = chain(api, 3, list_id=work)

    response = patch(api, child, parent_id=None)

    assert (response.json()["list_id"], response.json()["parent_id"]) == (work, None)
    assert response.json()["version"] == child["version"] + 1
    assert placement(api, grandchild) == (work, child["id"])


def test_moving_to_a_list_writes_the_rest_of_the_patch_too(api: APIClient) -> None:
    work = new_list(api, "Work")
    task = create(api)

    response = patch(api, task, list_id=work, title="Moved", priority="high")

    assert (response.json()["title"], response.json()["priority"]) == ("Moved", "high")
    assert get(api, task)["list_id"] == work


# --- Completion ---------------------------------------------------------------------


COMPLETE = {
    "PATCH completed": ("patch", "", {"completed": True}),
    "toggle": ("patch", "/complete", None),
    "set": ("patch", "/complete", {"completed": True}),
}
REOPEN = {
    "PATCH completed": ("patch", "", {"completed": False}),
    "toggle": ("patch", "/complete", None),
    "set": ("patch", "/complete", {"completed": False}),
}


def write(api: APIClient, task: dict[str, Any], how: tuple[str, str, Any]) -> Any:
    method, suffix, body = how
    response = getattr(api, method)(f"/api/me/tasks/{task['id']}{suffix}", body, format="json")
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize("how", COMPLETE)
def test_completing_a_task_completes_its_open_descendants(api: APIClient, how: str) -> None:
    root, child, grandchild = chain(api, 3)
    sibling = create(api, parent_id=root["id"])
    done_before = write(api, sibling, COMPLETE["set"]).json()
    bystander = create(api)

    completed = write(api, root, COMPLETE[how]).json()

    assert completed["completed"] is True
    assert completion(api, child, grandchild, sibling, bystander) == [True, True, True, False]
    assert get(api, sibling)["completed_at"] == done_before["completed_at"]
    assert get(api, sibling)["version"] == done_before["version"]
    assert get(api, grandchild)["version"] == grandchild["version"] + 1


@pytest.mark.parametrize("how", REOPEN)
def test_reopening_a_task_reopens_its_completed_ancestors(api: APIClient, how: str) -> None:
    root, child, grandchild = chain(api, 3)
    sibling = create(api, parent_id=root["id"])
    write(api, root, COMPLETE["set"])

    reopened = write(api, grandchild, REOPEN[how]).json()

    assert reopened["completed"] is False
    assert completion(api, root, child, grandchild, sibling) == [False, False, False, True]
    assert get(api, root)["completed_at"] is None


def test_completing_a_subtask_leaves_its_parent_open(api: APIClient) -> None:
    root, child = chain(api, 2)

    write(api, child, COMPLETE["set"])

    assert completion(api, root, child) == [False, True]


def test_an_open_subtask_created_under_a_completed_parent_reopens_it(api: APIClient) -> None:
    root, child = chain(api, 2)
    write(api, root, COMPLETE["set"])

    create(api, parent_id=child["id"])

    assert completion(api, root, child) == [False, False]


def test_a_completed_subtask_created_under_a_completed_parent_leaves_it_completed(
    api: APIClient,
) -> None:
    root = create(api)
    write(api, root, COMPLETE["set"])

    create(api, parent_id=root["id"], completed=True)

    assert completion(api, root) == [True]


def test_an_open_task_moved_under_a_completed_parent_reopens_it(api: APIClient) -> None:
    root, child = chain(api, 2)
    write(api, root, COMPLETE["set"])
    loose = create(api)

    response = patch(api, loose, parent_id=child["id"])

    assert response.status_code == 200, response.content
    assert completion(api, root, child, loose) == [False, False, False]


def test_a_completed_task_moved_under_a_completed_parent_leaves_it_completed(
    api: APIClient,
) -> None:
    root = create(api)
    write(api, root, COMPLETE["set"])
    loose = create(api, completed=True)

    patch(api, loose, parent_id=root["id"])

    assert completion(api, root, loose) == [True, True]


def test_moving_and_completing_in_one_patch_keeps_no_open_task_under_a_completed_one(
    api: APIClient,
) -> None:
    root = create(api)
    write(api, root, COMPLETE["set"])
    loose = create(api)

    patch(api, loose, parent_id=root["id"], completed=False)

    assert completion(api, root, loose) == [False, False]


@pytest.mark.parametrize("how", COMPLETE)
def test_a_recurring_parent_moving_on_reopens_its_subtasks(api: APIClient, how: str) -> None:
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    root = create(api, recurrence="FREQ=DAILY", due_date=due.isoformat())
    done = create(api, parent_id=root["id"])
    write(api, done, COMPLETE["set"])
    grandchild = create(api, parent_id=done["id"], completed=True)
    still_open = create(api, parent_id=root["id"])

    moved_on = write(api, root, COMPLETE[how]).json()

    assert moved_on["completed"] is False
    assert datetime.fromisoformat(moved_on["due_date"]) == due + timedelta(days=1)
    assert completion(api, done, grandchild, still_open) == [False, False, False]


# --- Trash and restore --------------------------------------------------------------


def trash(api: APIClient, task: dict[str, Any]) -> None:
    assert api.delete(f"/api/me/tasks/{task['id']}").status_code == 204


def restore(api: APIClient, task: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/api/me/trash/{task['id']}/restore")
    assert response.status_code == 200, response.content
    restored: dict[str, Any] = response.json()
    return restored


def in_trash(api: APIClient) -> set[int]:
    return {task["id"] for task in api.get("/api/me/trash").json()}


def test_trashing_a_task_trashes_its_live_descendants(api: APIClient) -> None:
    root, child, grandchild = chain(api, 3)
    bystander = create(api)

    trash(api, root)

    assert in_trash(api) == {root["id"], child["id"], grandchild["id"]}
    assert [task["id"] for task in api.get("/api/me/tasks").json()] == [bystander["id"]]
    assert api.get("/api/me/tasks")["X-Total-Count"] == "1"
    assert api.get(f"/api/me/tasks/{child['id']}").status_code == 404


def test_trashing_a_subtask_leaves_its_parent_live(api: APIClient) -> None:
    root, child, grandchild = chain(api, 3)

    trash(api, child)

    assert in_trash(api) == {child["id"], grandchild["id"]}
    assert get(api, root)["version"] == root["version"]


def test_restore_brings_back_the_descendants_that_went_with_it(api: APIClient) -> None:
    root, child, grandchild = chain(api, 3)
    trash(api, root)

    restored = restore(api, root)

    assert (restored["parent_id"], restored["list_id"]) == (None, inbox_id(api))
    assert placement(api, child) == (inbox_id(api), root["id"])
    assert placement(api, grandchild) == (inbox_id(api), child["id"])
    assert in_trash(api) == set()


def test_restore_leaves_a_descendant_trashed_earlier_on_its_own(api: APIClient) -> None:
    root, child = chain(api, 2)
    earlier = create(api, parent_id=root["id"], title="Trashed on its own")
    trash(api, earlier)
    trash(api, root)

    restore(api, root)

    assert in_trash(api) == {earlier["id"]}
    assert placement(api, child) == (inbox_id(api), root["id"])


def test_a_subtask_trashed_alone_comes_back_under_its_live_parent(api: APIClient) -> None:
    root, child = chain(api, 2)
    trash(api, child)

    restored = restore(api, child)

    assert restored["parent_id"] == root["id"]


def test_a_subtask_restored_while_its_parent_is_in_the_trash_comes_back_top_level(
    api: APIClient,
) -> None:
    work = new_list(api, "Work")
    root, child, grandchild = chain(api, 3, list_id=work)
    trash(api, root)

    restored = restore(api, child)

    assert (restored["parent_id"], restored["list_id"]) == (None, work)
    assert placement(api, grandchild) == (work, child["id"])
    assert in_trash(api) == {root["id"]}


def test_a_restored_open_subtask_reopens_its_completed_parent(api: APIClient) -> None:
    root, child = chain(api, 2)
    trash(api, child)
    write(api, root, COMPLETE["set"])

    restore(api, child)

    assert completion(api, root, child) == [False, False]


def test_a_subtask_restored_under_a_parent_moved_meanwhile_follows_it(api: APIClient) -> None:
    work = new_list(api, "Work")
    root, child = chain(api, 2)
    trash(api, child)
    patch(api, root, list_id=work)

    restored = restore(api, child)

    assert (restored["list_id"], restored["parent_id"]) == (work, root["id"])


# --- Filters --------------------------------------------------------------------------


@pytest.fixture
def forest(api: APIClient) -> dict[str, Any]:
    """Work: A (B, C (D)) and E; the Inbox: F (G). C, D and G completed; titles are the
    letters."""
    work = new_list(api, "Work")
    a = create(api, title="A", list_id=work)
    b = create(api, title="B", parent_id=a["id"])
    c = create(api, title="C", parent_id=a["id"], completed=True)
    d = create(api, title="D", parent_id=c["id"], completed=True)
    e = create(api, title="E", list_id=work)
    f = create(api, title="F")
    g = create(api, title="G", parent_id=f["id"], completed=True)
    tasks = {task["title"]: task["id"] for task in (a, b, c, d, e, f, g)}
    return {"work": work, "inbox": inbox_id(api), **tasks}


def titles(api: APIClient, ids: list[int]) -> list[str]:
    return [get(api, {"id": task_id})["title"] for task_id in ids]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("list_id={work}", "ABCDE"),
        ("list_id={work}&status=pending", "ABE"),
        ("list_id={work}&status=completed", "CD"),
        ("list_id={inbox}", "FG"),
        ("list_id={inbox}&status=pending", "F"),
        ("parent_id=none", "AEF"),
        ("parent_id=none&status=pending", "AEF"),
        ("parent_id={A}", "BC"),
        ("parent_id={A}&status=completed", "C"),
        ("parent_id={C}", "D"),
        ("parent_id={E}", ""),
        ("list_id={work}&parent_id=none", "AE"),
        ("list_id={inbox}&parent_id={A}", ""),
        ("list_id={work}&search=c", "C"),
        ("list_id={work}&priority=medium&status=pending", "ABE"),
    ],
)
def test_list_and_parent_filters_with_status_paging_and_total(
    api: APIClient, forest: dict[str, Any], query: str, expected: str
) -> None:
    url = f"/api/me/tasks?{query.format(**forest)}&sort=title&limit=2"

    first = api.get(url)

    assert first.status_code == 200, first.content
    assert first["X-Total-Count"] == str(len(expected))
    assert "".join(titles(api, walk(api, url))) == expected


@pytest.mark.parametrize("sort", ["-title", "position", "-created"])
def test_list_filter_walks_in_every_sort(api: APIClient, forest: dict[str, Any], sort: str) -> None:
    url = f"/api/me/tasks?list_id={forest['work']}&sort={sort}&limit=2"
    expected = {
        "-title": "EDCBA",
        "position": "ABCDE",
        "-created": "EDCBA",
    }[sort]

    assert "".join(titles(api, walk(api, url))) == expected


def test_list_filter_total_follows_trash_and_moves(api: APIClient, forest: dict[str, Any]) -> None:
    api.delete(f"/api/me/tasks/{forest['C']}")
    patch(api, {"id": forest["E"]}, list_id=forest["inbox"])

    work = api.get(f"/api/me/tasks?list_id={forest['work']}")
    pending = api.get(f"/api/me/tasks?list_id={forest['work']}&status=pending")
    inbox = api.get(f"/api/me/tasks?list_id={forest['inbox']}&status=all")

    assert (work["X-Total-Count"], len(work.json())) == ("2", 2)
    assert (pending["X-Total-Count"], len(pending.json())) == ("2", 2)
    assert (inbox["X-Total-Count"], len(inbox.json())) == ("3", 3)


def test_another_users_list_id_filter_matches_nothing(
    api: APIClient, client_for: Any, forest: dict[str, Any]
) -> None:
    them = client_for("them")
    theirs = them.post("/api/me/lists", {"name": "Theirs"}, format="json").json()["id"]
    create(them, list_id=theirs)

    response = api.get(f"/api/me/tasks?list_id={theirs}")

    assert (response.json(), response["X-Total-Count"]) == ([], "0")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("list_id=abc", "list_id"),
        ("list_id=0", "list_id"),
        ("list_id=1.5", "list_id"),
        (f"list_id={2**63}", "list_id"),
        ("parent_id=abc", "parent_id"),
        ("parent_id=0", "parent_id"),
        ("parent_id=null", "parent_id"),
        ("parent_id=None", "parent_id"),
        (f"parent_id={2**63}", "parent_id"),
    ],
)
def test_a_bad_list_or_parent_filter_is_400_naming_it(
    api: APIClient, query: str, name: str
) -> None:
    assert_problem(api.get(f"/api/me/tasks?{query}"), 400, name)


# --- Manual order ---------------------------------------------------------------------


@pytest.fixture
def siblings(api: APIClient) -> dict[str, dict[str, Any]]:
    """In the Inbox: A, B, and P with children P1, P2; in Work: W."""
    work = new_list(api, "Work")
    a, b, p = (create(api, title=title) for title in "ABP")
    p1 = create(api, title="P1", parent_id=p["id"])
    p2 = create(api, title="P2", parent_id=p["id"])
    w = create(api, title="W", list_id=work)
    return {"A": a, "B": b, "P": p, "P1": p1, "P2": p2, "W": w}


def move(api: APIClient, task: dict[str, Any], **body: Any) -> Any:
    return api.post(f"/api/me/tasks/{task['id']}/move", body, format="json")


@pytest.mark.parametrize("key", ["before", "after"])
@pytest.mark.parametrize(
    ("moved", "anchor"),
    [("A", "W"), ("W", "A"), ("P1", "A"), ("A", "P1"), ("P1", "W")],
    ids=["to another list", "from another list", "out of a parent", "into a parent", "both"],
)
def test_move_next_to_a_task_of_another_list_or_parent_is_400_naming_the_key(
    api: APIClient, siblings: dict[str, dict[str, Any]], key: str, moved: str, anchor: str
) -> None:
    response = move(api, siblings[moved], **{key: siblings[anchor]["id"]})

    assert_problem(response, 400, key)
    after = get(api, siblings[moved])
    assert (after["position"], after["version"]) == (
        siblings[moved]["position"],
        siblings[moved]["version"],
    )


@pytest.mark.parametrize(
    ("moved", "body", "order"),
    [
        ("B", {"before": "A"}, ["B", "A", "P"]),
        ("A", {"after": "P"}, ["B", "P", "A"]),
        ("P2", {"before": "P1"}, ["P2", "P1"]),
        ("P1", {"after": "P2"}, ["P2", "P1"]),
    ],
)
def test_move_among_siblings_orders_them(
    api: APIClient,
    siblings: dict[str, dict[str, Any]],
    moved: str,
    body: dict[str, str],
    order: list[str],
) -> None:
    anchor_key, anchor = next(iter(body.items()))

    response = move(api, siblings[moved], **{anchor_key: siblings[anchor]["id"]})

    assert response.status_code == 200, response.content
    parent = siblings[moved]["parent_id"]
    query = "parent_id=none" if parent is None else f"parent_id={parent}"
    inbox = siblings["A"]["list_id"]
    listed = api.get(f"/api/me/tasks?list_id={inbox}&{query}&sort=position").json()
    assert [task["title"] for task in listed] == order


def test_move_to_top_or_bottom_works_for_a_subtask(
    api: APIClient, siblings: dict[str, dict[str, Any]]
) -> None:
    response = move(api, siblings["P2"], to="top")

    assert response.status_code == 200, response.content
    listed = api.get(f"/api/me/tasks?parent_id={siblings['P']['id']}&sort=position").json()
    assert [task["title"] for task in listed] == ["P2", "P1"]


# --- A client that knows nothing of lists ---------------------------------------------


def test_a_client_that_never_sends_the_new_fields_sees_its_tasks_in_the_inbox(
    api: APIClient,
) -> None:
    task = create(api, title="Old client", priority="high")
    inbox = inbox_id(api)

    put = api.put(f"/api/me/tasks/{task['id']}", {"title": "Renamed"}, format="json").json()
    patched = patch(api, task, description="More").json()
    toggled = api.patch(f"/api/me/tasks/{task['id']}/complete").json()
    listed = api.get("/api/me/tasks").json()

    for answer in (task, put, patched, toggled, *listed):
        assert (answer["list_id"], answer["parent_id"]) == (inbox, None)


def test_put_without_list_or_parent_keeps_the_task_where_it_is(api: APIClient) -> None:
    work = new_list(api, "Work")
    root, child = chain(api, 2, list_id=work)

    response = api.put(f"/api/me/tasks/{child['id']}", {"title": "Renamed"}, format="json")

    assert (response.json()["list_id"], response.json()["parent_id"]) == (work, root["id"])


def test_tasks_made_before_lists_are_in_the_inbox_top_level(api: APIClient, user_id: str) -> None:
    made = TaskFactory.create(user_id=user_id)

    found = get(api, {"id": made.id})

    assert (found["list_id"], found["parent_id"]) == (inbox_id(api), None)
