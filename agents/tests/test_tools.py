"""The agent's tools, called over POST /mcp (tools/call) as the REST API's user: the
results of the contract (Part 5), the REST API's rules and its refusals."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.tests.conftest import ToolCall, outcome, refusal
from agents.tools import TOOLS, ToolRefused, call_tool
from tasks.models import Task

pytestmark = pytest.mark.django_db


def created(tool: ToolCall, title: str = "Buy milk", **fields: Any) -> dict[str, Any]:
    """A task made by add_task: its REST JSON."""
    task: dict[str, Any] = outcome(tool("add_task", title=title, **fields))["task"]
    return task


def rest_task(api: APIClient, task_id: int) -> dict[str, Any]:
    response = api.get(f"/api/me/tasks/{task_id}")
    assert response.status_code == 200
    task: dict[str, Any] = response.json()
    return task


def new_list(api: APIClient, name: str) -> dict[str, Any]:
    response = api.post("/api/me/lists", {"name": name}, format="json")
    assert response.status_code == 201
    found: dict[str, Any] = response.json()
    return found


# --- Results: the contract's shapes, with the REST API's task JSON --------------------


def test_add_task_answers_created_with_the_rest_apis_task(tool: ToolCall, api: APIClient) -> None:
    result = outcome(tool("add_task", title="Buy milk"))

    assert set(result) == {"task_id", "status", "title", "task"}
    assert (result["status"], result["title"]) == ("created", "Buy milk")
    assert result["task"] == rest_task(api, result["task_id"])


def test_add_task_takes_every_field_of_the_contract(tool: ToolCall, api: APIClient) -> None:
    groceries = new_list(api, "Groceries")
    parent = created(tool, "Shopping", list_id=groceries["id"])
    fields = {
        "description": "Oat, 2 l",
        "due_date": "2030-01-04T09:00",
        "priority": "high",
        "tags": ["errand"],
        "parent_id": parent["id"],
        "recurrence": "FREQ=WEEKLY",
        "time_zone": "Europe/Berlin",
    }

    task = created(tool, "Buy milk", **fields)

    assert {name: task[name] for name in fields} == {
        **fields,
        "due_date": "2030-01-04T08:00:00Z",  # 09:00 in Berlin
    }
    assert task["list_id"] == groceries["id"]  # a subtask goes where its parent is


def test_add_task_without_a_list_puts_the_task_in_the_inbox(tool: ToolCall) -> None:
    task = created(tool)

    (inbox,) = [found for found in outcome(tool("list_lists"))["lists"] if found["is_inbox"]]
    assert task["list_id"] == inbox["id"]


def test_the_text_content_is_the_structured_content_as_json(tool: ToolCall) -> None:
    result = tool("add_task", title="Buy milk")

    (content,) = result["content"]
    assert content["type"] == "text"
    assert json.loads(content["text"]) == result["structuredContent"]


def test_list_tasks_answers_the_rest_apis_tasks_newest_first(
    tool: ToolCall, api: APIClient
) -> None:
    first, second = created(tool, "First"), created(tool, "Second")

    result = outcome(tool("list_tasks"))

    assert result == {
        "tasks": [rest_task(api, second["id"]), rest_task(api, first["id"])],
        "next_cursor": None,
    }


def test_complete_task_answers_completed_with_the_task(tool: ToolCall, api: APIClient) -> None:
    task = created(tool)

    result = outcome(tool("complete_task", task_id=task["id"]))

    assert (result["task_id"], result["status"], result["title"]) == (
        task["id"],
        "completed",
        "Buy milk",
    )
    assert result["task"]["completed"] is True
    assert result["task"] == rest_task(api, task["id"])


def test_complete_task_sets_and_never_toggles(tool: ToolCall, api: APIClient) -> None:
    task = created(tool)
    tool("complete_task", task_id=task["id"])

    again = outcome(tool("complete_task", task_id=task["id"]))

    assert again["task"]["completed"] is True
    assert rest_task(api, task["id"])["completed"] is True


def test_delete_task_answers_deleted_and_moves_the_task_to_the_trash(
    tool: ToolCall, api: APIClient
) -> None:
    task = created(tool)

    result = outcome(tool("delete_task", task_id=task["id"]))

    assert result == {"task_id": task["id"], "status": "deleted", "title": "Buy milk"}
    assert api.get(f"/api/me/tasks/{task['id']}").status_code == 404
    assert [trashed["id"] for trashed in api.get("/api/me/trash").json()] == [task["id"]]


def test_deleting_a_task_already_in_the_trash_is_not_found(tool: ToolCall) -> None:
    task = created(tool)
    tool("delete_task", task_id=task["id"])

    assert "Not Found" in refusal(tool("delete_task", task_id=task["id"]))


def test_update_task_answers_updated_and_keeps_the_fields_not_sent(
    tool: ToolCall, api: APIClient
) -> None:
    task = created(tool, priority="high", tags=["errand"])

    result = outcome(tool("update_task", task_id=task["id"], title="Buy oat milk"))

    assert (result["task_id"], result["status"], result["title"]) == (
        task["id"],
        "updated",
        "Buy oat milk",
    )
    assert (result["task"]["priority"], result["task"]["tags"]) == ("high", ["errand"])
    assert result["task"] == rest_task(api, task["id"])


@pytest.mark.parametrize("completed", [True, False])
def test_update_task_sets_completed(tool: ToolCall, completed: bool) -> None:
    task = created(tool)
    tool("update_task", task_id=task["id"], completed=not completed)

    result = outcome(tool("update_task", task_id=task["id"], completed=completed))

    assert result["task"]["completed"] is completed


def test_update_task_moves_a_task_to_another_list(tool: ToolCall, api: APIClient) -> None:
    groceries = new_list(api, "Groceries")
    task = created(tool)

    result = outcome(tool("update_task", task_id=task["id"], list_id=groceries["id"]))

    assert result["task"]["list_id"] == groceries["id"]
    listed = api.get("/api/me/tasks", {"list_id": groceries["id"]}).json()
    assert [found["id"] for found in listed] == [task["id"]]


def test_update_task_makes_a_task_a_subtask_and_null_top_level_again(tool: ToolCall) -> None:
    parent, task = created(tool, "Shopping"), created(tool)

    below = outcome(tool("update_task", task_id=task["id"], parent_id=parent["id"]))["task"]
    top = outcome(tool("update_task", task_id=task["id"], parent_id=None))["task"]

    assert (below["parent_id"], top["parent_id"]) == (parent["id"], None)


def test_list_lists_puts_the_inbox_first(tool: ToolCall, api: APIClient) -> None:
    new_list(api, "Groceries")

    lists = outcome(tool("list_lists"))["lists"]

    assert [(found["name"], found["is_inbox"]) for found in lists] == [
        ("Inbox", True),
        ("Groceries", False),
    ]
    assert lists == api.get("/api/me/lists").json()


# --- list_tasks: the REST list's filters and paging ----------------------------------


@pytest.fixture
def assorted(tool: ToolCall, api: APIClient) -> dict[str, int]:
    """Five tasks the filters tell apart; their ids by title."""
    work = new_list(api, "Work")
    tasks = [
        created(tool, "Report", list_id=work["id"], priority="high", tags=["q1"]),
        created(tool, "Old bill", due_date="2020-01-01T09:00:00Z", description="gas"),
        created(tool, "Dentist", due_date="2030-06-01T09:00:00Z", tags=["health"]),
        created(tool, "Done long ago", due_date="2020-01-01T09:00:00Z", priority="low"),
        created(tool, "Call mum"),
    ]
    tool("complete_task", task_id=tasks[3]["id"])
    return {"work": work["id"], **{task["title"]: task["id"] for task in tasks}}


@pytest.mark.parametrize(
    ("arguments", "titles"),
    [
        ({"status": "pending"}, {"Report", "Old bill", "Dentist", "Call mum"}),
        ({"status": "completed"}, {"Done long ago"}),
        ({"search": "GAS"}, {"Old bill"}),
        ({"list_id": "work"}, {"Report"}),
        ({"tag": "health"}, {"Dentist"}),
        ({"priority": "low"}, {"Done long ago"}),
        ({"due_before": "2025-01-01"}, {"Old bill", "Done long ago"}),
        ({"due_after": "2025-01-01T00:00:00Z"}, {"Dentist"}),
        ({"overdue": True}, {"Old bill"}),
        ({"status": "pending", "tag": "q1", "priority": "high"}, {"Report"}),
    ],
)
def test_list_tasks_filters_as_the_rest_list_does(
    tool: ToolCall,
    api: APIClient,
    assorted: dict[str, int],
    arguments: dict[str, Any],
    titles: set[str],
) -> None:
    if arguments.get("list_id") == "work":
        arguments = {**arguments, "list_id": assorted["work"]}

    tasks = outcome(tool("list_tasks", **arguments))["tasks"]

    assert {task["title"] for task in tasks} == titles
    query = {name: "true" if value is True else value for name, value in arguments.items()}
    assert tasks == api.get("/api/me/tasks", query).json()


def test_list_tasks_lists_the_subtasks_of_a_parent_id(tool: ToolCall) -> None:
    parent = created(tool, "Shopping")
    child = created(tool, parent_id=parent["id"])

    tasks = outcome(tool("list_tasks", parent_id=parent["id"]))["tasks"]

    assert [task["id"] for task in tasks] == [child["id"]]


def test_list_tasks_answers_50_tasks_unless_a_limit_says(tool: ToolCall, user_id: str) -> None:
    for number in range(51):
        created(tool, f"Task {number}")

    result = outcome(tool("list_tasks"))

    assert len(result["tasks"]) == 50
    assert result["next_cursor"] is not None


def test_list_tasks_pages_through_next_cursor(tool: ToolCall) -> None:
    ids = [created(tool, f"Task {number}")["id"] for number in range(5)]
    seen: list[int] = []
    arguments: dict[str, Any] = {"limit": 2}

    while True:
        page = outcome(tool("list_tasks", **arguments))
        seen += [task["id"] for task in page["tasks"]]
        if page["next_cursor"] is None:
            break
        arguments["cursor"] = page["next_cursor"]

    assert seen == ids[::-1]


# --- Refusals: a tool error naming the field, and nothing changed --------------------


@pytest.mark.parametrize(
    ("name", "arguments", "field"),
    [
        ("add_task", {"title": ""}, "title"),
        ("add_task", {"title": "x" * 201}, "title"),
        ("add_task", {"title": "Buy milk", "due_date": "tomorrow"}, "due_date"),
        ("add_task", {"title": "Buy milk", "priority": "urgent"}, "priority"),
        ("add_task", {"title": "Buy milk", "recurrence": "FREQ=DAILY"}, "due_date"),
        ("list_tasks", {"limit": 500}, "limit"),
        ("list_tasks", {"cursor": "not a cursor"}, "cursor"),
        ("complete_task", {"task_id": "x"}, "task_id"),
        ("update_task", {"task_id": True}, "task_id"),
        ("delete_task", {}, "task_id"),
    ],
)
def test_bad_input_is_a_tool_error_naming_the_field(
    tool: ToolCall, name: str, arguments: dict[str, Any], field: str
) -> None:
    text = refusal(tool(name, **arguments))

    assert text.startswith("Bad Request: ")
    assert f"{field}: " in text


def test_a_refusal_says_what_the_rest_api_says(tool: ToolCall, api: APIClient) -> None:
    problem = api.post("/api/me/tasks", {"title": ""}, format="json").json()

    assert refusal(tool("add_task", title="")) == f"{problem['title']}: {problem['detail']}"


def test_a_refused_add_task_creates_nothing(tool: ToolCall, user_id: str) -> None:
    tool("add_task", title="Buy milk", due_date="tomorrow")

    assert not Task.objects.filter(user_id=user_id).exists()


def test_a_refused_update_changes_nothing(tool: ToolCall, api: APIClient) -> None:
    task = created(tool)

    refusal(tool("update_task", task_id=task["id"], title="Oat milk", priority="urgent"))

    assert rest_task(api, task["id"]) == task


@pytest.fixture
def foreign(client_for: Any) -> dict[str, Any]:
    """Another user's task, as that user sees it."""
    other = client_for("someone-else")
    response = other.post("/api/me/tasks", {"title": "Theirs"}, format="json")
    assert response.status_code == 201
    task: dict[str, Any] = response.json()
    return task


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("complete_task", {}),
        ("delete_task", {}),
        ("update_task", {"title": "Mine now"}),
        ("update_task", {"completed": True}),
    ],
)
def test_a_foreign_task_is_not_found_and_unchanged(
    tool: ToolCall, client_for: Any, foreign: dict[str, Any], name: str, arguments: dict[str, Any]
) -> None:
    text = refusal(tool(name, task_id=foreign["id"], **arguments))

    assert "Not Found" in text
    assert client_for("someone-else").get(f"/api/me/tasks/{foreign['id']}").json() == foreign


@pytest.mark.parametrize("task_id", [999_999, 2**63])
@pytest.mark.parametrize("name", ["complete_task", "delete_task", "update_task"])
def test_a_missing_task_is_not_found(tool: ToolCall, name: str, task_id: int) -> None:
    assert "Not Found" in refusal(tool(name, task_id=task_id))


def test_a_foreign_parent_is_not_found_and_nothing_is_created(
    tool: ToolCall, foreign: dict[str, Any], user_id: str
) -> None:
    text = refusal(tool("add_task", title="Buy milk", parent_id=foreign["id"]))

    assert "Not Found" in text
    assert "parent_id" in text
    assert not Task.objects.filter(user_id=user_id).exists()


def test_a_foreign_list_is_not_found_and_nothing_is_created(
    tool: ToolCall, client_for: Any, user_id: str
) -> None:
    theirs = new_list(client_for("someone-else"), "Theirs")

    text = refusal(tool("add_task", title="Buy milk", list_id=theirs["id"]))

    assert "Not Found" in text
    assert "list_id" in text
    assert not Task.objects.filter(user_id=user_id).exists()


def test_moving_a_task_to_a_foreign_list_is_not_found_and_changes_nothing(
    tool: ToolCall, api: APIClient, client_for: Any
) -> None:
    theirs = new_list(client_for("someone-else"), "Theirs")
    task = created(tool)

    assert "Not Found" in refusal(tool("update_task", task_id=task["id"], list_id=theirs["id"]))
    assert rest_task(api, task["id"]) == task


@pytest.mark.parametrize("claimed", ["caller", "me"])
def test_user_id_may_be_the_callers_own_or_me(tool: ToolCall, user_id: str, claimed: str) -> None:
    result = tool("add_task", title="Buy milk", user_id=user_id if claimed == "caller" else claimed)

    assert outcome(result)["task"]["user_id"] == user_id


def test_another_user_id_is_refused_and_nothing_is_created(tool: ToolCall, user_id: str) -> None:
    text = refusal(tool("add_task", title="Buy milk", user_id="someone-else"))

    assert "user_id" in text
    assert not Task.objects.filter(user_id__in=[user_id, "someone-else"]).exists()


def test_another_user_id_leaves_even_their_own_task_unchanged(
    tool_as: Any, client_for: Any, foreign: dict[str, Any], user_id: str
) -> None:
    tool = tool_as(user_id)

    refusal(tool("complete_task", task_id=foreign["id"], user_id="someone-else"))

    assert client_for("someone-else").get(f"/api/me/tasks/{foreign['id']}").json() == foreign


def test_an_unknown_tool_is_a_tool_error_naming_the_tools(tool: ToolCall) -> None:
    text = refusal(tool("drop_database"))

    assert "drop_database" in text
    assert all(name in text for name in TOOLS)


@pytest.mark.parametrize("arguments", [None, [], "title"])
def test_arguments_that_are_not_an_object_are_refused(user_id: str, arguments: Any) -> None:
    with pytest.raises(ToolRefused, match="object"):
        call_tool(user_id, "add_task", arguments)


# --- An MCP write is the REST write --------------------------------------------------


def test_each_write_steps_the_tasks_version(tool: ToolCall) -> None:
    task = created(tool)

    updated = outcome(tool("update_task", task_id=task["id"], title="Oat milk"))["task"]
    completed = outcome(tool("complete_task", task_id=task["id"]))["task"]

    assert [task["version"], updated["version"], completed["version"]] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)  # the feed reads what committed
def test_an_mcp_write_appears_in_the_changes_feed(tool: ToolCall, api: APIClient) -> None:
    since = api.get("/api/me/changes").json()["next"]

    task = created(tool)
    deleted = created(tool, "Doomed")
    tool("delete_task", task_id=deleted["id"])

    changes = api.get("/api/me/changes", {"since": since}).json()
    assert [found["id"] for found in changes["upserted"]] == [task["id"]]
    assert changes["deleted"] == [deleted["id"]]


def test_add_task_beyond_max_tasks_per_user_is_refused(
    tool: ToolCall, settings: Any, user_id: str
) -> None:
    settings.MAX_TASKS_PER_USER = 2
    created(tool, "One")
    created(tool, "Two")

    text = refusal(tool("add_task", title="Three"))

    assert text.startswith("Conflict: ")
    assert Task.objects.filter(user_id=user_id).count() == 2


def test_completing_a_recurring_task_moves_it_to_its_next_occurrence(tool: ToolCall) -> None:
    task = created(tool, "Stand-up", due_date="2030-01-07T09:00:00Z", recurrence="FREQ=DAILY")

    moved = outcome(tool("complete_task", task_id=task["id"]))["task"]

    assert (moved["completed"], moved["due_date"]) == (False, "2030-01-08T09:00:00Z")


# --- Database round trips, pinned as the REST routes' (tasks/tests/test_query_counts) --


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no savepoint
def test_add_task_is_one_query_as_a_rest_create(
    tool: ToolCall, django_assert_num_queries: Any
) -> None:
    created(tool, "Mirrors the user")

    with django_assert_num_queries(1):
        outcome(tool("add_task", title="x", tags=["a"], due_date="2030-01-01T09:00:00Z"))


def test_list_tasks_is_one_query_as_a_rest_list(
    tool: ToolCall, django_assert_num_queries: Any
) -> None:
    for number in range(3):
        created(tool, f"Task {number}", tags=["a"])

    with django_assert_num_queries(1):
        assert len(outcome(tool("list_tasks", tag="a", status="pending"))["tasks"]) == 3


def test_list_tasks_of_a_list_or_parent_not_the_callers_is_not_found(tool_as, tool):
    other = tool_as("someone-else")
    foreign_task = other("add_task", title="Theirs")["structuredContent"]
    foreign_list = foreign_task["task"]["list_id"]
    for arguments in ({"list_id": foreign_list}, {"parent_id": foreign_task["task_id"]}):
        assert refusal(tool("list_tasks", **arguments)).startswith("Not Found:")
