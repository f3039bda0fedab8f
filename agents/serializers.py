"""The chat's bodies: a message sent (validated as strictly as a task's fields), and
the answers' shapes (for the OpenAPI document; the views build the JSON with the
`*_json` functions)."""

from typing import Any

from rest_framework import serializers

from accounts.models import MAX_ROW_ID
from agents.chat import ToolCall
from agents.models import Conversation, Message
from tasks.serializers import StrictCharField, StrictIntegerField

MAX_MESSAGE_LENGTH = 4000


class ChatSerializer(serializers.Serializer):
    """`POST /api/{user_id}/chat`: a message, in a conversation or starting one."""

    message = StrictCharField(
        max_length=MAX_MESSAGE_LENGTH, help_text=f"Trimmed; 1..{MAX_MESSAGE_LENGTH} characters."
    )
    conversation_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ROW_ID,
        help_text="One of your conversations, to go on with; absent or null: a new one.",
    )


def validate_chat(data: Any) -> dict[str, Any]:
    """The message and conversation of a chat body; a 400 naming each bad field."""
    fields: dict[str, Any] = ChatSerializer().run_validation(data)
    return fields


class ToolCallSerializer(serializers.Serializer):
    """A tool call the agent made, as the MCP server's tools make them."""

    name = serializers.CharField(help_text="The tool: `add_task`, `list_tasks`...")
    arguments = serializers.JSONField(
        help_text="What the model sent: an object, or its text when that was not one."
    )
    result = serializers.JSONField(
        help_text='The tool\'s result; `{"error": "..."}` for a call refused, which '
        "changed nothing."
    )


class ChatAnswerSerializer(serializers.Serializer):
    """The agent's answer to a message."""

    conversation_id = serializers.IntegerField(help_text="Send it with the next message.")
    response = serializers.CharField(help_text="The agent's answer.")
    tool_calls = ToolCallSerializer(many=True, help_text="In the order they were made.")


class ConversationSerializer(serializers.Serializer):
    """A conversation with the agent."""

    id = serializers.IntegerField()
    title = serializers.CharField(help_text="The opening words of its first message.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="When its last message was posted.")


class MessageSerializer(serializers.Serializer):
    """A message of a conversation: the user's, or the agent's answer with the tool
    calls it made (an answer whose model failed holds those calls and no text)."""

    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Message.Role.values)
    content = serializers.CharField(allow_blank=True)
    tool_calls = ToolCallSerializer(many=True)
    created_at = serializers.DateTimeField()


def tool_calls_json(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Tool calls as answers show them: without the model's ids, which are its alone."""
    return [
        {"name": call["name"], "arguments": call["arguments"], "result": call["result"]}
        for call in calls
    ]


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "tool_calls": tool_calls_json(message.tool_calls),
        "created_at": message.created_at,
    }
