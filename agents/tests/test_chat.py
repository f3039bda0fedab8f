"""POST /api/{user_id}/chat (Contract Part 5) against a scripted model on loopback
(testing.chat_model): the tools it is offered and what it sees, tool calls that are the
REST API's writes, conversations that go on, and every way a message is refused or the
model fails, with nothing lost and no tool call made twice."""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents import services, tools
from agents.chat import LIMIT_ANSWER
from agents.models import Conversation, Message
from agents.tools import TOOLS
from tasks.models import Task
from testing.chat_model import ChatModel, running_chat_model

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def model(settings: Any) -> Iterator[ChatModel]:
    """The scripted model, configured as the chat's (every other setting its default)."""
    with running_chat_model() as running:
        settings.CHAT_API_BASE_URL = running.url
        settings.CHAT_MODEL = "test-model"
        settings.CHAT_API_KEY = ""
        yield running


def chat(api: APIClient, message: str, conversation_id: int | None = None) -> Any:
    body: dict[str, Any] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    return api.post("/api/me/chat", body, format="json")


def answered(api: APIClient, message: str, conversation_id: int | None = None) -> dict[str, Any]:
    response = chat(api, message, conversation_id)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def roles(messages: list[dict[str, Any]]) -> list[str]:
    return [message["role"] for message in messages]


# --- A message answered --------------------------------------------------------------


# Transactional: on PostgreSQL the changes feed hands out only changes of transactions
# that have ended, so the test's own open transaction would hide the tool's write.
@pytest.mark.django_db(transaction=True)
def test_a_tool_call_is_the_rest_apis_write(model: ChatModel, api: APIClient, user_id: str) -> None:
    since = api.get("/api/me/changes").json()["next"]
    model.call(("add_task", {"title": "Buy oat milk", "priority": "high"})).say("Added it.")

    body = answered(api, "Add buy oat milk, high priority")

    (call,) = body["tool_calls"]
    assert (call["name"], call["arguments"]) == (
        "add_task",
        {"title": "Buy oat milk", "priority": "high"},
    )
    assert body["response"] == "Added it."
    (task,) = api.get("/api/me/tasks").json()
    assert call["result"] == {
        "task_id": task["id"],
        "status": "created",
        "title": "Buy oat milk",
        "task": task,
    }
    assert task["priority"] == "high"
    changes = api.get("/api/me/changes", {"since": since}).json()
    assert [changed["id"] for changed in changes["upserted"]] == [task["id"]]


def test_the_model_is_offered_the_mcp_servers_tools(model: ChatModel, api: APIClient) -> None:
    model.say("Hello.")

    answered(api, "Hi")

    (request,) = model.requests
    assert request["model"] == "test-model"
    offered = {tool["function"]["name"]: tool["function"] for tool in request["tools"]}
    assert set(offered) == set(TOOLS)
    for name, tool in TOOLS.items():
        assert offered[name]["parameters"] == tool.input_schema
        assert offered[name]["description"] == tool.description


def test_the_model_is_told_the_date_and_the_users_time_zone(
    model: ChatModel, api: APIClient
) -> None:
    api.patch("/api/me/settings", {"time_zone": "Europe/Berlin"}, format="json")
    model.say("Hello.")

    answered(api, "Hi")

    system, user = model.last_messages
    assert system["role"] == "system"
    assert time.strftime("%Y-%m-%d", time.gmtime()) in system["content"]
    assert "Europe/Berlin" in system["content"]
    assert user == {"role": "user", "content": "Hi"}


def test_the_model_sees_each_tool_result(model: ChatModel, api: APIClient) -> None:
    model.call(("add_task", {"title": "Call mum"})).say("Done.")

    body = answered(api, "Remind me to call mum")

    asked, result = model.last_messages[-2:]
    assert asked["role"] == "assistant"
    (call,) = asked["tool_calls"]
    assert call["function"]["name"] == "add_task"
    assert result["role"] == "tool"
    assert result["tool_call_id"] == call["id"]
    assert result["content"].startswith("{")
    assert body["tool_calls"][0]["result"]["title"] == "Call mum"


def test_a_new_conversation_is_titled_by_the_messages_opening_words(
    model: ChatModel, api: APIClient
) -> None:
    model.say("Sure.")
    message = "Plan my week:  " + "groceries, gym and the dentist " * 10

    body = answered(api, message)

    title = Conversation.objects.get(id=body["conversation_id"]).title
    assert title.startswith("Plan my week: groceries, gym and the dentist groceries")
    assert title.endswith("…")
    assert len(title) <= 100
    assert message.split()[: len(title.split()) - 1] == title.split()[:-1]


def test_the_answer_and_its_tool_calls_are_stored(model: ChatModel, api: APIClient) -> None:
    model.call(("list_lists", {})).say("You have an Inbox.")

    body = answered(api, "Which lists do I have?")

    user, agent = Message.objects.filter(conversation_id=body["conversation_id"]).order_by("id")
    assert (user.role, user.content) == ("user", "Which lists do I have?")
    assert (agent.role, agent.content) == ("assistant", "You have an Inbox.")
    assert [call["name"] for call in agent.tool_calls] == ["list_lists"]


def test_a_conversation_goes_on_with_its_history(model: ChatModel, api: APIClient) -> None:
    model.call(("add_task", {"title": "Pay rent"})).say("Added.")
    first = answered(api, "Add pay rent")
    model.say("It is task 1.")

    second = answered(api, "Which task was that?", first["conversation_id"])

    assert second["conversation_id"] == first["conversation_id"]
    seen = model.last_messages
    assert roles(seen) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert seen[1]["content"] == "Add pay rent"
    assert seen[2]["tool_calls"][0]["function"]["name"] == "add_task"
    assert seen[3]["tool_call_id"] == seen[2]["tool_calls"][0]["id"]
    assert seen[4]["content"] == "Added."
    assert seen[5]["content"] == "Which task was that?"


def test_the_model_sees_the_last_chat_history_messages(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_HISTORY_MESSAGES = 2
    conversation_id = None
    for number in range(3):
        model.say(f"Answer {number}.")
        conversation_id = answered(api, f"Question {number}", conversation_id)["conversation_id"]

    # The system prompt, then the conversation's last two messages, the new one included.
    assert [message.get("content") for message in model.last_messages] == [
        model.last_messages[0]["content"],
        "Answer 1.",
        "Question 2",
    ]


# --- Refusals --------------------------------------------------------------------------


def test_another_users_conversation_is_not_found(
    model: ChatModel, api: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    model.say("Theirs.")
    theirs = answered(client_for("someone-else"), "A secret")["conversation_id"]

    response = chat(api, "Show me", theirs)

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert Message.objects.filter(conversation_id=theirs).count() == 2
    assert len(model.requests) == 1


def test_a_missing_conversation_is_not_found(model: ChatModel, api: APIClient) -> None:
    assert chat(api, "Hello", 9_999_999).status_code == 404
    assert not Conversation.objects.exists()


def test_a_chat_without_a_model_answers_503_and_stores_nothing(
    api: APIClient, settings: Any
) -> None:
    settings.CHAT_API_BASE_URL = ""
    settings.CHAT_MODEL = ""

    response = chat(api, "Hello")

    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("chat-not-configured")
    assert not Conversation.objects.exists()


def test_a_chat_without_a_model_name_answers_503(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_MODEL = ""

    assert chat(api, "Hello").status_code == 503
    assert model.requests == []


def test_a_chat_beyond_chat_max_concurrent_is_a_503_to_retry_that_stores_nothing(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_MAX_CONCURRENT = 1
    with services._answering.slot("someone-else"):  # a message answered meanwhile
        response = chat(api, "Hello")

    assert response.status_code == 503
    assert response.json()["type"].endswith("chat-busy")
    assert response["Retry-After"] == "5"
    assert not Conversation.objects.exists()
    assert model.requests == []


def test_a_user_has_one_message_answered_at_a_time(
    model: ChatModel, api: APIClient, user_id: str
) -> None:
    with services._answering.slot(user_id):  # their message in another request
        response = chat(api, "And another thing")

    assert response.status_code == 503
    assert response.json()["detail"] == services.ONE_AT_A_TIME
    assert model.requests == []


def test_a_slot_is_given_back_when_the_model_fails(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_MAX_CONCURRENT = 1
    model.fail().say("Back.")

    assert chat(api, "Hello").status_code == 502
    assert answered(api, "Hello again")["response"] == "Back."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": " \t\n"}, "message"),
        ({"message": 5}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"message": "a\x00b"}, "message"),
        ({"message": "Hi", "conversation_id": "3"}, "conversation_id"),
        ({"message": "Hi", "conversation_id": 0}, "conversation_id"),
        ({"message": "Hi", "conversation_id": True}, "conversation_id"),
        ({"message": "Hi", "conversation_id": 2**63}, "conversation_id"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(
    model: ChatModel, api: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/me/chat", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert model.requests == []


def test_a_message_of_4000_characters_is_taken(model: ChatModel, api: APIClient) -> None:
    model.say("Long.")

    answered(api, "x" * 4000)

    assert model.last_messages[-1]["content"] == "x" * 4000


def test_a_user_id_of_another_user_is_refused_as_a_tool_error(
    model: ChatModel, api: APIClient
) -> None:
    arguments = {"title": "Not mine", "user_id": "someone-else"}
    model.call(("add_task", arguments)).say("I can't.")

    body = answered(api, "Add a task for someone else")

    (call,) = body["tool_calls"]
    assert call["arguments"] == arguments
    assert set(call["result"]) == {"error"}
    assert "user_id" in call["result"]["error"]
    assert model.last_messages[-1]["content"].startswith("Error: user_id")
    assert not Task.objects.exists()


def test_arguments_that_are_not_json_are_a_tool_error(model: ChatModel, api: APIClient) -> None:
    model.call(("add_task", '{"title": "Broken')).say("Sorry.")

    body = answered(api, "Add broken")

    (call,) = body["tool_calls"]
    assert call["arguments"] == '{"title": "Broken'
    assert model.last_messages[-1]["content"].startswith("Error: ")
    assert not Task.objects.exists()


def test_a_tool_the_api_refuses_is_a_tool_error_the_model_sees(
    model: ChatModel, api: APIClient
) -> None:
    model.call(("complete_task", {"task_id": 424242})).say("No such task.")

    body = answered(api, "Complete task 424242")

    assert body["tool_calls"][0]["result"]["error"].startswith("Not Found")
    assert model.last_messages[-1]["content"].startswith("Error: Not Found")


# --- The model failing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fail",
    [
        lambda model: model.fail(500),
        lambda model: model.fail(429),
        lambda model: model.garble(),
        lambda model: model.garble(b'{"choices": []}'),
        lambda model: model.garble(b'{"choices": {"0": {}}}'),
        lambda model: model.garble(b'{"choices": [{"message": {"role": "assistant"}}]}'),
        lambda model: model.garble(b'{"choices": [{"message": {"tool_calls": [{"x": 1}]}}]}'),
    ],
    ids=["500", "429", "not-json", "no-choice", "choices-not-a-list", "no-text", "bad-tool-call"],
)
def test_a_model_failure_is_a_502_that_keeps_the_users_message(
    model: ChatModel, api: APIClient, fail: Callable[[ChatModel], Any]
) -> None:
    fail(model)

    response = chat(api, "Hello there")

    assert response.status_code == 502
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("chat-model-failed")
    (message,) = Message.objects.filter(conversation_id=problem["conversation_id"])
    assert (message.role, message.content) == ("user", "Hello there")


def test_a_failure_is_logged_without_the_users_words(
    model: ChatModel, api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    model.fail(503)

    assert chat(api, "My secret plans").status_code == 502

    (logged,) = [record for record in caplog.records if record.name == "agents.chat"]
    assert (logged.kind, logged.status) == ("status", 503)  # type: ignore[attr-defined]
    assert "secret" not in caplog.text


def test_a_model_that_cannot_be_reached_is_a_502(api: APIClient, settings: Any) -> None:
    with running_chat_model() as stopped:
        url = stopped.url
    settings.CHAT_API_BASE_URL = url
    settings.CHAT_MODEL = "test-model"

    response = chat(api, "Hello")

    assert response.status_code == 502
    assert response.json()["type"].endswith("chat-model-failed")


def test_a_retry_after_a_failure_mid_loop_does_not_redo_the_tool_call(
    model: ChatModel, api: APIClient
) -> None:
    model.call(("add_task", {"title": "Buy stamps"})).fail(500)
    failed = chat(api, "Add buy stamps")
    assert failed.status_code == 502
    conversation_id = failed.json()["conversation_id"]
    model.say("It was added already.")

    retried = answered(api, "Add buy stamps", conversation_id)

    assert retried["tool_calls"] == []
    assert Task.objects.filter(title="Buy stamps").count() == 1
    seen = model.last_messages
    assert roles(seen) == ["system", "user", "assistant", "tool", "user"]
    assert seen[2]["tool_calls"][0]["function"]["name"] == "add_task"
    assert '"status":"created"' in seen[3]["content"]
    stored = Message.objects.filter(conversation_id=conversation_id).order_by("id")
    assert [(message.role, message.content) for message in stored] == [
        ("user", "Add buy stamps"),
        ("assistant", ""),
        ("user", "Add buy stamps"),
        ("assistant", "It was added already."),
    ]
    assert [call["name"] for call in stored[1].tool_calls] == ["add_task"]


def test_tool_calls_stop_at_chat_max_tool_calls(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_MAX_TOOL_CALLS = 2
    model.call(("add_task", {"title": "One"}))
    model.call(("add_task", {"title": "Two"}), ("add_task", {"title": "Three"}))
    model.say("I added two; Three is left.")

    body = answered(api, "Add one, two and three")

    assert [call["arguments"]["title"] for call in body["tool_calls"]] == ["One", "Two"]
    assert sorted(Task.objects.values_list("title", flat=True)) == ["One", "Two"]
    assert body["response"] == "I added two; Three is left."
    final = model.requests[-1]
    assert final["tool_choice"] == "none"
    assert final["messages"][-1]["role"] == "system"
    assert "2 tool calls" in final["messages"][-1]["content"]
    # The cut batch is shown to the model as the one call that was made.
    assert len(final["messages"][-3]["tool_calls"]) == 1


def test_a_model_asking_for_tools_past_the_limit_gets_none_run(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_MAX_TOOL_CALLS = 1
    model.call(("add_task", {"title": "One"})).call(("add_task", {"title": "Two"}))

    body = answered(api, "Add many")

    assert list(Task.objects.values_list("title", flat=True)) == ["One"]
    assert body["response"] == LIMIT_ANSWER.format(limit=1)


def test_the_whole_message_is_bounded_by_chat_timeout_seconds(
    model: ChatModel, api: APIClient, settings: Any
) -> None:
    settings.CHAT_TIMEOUT_SECONDS = 0.5
    model.call(("add_task", {"title": "Quick"})).hang(30)
    started = time.monotonic()

    response = chat(api, "Add quick")

    assert time.monotonic() - started < 5
    assert response.status_code == 502
    assert "0.5 seconds" in response.json()["detail"]
    stored = Message.objects.filter(conversation_id=response.json()["conversation_id"])
    assert [len(message.tool_calls) for message in stored.order_by("id")] == [0, 1]


# Transactional: a message's foreign key is checked when its write commits, as in
# production, where each write of the answer commits on its own.
@pytest.mark.django_db(transaction=True)
def test_a_conversation_deleted_while_it_is_answered_is_a_404(
    model: ChatModel, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agents.chat

    real_call_tool = agents.chat.call_tool

    def deleted_meanwhile(owner_id: str, name: str, arguments: Any) -> Any:
        # The user deletes the conversation (in another request) while a tool runs.
        Conversation.objects.all().delete()
        return real_call_tool(owner_id, name, arguments)

    monkeypatch.setattr(agents.chat, "call_tool", deleted_meanwhile)
    model.call(("list_lists", {})).say("You have an Inbox.")

    response = chat(api, "What lists do I have?")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_a_tool_that_fails_is_a_tool_error_the_model_sees_not_a_500(
    model: ChatModel, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(owner_id: str, arguments: Any) -> Any:
        raise RuntimeError("internal detail")

    monkeypatch.setitem(TOOLS, "list_lists", tools.Tool("list_lists", "", {}, {}, fail))
    model.call(("list_lists", {})).say("Something went wrong on my side.")

    body = answered(api, "What lists do I have?")

    (call,) = body["tool_calls"]
    assert call["result"]["error"].startswith("Internal Server Error")
    assert "internal detail" not in json.dumps(model.requests)


def test_a_redirect_from_the_provider_is_not_followed(model: ChatModel, api: APIClient) -> None:
    with running_chat_model() as elsewhere:
        elsewhere.say("I should never hear of this.")
        model.redirect(f"{elsewhere.url}/chat/completions")

        response = chat(api, "My private message")

        assert response.status_code == 502
        assert elsewhere.requests == []


def test_an_earlier_answers_long_tool_result_is_seen_again_cut(
    model: ChatModel, api: APIClient
) -> None:
    for number in range(30):
        api.post("/api/me/tasks", {"title": f"A task of a long title {number}"}, format="json")
    model.call(("list_tasks", {})).say("You have 30 tasks.")
    conversation_id = answered(api, "List my tasks")["conversation_id"]
    first_result = model.last_messages[-1]["content"]
    model.say("Yes.")

    answered(api, "Thanks", conversation_id)

    replayed = next(m for m in model.last_messages if m["role"] == "tool")["content"]
    assert len(first_result) > 2000  # the model saw it whole when it asked
    cut, rest = replayed.split("… (")
    assert len(cut) == 2000
    assert rest == f"{len(first_result) - 2000} characters more, not repeated)"
