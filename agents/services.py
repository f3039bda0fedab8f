"""Writes of the chat: a user's message, the agent's answer to it, a conversation
deleted.

A message is stored before the model is asked, and each tool call as soon as it is
made (in the answer, its content empty until the model has answered), so that neither
a model's failure nor a process's end loses what was said or done: a retry in the same
conversation shows the model the calls already made, and it does not make them again.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound

from accounts.selectors import user_time_zone
from agents import chat
from agents.exceptions import ChatBusy, ChatModelFailed, ChatNotConfigured
from agents.models import Conversation, Message
from agents.selectors import owned_conversation, recent_messages

TITLE_LENGTH = Conversation._meta.get_field("title").max_length or 100


@dataclass(frozen=True)
class ChatTurn:
    """A message answered: its conversation, the answer, and the tool calls made."""

    conversation_id: int
    response: str
    tool_calls: list[chat.ToolCall]


def chat_send(*, user_id: str, text: str, conversation_id: int | None) -> ChatTurn:
    """Post `text` as the user in their conversation `conversation_id` (a new one if
    None) and answer it. Raise ChatNotConfigured without a model or ChatBusy at
    CHAT_MAX_CONCURRENT (nothing stored), NotFound for a conversation not theirs,
    ChatModelFailed if the model fails."""
    if not chat.configured():
        raise ChatNotConfigured()
    with _answering.slot(user_id):
        return _chat_answer(user_id=user_id, text=text, conversation_id=conversation_id)


class _Slots:
    """The messages this process is answering: at most CHAT_MAX_CONCURRENT, and one of
    each user's, so that no user holds every slot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: set[str] = set()

    @contextmanager
    def slot(self, user_id: str) -> Iterator[None]:
        """Hold a slot for the user while the block runs; raise ChatBusy if none is
        free, or if the user holds one already."""
        with self._lock:
            if user_id in self._users:
                raise ChatBusy(ONE_AT_A_TIME)
            if len(self._users) >= settings.CHAT_MAX_CONCURRENT:
                raise ChatBusy()
            self._users.add(user_id)
        try:
            yield
        finally:
            with self._lock:
                self._users.discard(user_id)


ONE_AT_A_TIME = "Your last message is still being answered; send this one once it is."


_answering = _Slots()


def _chat_answer(*, user_id: str, text: str, conversation_id: int | None) -> ChatTurn:
    conversation = _message_add(user_id=user_id, text=text, conversation_id=conversation_id)
    # The conversation's last messages, the one just stored the last of them.
    history = recent_messages(conversation=conversation, count=settings.CHAT_HISTORY_MESSAGES)
    answer = Message(conversation=conversation, role=Message.Role.ASSISTANT)

    def record(made: list[chat.ToolCall]) -> None:
        answer.tool_calls = made
        _keep(answer)

    try:
        answer.content = chat.answer(
            owner_id=user_id,
            history=history,
            time_zone=user_time_zone(user_id),
            record=record,
        )
    except chat.ModelFailed as failure:
        raise ChatModelFailed(failure.reason, conversation.id) from None
    _keep(answer)
    _touch(conversation)
    return ChatTurn(conversation.id, answer.content, answer.tool_calls)


def _keep(answer: Message) -> None:
    """Store the answer as it stands; a 404 if its conversation was deleted meanwhile
    (by the user, in another request), as for any conversation not there."""
    try:
        answer.save()
    except IntegrityError:
        raise NotFound("The conversation was deleted while it was being answered.") from None


def _message_add(*, user_id: str, text: str, conversation_id: int | None) -> Conversation:
    """Store the user's message, in a new conversation titled by it if `conversation_id`
    is None; a 404 if that conversation is missing or another user's."""
    with transaction.atomic():
        if conversation_id is None:
            conversation = Conversation.objects.create(user_id=user_id, title=title_of(text))
        else:
            conversation = owned_conversation(user_id=user_id, conversation_id=conversation_id)
            _touch(conversation)
        Message.objects.create(conversation=conversation, role=Message.Role.USER, content=text)
    return conversation


def _touch(conversation: Conversation) -> None:
    """Mark the conversation updated now (a list of them shows when each last moved)."""
    conversation.updated_at = timezone.now()
    Conversation.objects.filter(id=conversation.id).update(updated_at=conversation.updated_at)


def title_of(text: str) -> str:
    """A conversation's title: the opening words of its first message, on one line,
    cut at a word (with an ellipsis) to fit TITLE_LENGTH."""
    words = text.split()
    title = " ".join(words)
    if len(title) <= TITLE_LENGTH:
        return title
    cut = title[: TITLE_LENGTH - 1]
    if title[TITLE_LENGTH - 1] != " " and " " in cut:  # not to end inside a word
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut.rstrip()}…"


def conversation_delete(*, user_id: str, conversation_id: int) -> bool:
    """Delete the user's conversation with its messages; False if there is none."""
    deleted, _ = Conversation.objects.filter(id=conversation_id, user_id=user_id).delete()
    return deleted > 0
