"""Reads of the chat's conversations: a user's, newest first, and a conversation's
messages, oldest first, each keyset-paged by id as the notifications are
(tasks.pagination): `limit` and `cursor`, `Link` and `X-Total-Count`."""

from typing import Any

from rest_framework.exceptions import NotFound

from agents.models import Conversation, Message
from tasks.pagination import Page, paginate_by_id

# What a cursor names, so one of these lists refuses the other's (and the tasks').
CONVERSATION_ORDER = "conversations:-id"
MESSAGE_ORDER = "messages:id"


def owned_conversation(*, user_id: str, conversation_id: int) -> Conversation:
    """The user's conversation of this id; a 404 if it is missing or another user's."""
    conversation = Conversation.objects.filter(id=conversation_id, user_id=user_id).first()
    if conversation is None:
        raise NotFound("No such conversation of yours.")
    return conversation


def conversation_page(*, user_id: str, query: dict[str, Any]) -> Page[Conversation]:
    """A page of the user's conversations, newest first: two queries (count, rows)."""
    conversations = Conversation.objects.filter(user_id=user_id)
    return paginate_by_id(conversations, query, CONVERSATION_ORDER, newest_first=True)


def message_page(*, conversation: Conversation, query: dict[str, Any]) -> Page[Message]:
    """A page of the conversation's messages, oldest first: two queries."""
    messages = Message.objects.filter(conversation=conversation)
    return paginate_by_id(messages, query, MESSAGE_ORDER, newest_first=False)


def recent_messages(*, conversation: Conversation, count: int) -> list[Message]:
    """The conversation's last `count` messages, oldest first: what the model sees."""
    latest = Message.objects.filter(conversation=conversation).order_by("-id")[:count]
    return list(reversed(latest))
