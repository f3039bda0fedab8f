"""GET /api/{user_id}/conversations, GET …/conversations/{id}/messages and DELETE
…/conversations/{id}: the caller's own, keyset-paged like the notifications; another
user's is 404."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message

pytestmark = pytest.mark.django_db

TOOL_CALL = {
    "id": "call_1",
    "name": "add_task",
    "arguments": {"title": "Pay rent"},
    "result": {"task_id": 1, "status": "created", "title": "Pay rent", "task": {"id": 1}},
}


@pytest.fixture
def api(api: APIClient) -> APIClient:
    assert api.get("/api/me/conversations").status_code == 200  # mirrors the user
    return api


def conversation(user_id: str, title: str, messages: int = 2) -> Conversation:
    """A conversation of `messages` messages, turn by turn: the user's, then an answer
    with a tool call."""
    made = Conversation.objects.create(user=UserFactory.create(id=user_id), title=title)
    for number in range(messages):
        if number % 2 == 0:
            Message.objects.create(conversation=made, role="user", content=f"{title} {number}")
        else:
            Message.objects.create(
                conversation=made, role="assistant", content="Done.", tool_calls=[TOOL_CALL]
            )
    return made


def next_page(response: Any) -> str:
    link: str = response["Link"]
    return link[1 : link.index(">")]


def test_conversations_are_listed_newest_first(api: APIClient, user_id: str) -> None:
    older = conversation(user_id, "Older")
    newer = conversation(user_id, "Newer")

    response = api.get("/api/me/conversations")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": made.id,
            "title": made.title,
            "created_at": made.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": made.updated_at.isoformat().replace("+00:00", "Z"),
        }
        for made in (newer, older)
    ]
    assert response["X-Total-Count"] == "2"
    assert "Link" not in response


def test_conversations_are_paged_by_cursor(api: APIClient, user_id: str) -> None:
    made = [conversation(user_id, f"Chat {number}") for number in range(5)]

    first = api.get("/api/me/conversations", {"limit": 2})
    second = api.get(next_page(first))
    last = api.get(next_page(second))

    pages = [[found["id"] for found in page.json()] for page in (first, second, last)]
    assert pages == [[made[4].id, made[3].id], [made[2].id, made[1].id], [made[0].id]]
    assert {page["X-Total-Count"] for page in (first, second, last)} == {"5"}
    assert "Link" not in last


def test_the_list_holds_the_callers_conversations_alone(api: APIClient, user_id: str) -> None:
    conversation("someone-else", "Theirs")
    mine = conversation(user_id, "Mine")

    assert [found["id"] for found in api.get("/api/me/conversations").json()] == [mine.id]


def test_the_list_is_two_queries(
    api: APIClient, user_id: str, django_assert_num_queries: Any
) -> None:
    for number in range(3):
        conversation(user_id, f"Chat {number}")

    with django_assert_num_queries(2):
        response = api.get("/api/me/conversations?limit=2")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 201}, {"cursor": "not a cursor"}, {"cursor": "eyJ4Ijox"}]
)
def test_bad_paging_is_a_400(api: APIClient, query: dict[str, Any]) -> None:
    response = api.get("/api/me/conversations", query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(query)


def test_a_conversations_messages_are_listed_oldest_first(api: APIClient, user_id: str) -> None:
    made = conversation(user_id, "Rent")
    user, agent = made.messages.order_by("id")

    response = api.get(f"/api/me/conversations/{made.id}/messages")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": user.id,
            "role": "user",
            "content": "Rent 0",
            "tool_calls": [],
            "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
        },
        {
            "id": agent.id,
            "role": "assistant",
            "content": "Done.",
            "tool_calls": [{key: TOOL_CALL[key] for key in ("name", "arguments", "result")}],
            "created_at": agent.created_at.isoformat().replace("+00:00", "Z"),
        },
    ]
    assert response["X-Total-Count"] == "2"


def test_messages_are_paged_by_cursor(api: APIClient, user_id: str) -> None:
    made = conversation(user_id, "Long", messages=5)
    ids = list(made.messages.order_by("id").values_list("id", flat=True))

    first = api.get(f"/api/me/conversations/{made.id}/messages", {"limit": 3})
    second = api.get(next_page(first))

    assert [found["id"] for found in first.json()] == ids[:3]
    assert [found["id"] for found in second.json()] == ids[3:]
    assert second["X-Total-Count"] == "5"
    assert "Link" not in second


def test_a_conversations_cursor_is_refused_by_the_messages(api: APIClient, user_id: str) -> None:
    made = [conversation(user_id, f"Chat {number}") for number in range(2)]
    cursor = next_page(api.get("/api/me/conversations", {"limit": 1})).split("cursor=")[1]

    response = api.get(f"/api/me/conversations/{made[0].id}/messages", {"cursor": cursor})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


def test_deleting_a_conversation_deletes_its_messages(api: APIClient, user_id: str) -> None:
    made = conversation(user_id, "Gone")
    kept = conversation(user_id, "Kept")

    response = api.delete(f"/api/me/conversations/{made.id}")

    assert response.status_code == 204
    assert list(Conversation.objects.values_list("id", flat=True)) == [kept.id]
    assert set(Message.objects.values_list("conversation_id", flat=True)) == {kept.id}
    assert api.get(f"/api/me/conversations/{made.id}/messages").status_code == 404
    assert api.delete(f"/api/me/conversations/{made.id}").status_code == 404


@pytest.mark.parametrize("method", ["get_messages", "delete"])
def test_another_users_conversation_is_not_found(
    api: APIClient, client_for: Callable[[str], APIClient], method: str
) -> None:
    theirs = conversation("someone-else", "Theirs")

    if method == "delete":
        response = api.delete(f"/api/me/conversations/{theirs.id}")
    else:
        response = api.get(f"/api/me/conversations/{theirs.id}/messages")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert Message.objects.filter(conversation=theirs).count() == 2


@pytest.mark.parametrize("raw", ["0", "abc", "-1", "9" * 19, "1" * 5000])
def test_an_id_that_names_no_conversation_is_not_found(api: APIClient, raw: str) -> None:
    assert api.get(f"/api/me/conversations/{raw}/messages").status_code == 404
    assert api.delete(f"/api/me/conversations/{raw}").status_code == 404


def test_another_users_routes_are_forbidden(
    client_for: Callable[[str], APIClient], user_id: str
) -> None:
    conversation(user_id, "Mine")
    intruder = client_for("someone-else")

    assert intruder.get(f"/api/{user_id}/conversations").status_code == 403
    assert (
        intruder.post(f"/api/{user_id}/chat", {"message": "hi"}, format="json").status_code == 403
    )


def test_a_trailing_slash_is_the_same_route(api: APIClient, user_id: str) -> None:
    made = conversation(user_id, "Slash")

    assert api.get("/api/me/conversations/").status_code == 200
    assert api.get(f"/api/me/conversations/{made.id}/messages/").status_code == 200
    assert api.delete(f"/api/me/conversations/{made.id}/").status_code == 204
