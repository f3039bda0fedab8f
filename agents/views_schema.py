"""What the OpenAPI document says of the chat's routes (agents/views.py): summaries,
descriptions, parameters, examples. Each view method takes its entry here as its one
decorator, as tasks/views_schema.py does for the task routes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from accounts.schema import USER_ID_PARAMETER
from agents.serializers import (
    ChatAnswerSerializer,
    ChatSerializer,
    ConversationSerializer,
    MessageSerializer,
)
from tasks.filters import PageQuery

TOOL_CALL_EXAMPLE = {
    "name": "add_task",
    "arguments": {"title": "Buy oat milk", "due_date": "2026-12-20"},
    "result": {
        "task_id": 42,
        "status": "created",
        "title": "Buy oat milk",
        "task": {"id": 42, "title": "Buy oat milk", "due_date": "2026-12-20"},
    },
}
CONVERSATION_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The conversation's id."
)

CHAT = extend_schema(
    summary="Send a message to the agent",
    operation_id="chat_create",
    description="The agent manages your tasks with the MCP server's tools, as you, until "
    "it answers with text (at most `CHAT_MAX_TOOL_CALLS` tool calls per message; "
    "`CHAT_TIMEOUT_SECONDS` in all). Without `conversation_id` a new conversation "
    "starts; the agent sees its last `CHAT_HISTORY_MESSAGES` messages. A "
    "`conversation_id` that names none of yours is a 404. 503 (`chat-not-configured`) "
    "when the server has no model, or (`chat-busy`, with `Retry-After`) when it is "
    "answering `CHAT_MAX_CONCURRENT` messages already; 502 (`chat-model-failed`) when "
    "the model fails: your message is kept, with the tool calls made, in the problem's "
    "`conversation_id`: "
    "send it again there and those calls are not made again.",
    parameters=[USER_ID_PARAMETER],
    request=ChatSerializer,
    responses={200: ChatAnswerSerializer},
    examples=[
        OpenApiExample(
            "Message",
            value={"message": "Remind me to buy oat milk on the 20th", "conversation_id": 3},
            request_only=True,
        ),
        OpenApiExample(
            "Answer",
            value={
                "conversation_id": 3,
                "response": "Added \u201cBuy oat milk\u201d, due December 20.",
                "tool_calls": [TOOL_CALL_EXAMPLE],
            },
            response_only=True,
        ),
    ],
)

CONVERSATIONS_LIST = extend_schema(
    summary="List your conversations with the agent",
    operation_id="conversations_list",
    description="Newest first, keyset-paged like the task list.",
    parameters=[USER_ID_PARAMETER, PageQuery],
    responses={200: ConversationSerializer(many=True)},
    examples=[
        OpenApiExample(
            "A page",
            value=[
                {
                    "id": 3,
                    "title": "Remind me to buy oat milk on the 20th",
                    "created_at": "2026-12-07T09:00:00Z",
                    "updated_at": "2026-12-07T09:02:00Z",
                }
            ],
            response_only=True,
        )
    ],
)

CONVERSATIONS_MESSAGES = extend_schema(
    summary="List a conversation's messages",
    operation_id="conversations_messages",
    description="Oldest first, keyset-paged like the task list: yours, and the agent's "
    "answers with the tool calls each made.",
    parameters=[USER_ID_PARAMETER, CONVERSATION_ID_PARAMETER, PageQuery],
    responses={200: MessageSerializer(many=True)},
    examples=[
        OpenApiExample(
            "A page",
            value=[
                {
                    "id": 10,
                    "role": "user",
                    "content": "Remind me to buy oat milk on the 20th",
                    "tool_calls": [],
                    "created_at": "2026-12-07T09:00:00Z",
                },
                {
                    "id": 11,
                    "role": "assistant",
                    "content": "Added \u201cBuy oat milk\u201d, due December 20.",
                    "tool_calls": [TOOL_CALL_EXAMPLE],
                    "created_at": "2026-12-07T09:00:02Z",
                },
            ],
            response_only=True,
        )
    ],
)

CONVERSATIONS_DESTROY = extend_schema(
    summary="Delete a conversation",
    operation_id="conversations_destroy",
    description="With its messages, for good. The tasks its tool calls wrote stay.",
    parameters=[USER_ID_PARAMETER, CONVERSATION_ID_PARAMETER],
    responses={204: OpenApiResponse(description="Deleted; no body.")},
)
