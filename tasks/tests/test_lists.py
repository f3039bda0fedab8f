"""Lists (contract Part 4): the Inbox, names, colors, order, versions, limits, and
deleting a list with or without its tasks; task_count and open_count stay exact."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from rest_framework.test import APIClient

from tasks.models import Task, TaskList
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def create_list(api: APIClient, name: str, **body: Any) -> dict[str, Any]:
    response = api.post("/api/me/lists", {"name": name, **body}, format="json")
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def all_lists(api: APIClient) -> list[dict[str, Any]]:
    response = api.get("/api/me/lists")
    assert response.status_code == 200, response.content
    found: list[dict[str, Any]] = response.json()
    return found


def names(api: APIClient) -> list[str]:
    return [found["name"] for found in all_lists(api)]


def inbox(api: APIClient) -> dict[str, Any]:
    (found,) = [found for found in all_lists(api) if found["is_inbox"]]
    return found


def create_task(api: APIClient, **body: Any) -> dict[str, Any]:
    response = api.post("/api/me/tasks", {"title": "Task", **body}, format="json")
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def assert_problem_status(response: Any, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"


def assert_problem(response: Any, status: int, name: str) -> None:
    """A problem+json of `status` whose `errors` name `name`."""
    assert_problem_status(response, status)
    assert name in response.json()["errors"], response.json()


def move(api: APIClient, list_id: int, **body: Any) -> Any:
    return api.post(f"/api/me/lists/{list_id}/move", body, format="json")


def assert_counts_exact(api: APIClient, user_id: str) -> None:
    """Every list's task_count and open_count is what COUNT(*) of its tasks says."""
    counted = {
        row["list_id"]: (row["live"], row["open"])
        for row in Task.objects.filter(user_id=user_id)
        .values("list_id")
        .annotate(
            live=Count("id", filter=Q(deleted_at__isnull=True)),
            open=Count("id", filter=Q(deleted_at__isnull=True, completed=False)),
        )
    }
    kept = {found["id"]: (found["task_count"], found["open_count"]) for found in all_lists(api)}
    assert kept == {list_id: counted.get(list_id, (0, 0)) for list_id in kept}


# --- The Inbox ----------------------------------------------------------------------


def test_every_user_has_exactly_one_inbox_first_in_their_lists(api: APIClient) -> None:
    create_list(api, "Work")

    found = all_lists(api)

    assert found[0]["name"] == "Inbox"
    assert found[0]["is_inbox"] is True
    assert [item["is_inbox"] for item in found] == [True, False]


def test_a_new_user_sees_their_inbox_before_any_write(api: APIClient) -> None:
    found = all_lists(api)

    assert [(item["name"], item["is_inbox"], item["task_count"]) for item in found] == [
        ("Inbox", True, 0)
    ]


def test_the_inbox_cant_be_deleted(api: APIClient) -> None:
    inbox_id = inbox(api)["id"]

    assert_problem_status(api.delete(f"/api/me/lists/{inbox_id}"), 409)
    assert_problem_status(api.delete(f"/api/me/lists/{inbox_id}?tasks=trash"), 409)
    assert inbox(api)["id"] == inbox_id


def test_the_inbox_cant_be_deleted_with_its_tasks(api: APIClient) -> None:
    task = create_task(api)
    inbox_id = inbox(api)["id"]

    assert_problem_status(api.delete(f"/api/me/lists/{inbox_id}?tasks=trash"), 409)
    assert api.get(f"/api/me/tasks/{task['id']}").status_code == 200


def test_the_inbox_can_be_renamed(api: APIClient) -> None:
    inbox_id = inbox(api)["id"]

    response = api.patch(f"/api/me/lists/{inbox_id}", {"name": "Unsorted"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["is_inbox"]) == ("Unsorted", True)
    assert inbox(api)["name"] == "Unsorted"


def test_the_inbox_can_be_moved(api: APIClient) -> None:
    create_list(api, "Work")
    inbox_id = inbox(api)["id"]

    assert move(api, inbox_id, to="bottom").status_code == 200

    assert names(api) == ["Work", "Inbox"]


# --- Creating and reading -------------------------------------------------------------

LIST_FIELDS = {
    "id",
    "name",
    "color",
    "is_inbox",
    "position",
    "version",
    "task_count",
    "open_count",
    "created_at",
    "updated_at",
}


def test_create_answers_201_with_the_list_its_location_and_etag(api: APIClient) -> None:
    response = api.post("/api/me/lists", {"name": "Groceries"}, format="json")

    assert response.status_code == 201
    created = response.json()
    assert set(created) == LIST_FIELDS
    assert (created["name"], created["color"], created["is_inbox"]) == ("Groceries", None, False)
    assert (created["version"], created["task_count"], created["open_count"]) == (1, 0, 0)
    assert response["Location"] == f"http://testserver/api/me/lists/{created['id']}"
    assert response["ETag"] == '"1"'
    fetched = api.get(response["Location"])
    assert fetched.json() == created
    assert fetched["ETag"] == '"1"'


def test_a_name_is_trimmed(api: APIClient) -> None:
    assert create_list(api, "  Groceries \t")["name"] == "Groceries"


def test_a_name_of_100_characters_after_trimming_is_accepted(api: APIClient) -> None:
    assert create_list(api, f"  {'é' * 100}  ")["name"] == "é" * 100


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": None},
        {"name": 5},
        {"name": "a\x00b"},
    ],
    ids=["missing", "empty", "blank", "101 characters", "null", "number", "NUL"],
)
def test_a_bad_name_is_400_naming_name(api: APIClient, body: dict[str, Any]) -> None:
    assert_problem(api.post("/api/me/lists", body, format="json"), 400, "name")
    assert names(api) == ["Inbox"]


def test_put_needs_a_name(api: APIClient) -> None:
    work = create_list(api, "Work")

    assert_problem(
        api.put(f"/api/me/lists/{work['id']}", {"color": None}, format="json"), 400, "name"
    )


def test_names_are_unique_case_insensitively_409_naming_name(api: APIClient) -> None:
    create_list(api, "Groceries")

    response = api.post("/api/me/lists", {"name": "  GROCERIES "}, format="json")

    assert_problem(response, 409, "name")
    assert names(api) == ["Inbox", "Groceries"]


def test_a_name_clashes_with_the_inbox_in_another_case(api: APIClient) -> None:
    assert_problem(api.post("/api/me/lists", {"name": "inbox"}, format="json"), 409, "name")


def test_names_are_unique_beyond_ascii_case(api: APIClient) -> None:
    create_list(api, "Ärger")

    assert_problem(api.post("/api/me/lists", {"name": "äRGER"}, format="json"), 409, "name")


def test_renaming_onto_another_lists_name_is_409_and_changes_nothing(api: APIClient) -> None:
    create_list(api, "Home")
    work = create_list(api, "Work")

    response = api.patch(f"/api/me/lists/{work['id']}", {"name": "home"}, format="json")

    assert_problem(response, 409, "name")
    assert api.get(f"/api/me/lists/{work['id']}").json() == work


def test_a_list_can_be_renamed_to_its_own_name_in_another_case(api: APIClient) -> None:
    work = create_list(api, "work")

    response = api.patch(f"/api/me/lists/{work['id']}", {"name": "Work"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Work"


def test_another_user_may_use_the_same_name(api: APIClient, client_for: Any) -> None:
    create_list(api, "Groceries")

    assert create_list(client_for("them"), "Groceries")["name"] == "Groceries"


def test_a_color_is_stored_in_lower_case(api: APIClient) -> None:
    created = create_list(api, "Work", color="#A1B2C3")

    assert created["color"] == "#a1b2c3"
    assert api.get(f"/api/me/lists/{created['id']}").json()["color"] == "#a1b2c3"
    assert TaskList.objects.get(id=created["id"]).color == "#a1b2c3"


def test_a_color_defaults_to_null_and_can_be_cleared(api: APIClient) -> None:
    assert create_list(api, "Home")["color"] is None
    work = create_list(api, "Work", color="#ffffff")

    response = api.patch(f"/api/me/lists/{work['id']}", {"color": None}, format="json")

    assert response.json()["color"] is None


@pytest.mark.parametrize(
    "color", ["red", "#abc", "#abcdef0", "abcdef", "#ggghhh", "", "#abc def", 123456, True]
)
def test_a_bad_color_is_400_naming_color(api: APIClient, color: Any) -> None:
    response = api.post("/api/me/lists", {"name": "Work", "color": color}, format="json")

    assert_problem(response, 400, "color")
    assert names(api) == ["Inbox"]


def test_is_inbox_is_read_only(api: APIClient) -> None:
    created = create_list(api, "Work", is_inbox=True)
    inbox_id = inbox(api)["id"]

    patched = api.patch(f"/api/me/lists/{inbox_id}", {"is_inbox": False}, format="json")
    api.patch(f"/api/me/lists/{created['id']}", {"is_inbox": True}, format="json")

    assert created["is_inbox"] is False
    assert patched.json()["is_inbox"] is True
    assert [found["id"] for found in all_lists(api) if found["is_inbox"]] == [inbox_id]


def test_other_read_only_fields_sent_are_ignored(api: APIClient) -> None:
    created = create_list(api, "Work", version=9, task_count=5, open_count=5, position="0", id=1)

    assert (created["version"], created["task_count"], created["open_count"]) == (1, 0, 0)
    assert created["position"] != "0"


def test_patch_with_nothing_changes_nothing(api: APIClient) -> None:
    work = create_list(api, "Work")

    response = api.patch(f"/api/me/lists/{work['id']}", {}, format="json")

    assert response.status_code == 200
    assert response.json() == work


# --- Order --------------------------------------------------------------------------


@pytest.fixture
def four(api: APIClient) -> dict[str, int]:
    """Inbox, A, B, C in that order: each name's id."""
    for name in "ABC":
        create_list(api, name)
    return {found["name"]: found["id"] for found in all_lists(api)}


def test_lists_come_in_position_order_new_ones_last(api: APIClient, four: dict[str, int]) -> None:
    found = all_lists(api)

    assert [item["name"] for item in found] == ["Inbox", "A", "B", "C"]
    positions = [item["position"] for item in found]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("moved", "body", "expected"),
    [
        ("C", {"before": "A"}, ["Inbox", "C", "A", "B"]),
        ("A", {"after": "B"}, ["Inbox", "B", "A", "C"]),
        ("A", {"after": "C"}, ["Inbox", "B", "C", "A"]),
        ("C", {"before": "Inbox"}, ["C", "Inbox", "A", "B"]),
        ("B", {"to": "top"}, ["B", "Inbox", "A", "C"]),
        ("A", {"to": "bottom"}, ["Inbox", "B", "C", "A"]),
    ],
)
def test_move_puts_a_list_before_after_or_at_an_end(
    api: APIClient, four: dict[str, int], moved: str, body: dict[str, str], expected: list[str]
) -> None:
    where = {key: value if key == "to" else four[value] for key, value in body.items()}

    response = move(api, four[moved], **where)

    assert response.status_code == 200, response.content
    assert response.json()["name"] == moved
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    assert names(api) == expected


def test_many_moves_keep_the_order_they_ask_for(api: APIClient, four: dict[str, int]) -> None:
    for _ in range(30):
        assert move(api, four["C"], after=four["A"]).status_code == 200
        assert move(api, four["B"], after=four["A"]).status_code == 200

    assert names(api) == ["Inbox", "A", "B", "C"]
    positions = [found["position"] for found in all_lists(api)]
    assert len(set(positions)) == 4


@pytest.mark.parametrize("key", ["before", "after"])
def test_move_next_to_a_missing_list_is_404_naming_the_key(
    api: APIClient, four: dict[str, int], key: str
) -> None:
    response = move(api, four["A"], **{key: 10**9})

    assert_problem(response, 404, key)
    assert names(api) == ["Inbox", "A", "B", "C"]


@pytest.mark.parametrize("key", ["before", "after"])
def test_move_next_to_another_users_list_is_404_naming_the_key(
    api: APIClient, four: dict[str, int], client_for: Any, key: str
) -> None:
    theirs = create_list(client_for("them"), "Theirs")

    assert_problem(move(api, four["A"], **{key: theirs["id"]}), 404, key)


@pytest.mark.parametrize(
    "body", [{}, {"to": "middle"}, {"before": 1, "to": "top"}, {"before": "x"}]
)
def test_a_bad_move_is_400(api: APIClient, four: dict[str, int], body: dict[str, Any]) -> None:
    assert_problem_status(move(api, four["A"], **body), 400)


# --- Versions and conditional requests ------------------------------------------------


def test_every_change_steps_the_version_and_a_no_op_does_not(api: APIClient) -> None:
    work = create_list(api, "Work")
    path = f"/api/me/lists/{work['id']}"

    renamed = api.patch(path, {"name": "Job"}, format="json")
    same = api.patch(path, {"name": "Job"}, format="json")
    colored = api.put(path, {"name": "Job", "color": "#000000"}, format="json")

    assert [renamed.json()["version"], same.json()["version"], colored.json()["version"]] == [
        2,
        2,
        3,
    ]
    assert colored["ETag"] == '"3"'
    assert same.json()["updated_at"] == renamed.json()["updated_at"]


def test_a_change_of_a_lists_counts_steps_its_version(api: APIClient) -> None:
    work = create_list(api, "Work")

    create_task(api, list_id=work["id"])
    fetched = api.get(f"/api/me/lists/{work['id']}")

    assert fetched.json()["task_count"] == 1
    assert fetched.json()["version"] > work["version"]
    assert fetched["ETag"] == f'"{fetched.json()["version"]}"'


@pytest.mark.parametrize(
    "write",
    [
        ("patch", "", {"name": "Other"}),
        ("put", "", {"name": "Other"}),
        ("post", "/move", {"to": "top"}),
        ("delete", "", None),
    ],
    ids=["PATCH", "PUT", "move", "DELETE"],
)
def test_a_stale_if_match_is_412_with_the_current_etag_and_changes_nothing(
    api: APIClient, write: tuple[str, str, Any]
) -> None:
    method, suffix, body = write
    work = create_list(api, "Work")
    path = f"/api/me/lists/{work['id']}"
    api.patch(path, {"color": "#123456"}, format="json")
    before = api.get(path).json()

    response = getattr(api, method)(f"{path}{suffix}", body, format="json", HTTP_IF_MATCH='"1"')

    assert_problem_status(response, 412)
    assert response["ETag"] == '"2"'
    assert api.get(path).json() == before


@pytest.mark.parametrize(
    "write",
    [
        ("patch", "", {"name": "Other"}, 200),
        ("put", "", {"name": "Other"}, 200),
        ("post", "/move", {"to": "top"}, 200),
        ("delete", "", None, 204),
    ],
    ids=["PATCH", "PUT", "move", "DELETE"],
)
@pytest.mark.parametrize("if_match", ['"1"', "*", 'W/"9", "1"'])
def test_a_matching_if_match_lets_the_write_happen(
    api: APIClient, write: tuple[str, str, Any, int], if_match: str
) -> None:
    method, suffix, body, status = write
    work = create_list(api, "Work")
    path = f"/api/me/lists/{work['id']}{suffix}"

    response = getattr(api, method)(path, body, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == status, response.content


def test_if_match_on_a_missing_list_is_404(api: APIClient) -> None:
    response = api.patch("/api/me/lists/999999", {"name": "x"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 404


def test_if_none_match_with_the_current_etag_is_304(api: APIClient) -> None:
    work = create_list(api, "Work")
    path = f"/api/me/lists/{work['id']}"

    unchanged = api.get(path, HTTP_IF_NONE_MATCH='"1"')
    api.patch(path, {"name": "Job"}, format="json")
    changed = api.get(path, HTTP_IF_NONE_MATCH='"1"')

    assert unchanged.status_code == 304
    assert (unchanged["ETag"], unchanged.content) == ('"1"', b"")
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'


# --- Retry-safe creates and the limit ---------------------------------------------------


def test_idempotency_key_replays_the_first_create(api: APIClient, user_id: str) -> None:
    first = api.post("/api/me/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="l-1")
    again = api.post("/api/me/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="l-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (again["Location"], again["ETag"]) == (first["Location"], first["ETag"])
    assert again["Idempotency-Replayed"] == "true"
    assert TaskList.objects.filter(user_id=user_id).count() == 2


def test_idempotency_key_with_another_body_is_422(api: APIClient, user_id: str) -> None:
    api.post("/api/me/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="l-1")

    response = api.post(
        "/api/me/lists", {"name": "Home"}, format="json", HTTP_IDEMPOTENCY_KEY="l-1"
    )

    assert_problem_status(response, 422)
    assert names(api) == ["Inbox", "Work"]


def test_idempotency_keys_of_tasks_and_lists_are_apart(api: APIClient) -> None:
    created = api.post("/api/me/tasks", {"title": "T"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api.post("/api/me/lists", {"name": "L"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert created.status_code == 201
    assert response.status_code == 201
    assert "Idempotency-Replayed" not in response


def test_one_list_beyond_max_lists_per_user_is_409(api: APIClient, settings: Any) -> None:
    settings.MAX_LISTS_PER_USER = 3
    create_list(api, "A")
    create_list(api, "B")  # with the Inbox: 3

    response = api.post("/api/me/lists", {"name": "C"}, format="json")

    assert_problem_status(response, 409)
    assert names(api) == ["Inbox", "A", "B"]


def test_deleting_a_list_makes_room_under_the_limit(api: APIClient, settings: Any) -> None:
    settings.MAX_LISTS_PER_USER = 2
    doomed = create_list(api, "A")
    assert api.post("/api/me/lists", {"name": "B"}, format="json").status_code == 409

    assert api.delete(f"/api/me/lists/{doomed['id']}").status_code == 204

    assert create_list(api, "B")["name"] == "B"


# --- Deleting ---------------------------------------------------------------------------


def test_an_empty_list_is_deleted_204_and_then_404(api: APIClient) -> None:
    work = create_list(api, "Work")
    path = f"/api/me/lists/{work['id']}"

    response = api.delete(path)

    assert (response.status_code, response.content) == (204, b"")
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    assert names(api) == ["Inbox"]


def test_a_list_holding_live_tasks_is_409_and_nothing_changes(api: APIClient) -> None:
    work = create_list(api, "Work")
    task = create_task(api, list_id=work["id"])
    api.patch(f"/api/me/tasks/{task['id']}/complete")  # completed tasks are live too

    response = api.delete(f"/api/me/lists/{work['id']}")

    assert_problem_status(response, 409)
    assert api.get(f"/api/me/lists/{work['id']}").json()["task_count"] == 1
    assert api.get(f"/api/me/tasks/{task['id']}").json()["list_id"] == work["id"]


def test_tasks_trash_sends_the_lists_tasks_to_the_trash_with_it(
    api: APIClient, user_id: str
) -> None:
    work = create_list(api, "Work")
    parent = create_task(api, list_id=work["id"])
    child = create_task(api, parent_id=parent["id"])
    done = create_task(api, list_id=work["id"], completed=True)
    elsewhere = create_task(api)

    response = api.delete(f"/api/me/lists/{work['id']}?tasks=trash")

    assert response.status_code == 204
    assert api.get(f"/api/me/lists/{work['id']}").status_code == 404
    trashed = {item["id"] for item in api.get("/api/me/trash").json()}
    assert trashed == {parent["id"], child["id"], done["id"]}
    assert [item["id"] for item in api.get("/api/me/tasks").json()] == [elsewhere["id"]]
    assert_counts_exact(api, user_id)


def test_tasks_trash_happens_in_one_transaction(api: APIClient, user_id: str) -> None:
    """A failure after the tasks went to the trash (here: the list's own DELETE) leaves
    every task live and the list whole."""
    work = create_list(api, "Work")
    tasks = [create_task(api, list_id=work["id"]) for _ in range(3)]
    refuse_list_deletes()
    api.raise_request_exception = False

    response = api.delete(f"/api/me/lists/{work['id']}?tasks=trash")

    assert response.status_code >= 500
    assert (
        Task.objects.filter(id__in=[task["id"] for task in tasks], deleted_at__isnull=True).count()
        == 3
    )
    assert TaskList.objects.get(id=work["id"]).task_count == 3


def refuse_list_deletes() -> None:
    """A trigger, gone with the test's transaction, that makes any DELETE of a list fail."""
    table = TaskList._meta.db_table
    with connection.cursor() as opened:
        if connection.vendor == "postgresql":
            opened.execute(
                "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            )
            opened.execute(
                f"CREATE TRIGGER refuse_list_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
            )
        else:
            opened.execute(
                f"CREATE TEMP TRIGGER refuse_list_delete BEFORE DELETE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def test_tasks_move_moves_the_lists_tasks_to_the_other_list_first(
    api: APIClient, user_id: str
) -> None:
    work = create_list(api, "Work")
    home = create_list(api, "Home")
    parent = create_task(api, list_id=work["id"])
    child = create_task(api, parent_id=parent["id"])

    response = api.delete(f"/api/me/lists/{work['id']}?tasks=move&to={home['id']}")

    assert response.status_code == 204
    assert api.get(f"/api/me/lists/{work['id']}").status_code == 404
    moved_parent = api.get(f"/api/me/tasks/{parent['id']}").json()
    moved_child = api.get(f"/api/me/tasks/{child['id']}").json()
    assert (moved_parent["list_id"], moved_parent["parent_id"]) == (home["id"], None)
    assert (moved_child["list_id"], moved_child["parent_id"]) == (home["id"], parent["id"])
    assert moved_parent["version"] == parent["version"] + 1
    assert api.get(f"/api/me/lists/{home['id']}").json()["task_count"] == 2
    assert_counts_exact(api, user_id)


def test_tasks_move_may_move_them_to_the_inbox(api: APIClient) -> None:
    work = create_list(api, "Work")
    task = create_task(api, list_id=work["id"])
    inbox_id = inbox(api)["id"]

    assert api.delete(f"/api/me/lists/{work['id']}?tasks=move&to={inbox_id}").status_code == 204

    assert api.get(f"/api/me/tasks/{task['id']}").json()["list_id"] == inbox_id


@pytest.mark.parametrize(
    "query",
    [
        "tasks=move",
        "tasks=move&to=",
        "tasks=move&to=abc",
        "tasks=move&to=999999999",
        "tasks=move&to={theirs}",
        "tasks=move&to={same}",
    ],
    ids=["missing", "empty", "not a number", "no such list", "another user's", "the same list"],
)
def test_tasks_move_to_a_bad_list_is_400_naming_to_and_nothing_changes(
    api: APIClient, client_for: Any, query: str
) -> None:
    theirs = create_list(client_for("them"), "Theirs")
    work = create_list(api, "Work")
    task = create_task(api, list_id=work["id"])

    response = api.delete(
        f"/api/me/lists/{work['id']}?{query.format(theirs=theirs['id'], same=work['id'])}"
    )

    assert_problem(response, 400, "to")
    assert api.get(f"/api/me/lists/{work['id']}").json()["task_count"] == 1
    assert api.get(f"/api/me/tasks/{task['id']}").json()["list_id"] == work["id"]


@pytest.mark.parametrize("query", ["tasks=keep", "tasks=all", "tasks=trash&to=1"])
def test_a_bad_tasks_parameter_is_400(api: APIClient, query: str) -> None:
    work = create_list(api, "Work")

    assert_problem_status(api.delete(f"/api/me/lists/{work['id']}?{query}"), 400)
    assert api.get(f"/api/me/lists/{work['id']}").status_code == 200


def test_a_trashed_task_whose_list_is_gone_is_restored_to_the_inbox(api: APIClient) -> None:
    work = create_list(api, "Work")
    task = create_task(api, list_id=work["id"])
    api.delete(f"/api/me/tasks/{task['id']}")
    assert api.delete(f"/api/me/lists/{work['id']}").status_code == 204  # no live task held

    restored = api.post(f"/api/me/trash/{task['id']}/restore")

    assert restored.status_code == 200
    assert restored.json()["list_id"] == inbox(api)["id"]


def test_tasks_trashed_with_their_list_are_restored_to_the_inbox(api: APIClient) -> None:
    work = create_list(api, "Work")
    parent = create_task(api, list_id=work["id"])
    child = create_task(api, parent_id=parent["id"])
    api.delete(f"/api/me/lists/{work['id']}?tasks=trash")

    api.post(f"/api/me/trash/{parent['id']}/restore")

    inbox_id = inbox(api)["id"]
    restored_parent = api.get(f"/api/me/tasks/{parent['id']}").json()
    restored_child = api.get(f"/api/me/tasks/{child['id']}").json()
    assert restored_parent["list_id"] == inbox_id
    assert (restored_child["list_id"], restored_child["parent_id"]) == (inbox_id, parent["id"])


def test_a_trashed_task_of_a_list_deleted_with_tasks_move_is_restored_to_the_inbox(
    api: APIClient,
) -> None:
    work = create_list(api, "Work")
    home = create_list(api, "Home")
    create_task(api, list_id=work["id"])
    trashed = create_task(api, list_id=work["id"])
    api.delete(f"/api/me/tasks/{trashed['id']}")
    api.delete(f"/api/me/lists/{work['id']}?tasks=move&to={home['id']}")

    restored = api.post(f"/api/me/trash/{trashed['id']}/restore")

    assert restored.json()["list_id"] == inbox(api)["id"]


# --- Another user's lists ---------------------------------------------------------------


def test_another_users_list_is_404_on_every_route(api: APIClient, client_for: Any) -> None:
    them = client_for("them")
    theirs = create_list(them, "Theirs")
    path = f"/api/me/lists/{theirs['id']}"

    assert api.get(path).status_code == 404
    assert api.patch(path, {"name": "Mine"}, format="json").status_code == 404
    assert api.put(path, {"name": "Mine"}, format="json").status_code == 404
    assert api.delete(path).status_code == 404
    assert api.delete(f"{path}?tasks=trash").status_code == 404
    assert move(api, theirs["id"], to="top").status_code == 404
    assert api.patch(path, {"name": "Mine"}, format="json", HTTP_IF_MATCH="*").status_code == 404
    assert them.get(path).json() == theirs
    assert [found["name"] for found in all_lists(api)] == ["Inbox"]


def test_another_users_lists_route_is_403(api: APIClient, client_for: Any) -> None:
    create_list(client_for("them"), "Theirs")

    assert api.get("/api/them/lists").status_code == 403
    assert api.post("/api/them/lists", {"name": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("list_id", ["abc", str(10**30), "0", "-1"])
def test_an_id_that_cant_exist_is_404(api: APIClient, list_id: str) -> None:
    assert api.get(f"/api/me/lists/{list_id}").status_code == 404


def test_lists_need_a_token(client_for: Any) -> None:
    assert APIClient().get("/api/me/lists").status_code == 401


# --- Counts ---------------------------------------------------------------------------


def test_counts_stay_exact_through_every_kind_of_write(api: APIClient, user_id: str) -> None:
    work = create_list(api, "Work")
    home = create_list(api, "Home")

    def step() -> None:
        assert_counts_exact(api, user_id)

    parent = create_task(api, list_id=work["id"])
    child = create_task(api, parent_id=parent["id"])
    grandchild = create_task(api, parent_id=child["id"])
    loose = create_task(api, list_id=work["id"], completed=True)
    inboxed = create_task(api)
    step()
    assert api.get(f"/api/me/lists/{work['id']}").json()["task_count"] == 4

    api.patch(f"/api/me/tasks/{parent['id']}", {"completed": True}, format="json")
    step()
    api.patch(f"/api/me/tasks/{grandchild['id']}/complete")  # reopens its ancestors
    step()
    api.patch(f"/api/me/tasks/{inboxed['id']}/complete")
    step()
    api.delete(f"/api/me/tasks/{child['id']}")
    step()
    api.post(f"/api/me/trash/{child['id']}/restore")
    step()
    api.patch(f"/api/me/tasks/{parent['id']}", {"list_id": home["id"]}, format="json")
    step()
    api.patch(f"/api/me/tasks/{inboxed['id']}", {"parent_id": child["id"]}, format="json")
    step()
    api.patch(f"/api/me/tasks/{loose['id']}", {"completed": False}, format="json")
    step()
    api.delete(f"/api/me/tasks/{loose['id']}")
    api.delete(f"/api/me/trash/{loose['id']}")
    step()
    api.delete(f"/api/me/tasks/{parent['id']}")
    step()
    api.delete("/api/me/trash")
    step()
    assert [(found["task_count"], found["open_count"]) for found in all_lists(api)] == [
        (0, 0),
        (0, 0),
        (0, 0),
    ]


def test_counts_stay_exact_through_list_deletes(api: APIClient, user_id: str) -> None:
    work = create_list(api, "Work")
    home = create_list(api, "Home")
    gone = create_list(api, "Gone")
    for list_id in (work["id"], gone["id"]):
        create_task(api, list_id=list_id)
        create_task(api, list_id=list_id, completed=True)

    api.delete(f"/api/me/lists/{work['id']}?tasks=move&to={home['id']}")
    assert_counts_exact(api, user_id)
    api.delete(f"/api/me/lists/{gone['id']}?tasks=trash")
    assert_counts_exact(api, user_id)

    assert (
        api.get(f"/api/me/lists/{home['id']}").json()["task_count"],
        api.get(f"/api/me/lists/{home['id']}").json()["open_count"],
    ) == (2, 1)


def test_counts_include_tasks_made_by_the_factory(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(3, user_id=user_id)

    found = inbox(api)

    assert (found["task_count"], found["open_count"]) == (3, 3)
    assert_counts_exact(api, user_id)
