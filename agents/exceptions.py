"""The ways the chat endpoint refuses or fails a message, as DRF exceptions."""

from rest_framework import status
from rest_framework.exceptions import APIException


class ChatNotConfigured(APIException):
    """No CHAT_API_BASE_URL or CHAT_MODEL is set, so there is no model to ask: 503;
    nothing was stored."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The chat is off on this server: it has no model (CHAT_API_BASE_URL and "
        "CHAT_MODEL). The tasks API and the MCP server work without one."
    )
    problem_type = "urn:todo-api:problem:chat-not-configured"


class ChatModelFailed(APIException):
    """The model failed, timed out or answered what can't be read: 502. The user's
    message is kept in `conversation_id`, with the tool calls made before the failure,
    so a retry there sees them done and does not repeat them."""

    status_code = status.HTTP_502_BAD_GATEWAY
    problem_type = "urn:todo-api:problem:chat-model-failed"

    def __init__(self, reason: str, conversation_id: int) -> None:
        super().__init__(
            f"{reason} Your message is kept in the conversation: send it again there "
            "to retry (tool calls already made are not made again)."
        )
        self.conversation_id = conversation_id


class ChatBusy(APIException):
    """This web process is answering CHAT_MAX_CONCURRENT messages already: 503 with
    `Retry-After`; nothing was stored."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The agent is answering as many messages as it can right now; send yours again "
        "in a few seconds."
    )
    problem_type = "urn:todo-api:problem:chat-busy"
    wait = 5
