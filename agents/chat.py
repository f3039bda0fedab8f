"""The chat endpoint's agent loop: one user message answered by a model through the
OpenAI Chat Completions API, with the MCP server's tools (agents.tools) run as the
user until the model answers with text.

The loop keeps nothing itself: it is handed the conversation's history and reports each
tool call as soon as it is made (`record`), so the caller stores it before anything
else can fail and a retry never repeats it. A model that fails, times out or answers
what can't be read raises ModelFailed; CHAT_TIMEOUT_SECONDS bounds the whole message,
each model call getting the time left.

After CHAT_MAX_TOOL_CALLS tool calls the model is asked once more with the tools still
declared but `tool_choice: "none"` and a note that the limit is reached: the history
holds tool calls and results, which some providers refuse without a declared tool, and
an answer saying what was done (and what is left) serves the user better than an error.
"""

import functools
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import openai
import orjson
from django.conf import settings

from agents.models import Message
from agents.tools import TOOLS, ToolRefused, call_tool

# A tool call as a message stores it: `{"id", "name", "arguments", "result"}`, the
# arguments as the model sent them (an object, or their text if not a JSON object) and
# the result the tool's, or `{"error": text}` for a call refused.
ToolCall = dict[str, Any]
ModelMessage = dict[str, Any]

logger = logging.getLogger(__name__)

TOOL_SPECS = [
    {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        },
    }
    for tool in TOOLS.values()
]
LIMIT_NOTE = (
    "You have made the {limit} tool calls allowed for one message. Make no more: answer "
    "the user now, saying what you did and what is left to do."
)
# The answer when the model, at the limit, still asks for tools and writes nothing.
LIMIT_ANSWER = (
    "I stopped after {limit} tool calls, the most I may make for one message, before "
    "finishing. Ask me to go on."
)


class ModelFailed(Exception):
    """The model gave no usable answer; `reason` says how, in words for the user (and
    never with their text, nor the provider's answer, which may echo it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reply:
    """What the model answered: text, or tool calls to make (`{"id", "name",
    "arguments"}`, the arguments as it sent them: text, or an object)."""

    content: str
    tool_calls: list[dict[str, Any]]


def configured() -> bool:
    """Whether the settings name a model to ask."""
    return bool(settings.CHAT_API_BASE_URL and settings.CHAT_MODEL)


def answer(
    *,
    owner_id: str,
    history: Sequence[Message],
    time_zone: str | None,
    record: Callable[[list[ToolCall]], None],
) -> str:
    """The model's answer to the last message of `history` (the conversation's last
    messages, oldest first), running the tool calls it asks for as `owner_id`; after
    each, `record(every call made so far)`. Raise ModelFailed if the model fails."""
    deadline = time.monotonic() + settings.CHAT_TIMEOUT_SECONDS
    limit = settings.CHAT_MAX_TOOL_CALLS
    messages = [_system_message(time_zone)]
    for message in history:
        messages += replayed(message)
    made: list[ToolCall] = []
    client = _client(settings.CHAT_API_BASE_URL, settings.CHAT_API_KEY)
    while len(made) < limit:
        reply = _ask(client, messages, deadline)
        if not reply.tool_calls:
            return reply.content
        # A batch over the limit is cut short: the model is told so next.
        asked = _numbered(reply.tool_calls[: limit - len(made)], made)
        messages.append(_assistant_calls(asked))
        for call in asked:
            made.append(_run(owner_id, call))
            record(list(made))
            messages.append(_tool_message(made[-1]))
    messages.append({"role": "system", "content": LIMIT_NOTE.format(limit=limit)})
    reply = _ask(client, messages, deadline, final=True)
    return reply.content or LIMIT_ANSWER.format(limit=limit)


@functools.lru_cache(maxsize=4)
def _client(base_url: str, api_key: str) -> openai.OpenAI:
    """The process's client of the model's provider, made once: making one costs about
    20 ms (an SSL context), and it keeps its connections for the next message. Each
    call sets its own timeout."""
    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key or "unused",  # a local model needs none
        max_retries=0,  # a retry is the user's, who sees the 502 and the calls made
        # A redirect would post the user's messages wherever it points; the provider
        # is CHAT_API_BASE_URL and nowhere else.
        http_client=openai.DefaultHttpxClient(follow_redirects=False),
    )


def _ask(
    client: openai.OpenAI, messages: list[ModelMessage], deadline: float, *, final: bool = False
) -> Reply:
    """One model call, with the time left before `deadline`; its reply, read."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _failed("timeout", _timed_out())
    try:
        # The messages and tools are plain dicts, not the SDK's TypedDicts.
        raw = client.chat.completions.with_raw_response.create(  # type: ignore[call-overload]
            model=settings.CHAT_MODEL,
            messages=messages,
            tools=TOOL_SPECS,
            tool_choice="none" if final else "auto",
            timeout=left,
        )
    except openai.APITimeoutError:
        raise _failed("timeout", _timed_out()) from None
    except openai.APIConnectionError:
        raise _failed("connection", "The model's provider can't be reached.") from None
    except openai.APIStatusError as error:
        reason = f"The model's provider answered HTTP {error.status_code}."
        raise _failed("status", reason, status=error.status_code) from None
    try:
        return _read_reply(orjson.loads(raw.http_response.content), final=final)
    except (orjson.JSONDecodeError, _Unreadable):
        raise _failed("malformed", "The model's answer could not be read.") from None


def _timed_out() -> str:
    return f"The model did not answer within {settings.CHAT_TIMEOUT_SECONDS:g} seconds."


def _failed(kind: str, reason: str, *, status: int | None = None) -> ModelFailed:
    logger.warning("chat model failed", extra={"kind": kind, "status": status})
    return ModelFailed(reason)


class _Unreadable(Exception):
    """A Chat Completions answer without what every one holds."""


def _read_reply(body: Any, *, final: bool = False) -> Reply:
    """The first choice of a Chat Completions answer: text, or tool calls (ignored when
    `final`: none may be made). Raise _Unreadable if it is neither."""
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise _Unreadable
    content = message.get("content") or ""
    calls = [] if final else message.get("tool_calls") or []
    if not isinstance(content, str) or not isinstance(calls, list):
        raise _Unreadable
    tool_calls = [_read_call(call) for call in calls]
    if not tool_calls and not content and not final:
        raise _Unreadable
    return Reply(content, tool_calls)


def _read_call(call: Any) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise _Unreadable
    arguments = function.get("arguments")
    if arguments is None:
        arguments = "{}"
    if not isinstance(arguments, str | dict):  # some providers send the object itself
        raise _Unreadable
    return {"id": call.get("id"), "name": function["name"], "arguments": arguments}


def _numbered(calls: list[dict[str, Any]], made: list[ToolCall]) -> list[dict[str, Any]]:
    """The calls, each with an id of its own in this turn: its results are paired with
    it by id, and the turn's calls are stored (and replayed) as one batch. Some
    providers send none, or number each answer's calls from 0 again."""
    taken = {call["id"] for call in made}
    numbered = []
    for call in calls:
        if not isinstance(call["id"], str) or not call["id"] or call["id"] in taken:
            call = {**call, "id": f"call_{secrets.token_hex(8)}"}
        taken.add(call["id"])
        numbered.append(call)
    return numbered


def _run(owner_id: str, call: dict[str, Any]) -> ToolCall:
    """Make one tool call as `owner_id`: the call with its result, or with the refusal
    the model sees as the tool's answer (arguments that aren't JSON among them)."""
    arguments = call["arguments"]
    try:
        decoded = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    except orjson.JSONDecodeError:
        return {**call, "result": {"error": "The arguments are not JSON; send a JSON object."}}
    try:
        result = call_tool(owner_id, call["name"], decoded)
    except ToolRefused as refusal:
        result = {"error": str(refusal)}
    # Kept as an object when they are one, else as the text the model sent.
    return {
        **call,
        "arguments": decoded if isinstance(decoded, dict) else arguments,
        "result": result,
    }


def is_refusal(result: Any) -> bool:
    """Whether a stored result is a refused call's (no tool's result is `{"error"}`)."""
    return isinstance(result, dict) and set(result) == {"error"}


def _system_message(time_zone: str | None) -> ModelMessage:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    zone = (
        f"The user's time zone is {time_zone}: read and give times in it."
        if time_zone
        else "The user has set no time zone: times are in UTC unless they say otherwise."
    )
    return {
        "role": "system",
        "content": "You manage the signed-in user's tasks and lists in a todo app, through "
        "the tools; every tool acts as that user, and only on their tasks. Say briefly what "
        f"you did. It is now {now} (UTC). {zone}",
    }


# How much of an earlier answer's tool result the model sees again: a page of 200 tasks
# in each of 20 messages would fill any model's context, and every later message of
# the conversation would then fail. Its own answer says what it made of the result.
REPLAYED_RESULT_LENGTH = 2000


def replayed(message: Message) -> list[ModelMessage]:
    """A stored message as the model sees it again: an answer's tool calls (an assistant
    message asking for them, then each result, cut to REPLAYED_RESULT_LENGTH), then its
    text."""
    if message.role == Message.Role.USER:
        return [{"role": "user", "content": message.content}]
    shown: list[ModelMessage] = []
    if message.tool_calls:
        shown.append(_assistant_calls(message.tool_calls))
        shown += [_tool_message(call, most=REPLAYED_RESULT_LENGTH) for call in message.tool_calls]
    if message.content:
        shown.append({"role": "assistant", "content": message.content})
    return shown


def _assistant_calls(calls: list[dict[str, Any]]) -> ModelMessage:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": _text(call["arguments"])},
            }
            for call in calls
        ],
    }


def _tool_message(call: ToolCall, *, most: int | None = None) -> ModelMessage:
    """A call's result as the model reads it; at most `most` characters of it."""
    result = call["result"]
    content = f"Error: {result['error']}" if is_refusal(result) else _text(result)
    if most is not None and len(content) > most:
        content = f"{content[:most]}… ({len(content) - most} characters more, not repeated)"
    return {"role": "tool", "tool_call_id": call["id"], "content": content}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
