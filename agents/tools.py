"""The agent's tools, each defined once for the MCP server (agents.mcp) and the chat
endpoint (agents.chat): the JSON Schema of its arguments and of its result, its hints,
and a function that does it as the caller.

A tool does what the REST API's route does, through the same code: the arguments go
through the REST validators (`validate_task`, `parse_list_query`) and the write through
the task store, so every rule, version, feed entry, reminder and limit is the REST
API's. A call refused (bad input, a task or list that isn't the caller's, another
user's id) raises ToolRefused with the REST problem's words and changes nothing.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import InterfaceError, OperationalError
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.settings import api_settings

from accounts.selectors import user_time_zone
from tasks import queries
from tasks.exceptions import ListsNotFound, TasksNotFound
from tasks.filters import STATUS_CHOICES, parse_list_query
from tasks.models import MAX_TASK_ID, Priority
from tasks.pagination import paginate
from tasks.queries.tree import NOT_YOUR_LIST, NOT_YOUR_PARENT
from tasks.serializers import list_json, task_json, validate_task

Arguments = dict[str, Any]
Result = dict[str, Any]
# The REST API's 400 for a list_id or parent_id that isn't the caller's (docs/api.md);
# a tool says "not found" of it, as the contract has a tool say of any list or task
# not the caller's.
NOT_YOURS = ({"list_id": [NOT_YOUR_LIST]}, {"parent_id": [NOT_YOUR_PARENT]})


BUG = "Internal Server Error: the tool failed; the error has been logged."
logger = logging.getLogger(__name__)


class ToolRefused(Exception):
    """A call that changed nothing: its text says why, as the REST API's problem would."""


@dataclass(frozen=True)
class Tool:
    """One tool: what a client lists, and `run(owner_id, arguments)`, its result."""

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    run: Callable[[str, Arguments], Result]
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


def call_tool(owner_id: str, name: str, arguments: Any) -> Result:
    """Run the tool `name` as `owner_id`; its result as JSON values. Raise ToolRefused
    as `call_tool_json` says."""
    result: Result = orjson.loads(call_tool_json(owner_id, name, arguments))
    return result


def call_tool_json(owner_id: str, name: str, arguments: Any) -> bytes:
    """Run the tool `name` as `owner_id`; its result as JSON, written as the REST API's
    renderer writes it (date-times in UTC with a `Z`). Raise ToolRefused for an unknown
    tool, arguments that are not an object, a `user_id` that is not the caller's, or
    anything the REST API refuses."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolRefused(f"No tool is named {name!r}; the tools are {', '.join(TOOLS)}.")
    if not isinstance(arguments, dict):
        raise ToolRefused("The arguments must be a JSON object.")
    arguments = dict(arguments)
    claimed = arguments.pop("user_id", None)
    if claimed is not None and claimed not in ("me", owner_id):
        raise ToolRefused("user_id: you can act only as yourself: send your own id, or `me`.")
    try:
        result = tool.run(owner_id, arguments)
    # A database outage too: the REST API's handler makes it a 503 problem.
    except (APIException, OperationalError, InterfaceError) as refusal:
        title = "Not Found" if getattr(refusal, "detail", None) in NOT_YOURS else None
        raise ToolRefused(_problem_text(refusal, title)) from None
    except Exception:
        # A bug: logged with its traceback, and refused in words that say nothing of
        # it, for MCP and the chat alike; never a JSON-RPC internal error or a 500.
        logger.exception("tool %s failed", name)
        raise ToolRefused(BUG) from None
    return orjson.dumps(result, default=str, option=orjson.OPT_UTC_Z)


def _problem_text(refusal: Exception, title: str | None = None) -> str:
    """`Title: detail` of the problem the REST API would answer for `refusal` (with
    `title`, if given, for the problem's)."""
    handler: Callable[..., Any] = api_settings.EXCEPTION_HANDLER  # type: ignore[assignment]
    response = handler(refusal, {"request": None, "view": None})
    problem = response.data
    return f"{title or problem['title']}: {problem['detail']}"


def _task_id(arguments: Arguments) -> int:
    """The `task_id` argument, an id that can name a task; a 400 naming it if not."""
    task_id = arguments.pop("task_id", None)
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise ValidationError({"task_id": ["Send a task's id, an integer."]})
    if not 0 < task_id <= MAX_TASK_ID:
        raise TasksNotFound(["task_id"])
    return task_id


def _found(task: queries.TaskRow | None) -> queries.TaskRow:
    if task is None:
        raise TasksNotFound(["task_id"])
    return task


def _written(task: queries.TaskRow, status: str) -> Result:
    return {
        "task_id": task["id"],
        "status": status,
        "title": task["title"],
        "task": task_json(task),
    }


def add_task(owner_id: str, arguments: Arguments) -> Result:
    fields = validate_task(arguments, partial=False)
    return _written(queries.task_insert(user_id=owner_id, fields=fields), "created")


def list_tasks(owner_id: str, arguments: Arguments) -> Result:
    if type(arguments.get("parent_id")) is int:  # the REST query parameter is text
        arguments["parent_id"] = str(arguments["parent_id"])
    query = parse_list_query(arguments, owner_zone=lambda: user_time_zone(owner_id))
    page = paginate(user_id=owner_id, query=query)
    # The REST filter matches none for a list or parent not the caller's; a tool says
    # "not found" of it, as of any id not theirs (looked up only for an empty page).
    if not page.items:
        _check_owned_filters(owner_id, query)
    return {"tasks": [task_json(task) for task in page.items], "next_cursor": page.next_cursor}


def _check_owned_filters(owner_id: str, query: dict[str, Any]) -> None:
    """Raise a 404 naming `list_id` or `parent_id` if the filter names a list or task
    that isn't the caller's."""
    if "list_id" in query and queries.list_get(user_id=owner_id, list_id=query["list_id"]) is None:
        raise ListsNotFound(["list_id"])
    parent_id = query.get("parent_id")
    if parent_id is not None and queries.task_get(user_id=owner_id, task_id=parent_id) is None:
        raise TasksNotFound(["parent_id"])


def complete_task(owner_id: str, arguments: Arguments) -> Result:
    task_id = _task_id(arguments)
    task = queries.task_set_completed(user_id=owner_id, task_id=task_id, completed=True)
    return _written(_found(task), "completed")


def delete_task(owner_id: str, arguments: Arguments) -> Result:
    task = _found(queries.task_trash(user_id=owner_id, task_id=_task_id(arguments)))
    return {"task_id": task["id"], "status": "deleted", "title": task["title"]}


def update_task(owner_id: str, arguments: Arguments) -> Result:
    task_id = _task_id(arguments)
    fields = validate_task(arguments, partial=True)
    task = queries.task_update(user_id=owner_id, task_id=task_id, fields=fields)
    return _written(_found(task), "updated")


def list_lists(owner_id: str, arguments: Arguments) -> Result:
    return {"lists": [list_json(found) for found in queries.lists_all(user_id=owner_id)]}


# --- Schemas: the types and meanings; the REST validators hold the rules. -----------

ID = {"type": "integer", "minimum": 1}
OPTIONAL_ID = {"type": ["integer", "null"], "minimum": 1}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
USER_ID = {
    "type": "string",
    "description": "Optional: your own user id, or `me`. Tools act only as the signed-in user.",
}
TASK_FIELDS: dict[str, dict[str, Any]] = {
    "title": {**TEXT, "description": "1..200 characters."},
    "description": {**TEXT, "description": "Up to 1000 characters."},
    "due_date": {
        **NULLABLE_TEXT,
        "description": "ISO 8601: a date-time with offset (2026-12-20T17:00:00Z), a local "
        "one in the task's time zone (2026-12-20T17:00), a date alone (all-day), or null.",
    },
    "priority": {"type": "string", "enum": Priority.labels},
    "tags": {"type": "array", "items": TEXT, "description": "Up to 20 tags."},
    "list_id": {**ID, "description": "One of your lists (see list_lists); default the Inbox."},
    "parent_id": {
        **OPTIONAL_ID,
        "description": "Make it a subtask of this task of yours (null: top-level).",
    },
    "recurrence": {
        **NULLABLE_TEXT,
        "description": "An RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO; needs a due_date.",
    },
    "time_zone": {**NULLABLE_TEXT, "description": "IANA zone of the task's local times."},
}
TASK_ID = {**ID, "description": "The task's id."}
# A task as the REST API answers it (`GET /api/{user_id}/tasks/{id}`).
TASK = {"type": "object", "description": "The task, as the REST API shows it."}


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def _written_schema(status: str) -> dict[str, Any]:
    return _object(
        {"task_id": ID, "status": {"const": status}, "title": TEXT, "task": TASK},
        "task_id",
        "status",
        "title",
        "task",
    )


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            name="add_task",
            description="Create a task (in the Inbox unless list_id or parent_id says).",
            input_schema=_object({**TASK_FIELDS, "user_id": USER_ID}, "title"),
            output_schema=_written_schema("created"),
            run=add_task,
        ),
        Tool(
            name="list_tasks",
            description="List your tasks, newest first, a page at a time; filter them.",
            input_schema=_object(
                {
                    "status": {"type": "string", "enum": list(STATUS_CHOICES)},
                    "search": {**TEXT, "description": "Words in the title or description."},
                    "list_id": {**ID, "description": "Tasks of this list of yours."},
                    "parent_id": {
                        "type": ["integer", "string"],
                        "description": "Subtasks of this task, or `none`: top-level alone.",
                    },
                    "tag": TEXT,
                    "priority": TASK_FIELDS["priority"],
                    "due_before": {**TEXT, "description": "A date-time with offset, or a date."},
                    "due_after": {**TEXT, "description": "A date-time with offset, or a date."},
                    "overdue": {"type": "boolean", "description": "Open and due before now."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    "cursor": {**TEXT, "description": "next_cursor of the page before."},
                    "user_id": USER_ID,
                }
            ),
            output_schema=_object(
                {"tasks": {"type": "array", "items": TASK}, "next_cursor": NULLABLE_TEXT},
                "tasks",
                "next_cursor",
            ),
            run=list_tasks,
            read_only=True,
        ),
        Tool(
            name="complete_task",
            description="Mark a task completed (a recurring one moves to its next date).",
            input_schema=_object({"task_id": TASK_ID, "user_id": USER_ID}, "task_id"),
            output_schema=_written_schema("completed"),
            run=complete_task,
            idempotent=True,
        ),
        Tool(
            name="delete_task",
            description="Move a task, with its subtasks, to the trash (restorable there).",
            input_schema=_object({"task_id": TASK_ID, "user_id": USER_ID}, "task_id"),
            output_schema=_object(
                {"task_id": ID, "status": {"const": "deleted"}, "title": TEXT},
                "task_id",
                "status",
                "title",
            ),
            run=delete_task,
            destructive=True,
            idempotent=True,
        ),
        Tool(
            name="update_task",
            description="Change a task's fields; those not sent keep their values.",
            input_schema=_object(
                {
                    "task_id": TASK_ID,
                    **TASK_FIELDS,
                    "completed": {"type": "boolean"},
                    "user_id": USER_ID,
                },
                "task_id",
            ),
            output_schema=_written_schema("updated"),
            run=update_task,
            idempotent=True,
        ),
        Tool(
            name="list_lists",
            description="List your lists of tasks, in your order, the Inbox first.",
            input_schema=_object({"user_id": USER_ID}),
            output_schema=_object(
                {"lists": {"type": "array", "items": {"type": "object"}}}, "lists"
            ),
            run=list_lists,
            read_only=True,
        ),
    ]
}
