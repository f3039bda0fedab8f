"""Bulk actions (`POST …/tasks/bulk`): one request, many tasks, all or nothing.

`complete`, `reopen`, `delete` (to the trash) and `update` (with `fields`, as PATCH
takes them but `title` and `parent_id`) name their tasks by `ids` (1..200 of the
caller's live tasks, else a 404 naming each missing one as `ids.N`) or by `where`
(the list's filters);
`create` takes `tasks` (1..100, each as a create takes it). Each runs in one
transaction through tasks.queries, by the same rules as one task's write.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from accounts.selectors import user_time_zone
from tasks import queries
from tasks.exceptions import BulkTooLarge, TasksNotFound
from tasks.filters import TaskListQuery, parse_list_query
from tasks.models import MAX_TASK_ID
from tasks.queries import TaskRow
from tasks.serializers import validate_task

MAX_IDS = 200
MAX_CREATES = 100
# A `where` writes at most BULK_MAX_TASKS tasks, and at most this many one by one
# (a series to follow, reminders to move: 3 statements each), as `ids` may name:
# measured on PostgreSQL here, 1,000 plain tasks complete in 0.05 s, 200 recurring
# ones in 0.25 s, so no bulk transaction holds the changes feed back for long.
MAX_ONE_BY_ONE = MAX_IDS
ACTIONS = ("complete", "reopen", "delete", "update", "create")
# The list's parameters that filter (not those that order or page).
FILTERS = set(TaskListQuery().fields) - {"sort", "limit", "cursor"}


class BulkRequestSerializer(serializers.Serializer):
    """The body of a bulk action; which keys it needs depends on `action`."""

    action = serializers.ChoiceField(choices=ACTIONS)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_TASK_ID),
        min_length=1,
        max_length=MAX_IDS,
        required=False,
        help_text="The tasks to act on (not with `where`).",
    )
    where = serializers.DictField(
        required=False,
        help_text='The list\'s filters, same names and values (`{"status": "completed"}`).',
    )
    # The body's key; DRF's metaclass takes it off the class, so `Serializer.fields` stays.
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="`update`: the fields to write, as PATCH takes them, but `title` and "
        "`parent_id`. A `list_id` moves each task with its subtasks (top-level there "
        "unless its parent moves too).",
    )
    tasks = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_CREATES,
        required=False,
        help_text="`create`: the new tasks, as a create takes each.",
    )


_BULK = BulkRequestSerializer()


@dataclass(frozen=True)
class BulkResult:
    action: str
    tasks: list[TaskRow]


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    if data["action"] == "complete":
        return {"completed": True}
    if data["action"] == "reopen":
        return {"completed": False}
    raw = data.get("fields")
    if not raw:
        raise ValidationError({"fields": ["Send the fields to write."]})
    if "title" in raw:
        raise ValidationError({"fields": {"title": ["A bulk update can't write titles."]}})
    if "parent_id" in raw:
        raise ValidationError(
            {"fields": {"parent_id": ["A bulk update can't set parents; PATCH each task."]}}
        )
    try:
        fields = validate_task(raw, partial=True)
    except ValidationError as error:
        raise ValidationError({"fields": error.detail}) from None
    if not fields:  # read-only and unknown fields are ignored, as PATCH ignores them
        raise ValidationError({"fields": ["Send a task field that can be written."]})
    return fields


def _where(user_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    # A misspelt filter would widen the action to every task: refused, not ignored.
    if unknown := sorted(set(raw) - FILTERS):
        raise ValidationError({"where": {name: ["Not a filter of the list."] for name in unknown}})
    try:
        return parse_list_query(raw, owner_zone=lambda: user_time_zone(user_id))
    except ValidationError as error:
        raise ValidationError({"where": error.detail}) from None


def _create(user_id: str, raw_tasks: list[Any]) -> list[TaskRow]:
    fields, errors = [], {}
    for index, raw in enumerate(raw_tasks):
        try:
            fields.append(validate_task(raw, partial=False))
        except ValidationError as error:
            errors[str(index)] = error.detail
    if errors:
        raise ValidationError({"tasks": errors})
    created = []
    for index, task in enumerate(fields):
        try:  # the rules of a task's time, which need its owner's zone
            created.append(queries.task_insert(user_id=user_id, fields=task))
        except ValidationError as error:
            raise ValidationError({"tasks": {str(index): error.detail}}) from None
    return created


@transaction.atomic
def bulk_apply(*, user_id: str, data: Any) -> BulkResult:
    """Validate a bulk request body and apply it to the owner's tasks, all or nothing."""
    request: dict[str, Any] = _BULK.run_validation(data)
    action = request["action"]
    if action == "create":
        if "tasks" not in request:
            raise ValidationError({"tasks": ["Send the tasks to create."]})
        return BulkResult(action, _create(user_id, request["tasks"]))
    if ("ids" in request) == ("where" in request):
        raise ValidationError({"ids": ["Send either `ids` or `where`, not both."]})
    fields = None if action == "delete" else _fields(request)
    ids = request.get("ids")
    query = None if ids is not None else _where(user_id, request["where"])
    if query is not None:
        matched = queries.task_count(user_id=user_id, query=query)
        if matched > settings.BULK_MAX_TASKS:
            raise BulkTooLarge(matched, settings.BULK_MAX_TASKS)
    try:
        written = queries.tasks_update_owned(
            user_id=user_id,
            task_ids=ids,
            query=query,
            fields=fields,
            trash=action == "delete",
            max_one_by_one=MAX_ONE_BY_ONE,
        )
    except ValidationError as error:  # the rules of a task's time, task by task
        raise ValidationError({"fields": error.detail}) from None
    except queries.TooManyOneByOne as refused:
        raise BulkTooLarge(refused.count, MAX_ONE_BY_ONE, one_by_one=True) from None
    if ids is not None:
        found = {task["id"] for task in written}
        if missing := [index for index, task_id in enumerate(ids) if task_id not in found]:
            # Rolls the write back with this transaction.
            raise TasksNotFound([f"ids.{index}" for index in missing])
    return BulkResult(action, written)
