"""The task's JSON shape: request validation as the contract words it, and the response."""

import re
from datetime import date, datetime
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.timezones import TimeZoneField
from tasks.models import MAX_TASK_ID, Priority, RepeatFrom
from tasks.queries import TaskRow
from tasks.recurrence import MAX_LENGTH as RECURRENCE_LENGTH
from tasks.recurrence import PARTS as RECURRENCE_PARTS
from tasks.recurrence import validate_recurrence
from tasks.schedule import MAX_REMINDERS

MAX_TAGS = 20
# The form of every rule `validate_recurrence` accepts: NAME=VALUE parts of the names
# it knows, joined by `;`. Which values go together is its to say.
_RULE_PART = f"(?:{'|'.join(sorted(RECURRENCE_PARTS))})=[A-Z0-9,+-]+"
RULE_PATTERN = f"^(?:RRULE:)?{_RULE_PART}(?:;{_RULE_PART})*$"
LOCAL_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
# Four weeks: the longest a reminder may come before its due date.
MAX_BEFORE_MINUTES = 40320


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings (DRF would turn `5` into `"5"`)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes only JSON `true`/`false` (DRF would take `"yes"`, `1`)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that takes only JSON integers (DRF would take `"5"` and `5.0`)."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class PriorityField(serializers.ChoiceField):
    """`low`/`medium`/`high` on the wire, the ordered number of `Priority` in the database."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Priority.labels, **kwargs)

    def to_internal_value(self, data: Any) -> int:  # type: ignore[override]
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return Priority[super().to_internal_value(data).upper()].value

    def to_representation(self, value: Any) -> str:
        return Priority(value).label


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its UTC offset; stored and shown in UTC."""

    default_error_messages = {"naive": "Include a UTC offset, e.g. 2025-01-31T17:00:00Z."}

    def to_internal_value(self, value: Any) -> datetime:
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601 with offset")
        return super().to_internal_value(value)

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            self.fail("naive")
        return super().enforce_timezone(value)


class DueDateField(AwareDateTimeField):
    """A date-time with its offset; a local one without (`2026-12-20T17:00`, what
    `<input type="datetime-local">` sends), left naive; or a date alone (`2026-12-20`,
    all-day). tasks.schedule reads the last two in the task's time zone. `""`, what an
    empty date input sends, is null (tasks.schema says so in the document)."""

    default_error_messages = {
        "local": "Send a local date-time as YYYY-MM-DDTHH:MM[:SS], a date as YYYY-MM-DD, "
        "or a UTC offset (2025-01-31T17:00:00Z)."
    }

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        return super().validate_empty_values(None if data == "" else data)

    def to_internal_value(self, value: Any) -> datetime | date:  # type: ignore[override]
        if isinstance(value, str) and DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self.fail("local")
        when = super().to_internal_value(value)
        # Python's ISO parser also takes `20261220`, week dates and a date alone; a
        # local time is only what a browser's picker sends.
        if when.tzinfo is None and not LOCAL_DATE_TIME.fullmatch(value):
            self.fail("local")
        return when

    def enforce_timezone(self, value: datetime) -> datetime:
        return value if value.tzinfo is None else super().enforce_timezone(value)


class RuleField(StrictCharField):
    """A recurrence rule, checked by `validate_recurrence`; tasks.schema gives the
    document RULE_PATTERN, the form every rule it accepts has."""


class ShortListField(serializers.ListField):
    """A list of at most `max_items`, refused whole when longer, before any of its items
    is validated (a list of 100,000 costs no work per item)."""

    max_items: int

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", self.max_items)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and len(data) > self.max_items:
            self.fail("max_length", max_length=self.max_items)
        items: list[Any] = super().to_internal_value(data)
        return items


class TagListField(ShortListField):
    """Up to 20 tags of 1..50 characters after trimming; case-insensitive repeats fold."""

    child = StrictCharField(max_length=50)
    max_items = MAX_TAGS

    def to_internal_value(self, data: Any) -> list[str]:
        tags: list[str] = super().to_internal_value(data)
        folded: dict[str, str] = {}
        for tag in tags:
            folded.setdefault(tag.casefold(), tag)
        return list(folded.values())


class ReminderSerializer(serializers.Serializer):
    """One reminder: `before_minutes` (needs a due date) or `at`."""

    # An answer repeats the one of the two that was sent.
    optional_in_response = ("before_minutes", "at")

    before_minutes = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_BEFORE_MINUTES,
        help_text="Minutes before the due date (0..40320); moves with it.",
    )
    at = AwareDateTimeField(required=False, help_text="An instant, with its UTC offset.")
    remind_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When it fires (UTC); null once fired, or when it can't fire.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError("Send exactly one of `before_minutes` or `at`.")
        return attrs


class ReminderListField(ShortListField):
    """Up to 10 reminders."""

    child = ReminderSerializer()
    max_items = MAX_REMINDERS


_PRIORITY_LABELS = dict(Priority.choices)
# Stored beside the answered fields: answered in them (an all-day `due_date`), or not
# at all (the series' place, the worker's next reminder).
_INTERNAL = ("due_day", "series_start", "series_done", "next_remind_at", "children")


def trashed_task_json(task: TaskRow) -> dict[str, Any]:
    """The JSON shape of a task in the trash: a task with its `deleted_at`.

    Date-times stay `datetime`s: the renderer writes them as ISO 8601 in UTC with
    a `Z`, as DRF's DateTimeField would. An all-day task's `due_date` is its date.
    """
    shown: dict[str, Any] = {
        **task,
        "priority": _PRIORITY_LABELS[task["priority"]],
        "due_date": task["due_day"] or task["due_date"],
    }
    for name in _INTERNAL:
        del shown[name]
    return shown


def task_json(task: TaskRow) -> dict[str, Any]:
    """The JSON shape of a live task's row (`deleted_at` is the trash's alone)."""
    shown = trashed_task_json(task)
    del shown["deleted_at"]
    return shown


class TaskSerializer(serializers.Serializer):
    """A task. Read-only fields sent by a client are ignored, as are unknown fields.

    Only `title` is required; a field not sent is left out of the validated data, so
    a create takes the model's default for it and an update keeps its value.
    """

    id = serializers.IntegerField(read_only=True)
    user_id = serializers.CharField(read_only=True, help_text="The owner: the token's `sub`.")
    list_id = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="One of your lists; default your Inbox (a subtask: its parent's). "
        "Changing it moves the task with its subtasks, and makes it top-level there.",
    )
    parent_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="Null: top-level. Else one of your live tasks, at most 4 levels above "
        "(chains hold 5 tasks); the task (with its subtasks) moves into the parent's list.",
    )
    title = StrictCharField(max_length=200, help_text="Trimmed; 1..200 characters.")
    description = StrictCharField(
        max_length=1000,
        allow_blank=True,
        trim_whitespace=False,
        required=False,
        help_text='Default `""`.',
    )
    completed = StrictBooleanField(required=False, help_text="Default `false`.")
    completed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Set by the server when `completed` turns true, cleared when false.",
    )
    priority = PriorityField(required=False, help_text="Default `medium`.")
    due_date = DueDateField(
        allow_null=True,
        required=False,
        help_text="Default `null`. With a UTC offset; local (`2026-12-20T17:00`) when the "
        "task has a `time_zone` (the one sent, else the task's; on create, else the user's), "
        "read in that zone; or a date alone (`2026-12-20`): all-day, due at the end of that "
        "day in the task's zone, and answered as the date. Otherwise answered in UTC. "
        '`""` (an empty date input) is null.',
    )
    tags = TagListField(required=False, help_text="Default `[]`.")
    time_zone = TimeZoneField(
        required=False,
        help_text="The zone of the task's local times: an IANA name, or null (UTC). A new "
        "task sent without one (or with null) takes the user's `…/settings` zone.",
    )
    recurrence = RuleField(
        required=False,
        allow_null=True,
        max_length=RECURRENCE_LENGTH,
        validators=[validate_recurrence],
        help_text="Null, or an RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO,WE`): FREQ DAILY, WEEKLY, "
        "MONTHLY or YEARLY; INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT or UNTIL. "
        "Needs a `due_date`, the series' start. Completing the task moves it to the next "
        "occurrence, in local time of its `time_zone`.",
    )
    repeat_from = serializers.ChoiceField(
        choices=RepeatFrom.values,
        required=False,
        help_text="`due` (default): the rule's next occurrence after the due date and now. "
        "`completion`: the completion's date plus the interval (FREQ, INTERVAL, COUNT, UNTIL).",
    )
    reminders = ReminderListField(
        required=False,
        help_text='Up to 10, each `{"before_minutes": n}` or `{"at": date-time}`; '
        "answered with `remind_at`.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(
        read_only=True, help_text="1 when created, +1 on every change; the ETag, quoted."
    )
    position = serializers.CharField(
        read_only=True,
        help_text="The manual order: compare as strings (code points), ties by id. A new "
        "task goes last; `POST …/move` changes it.",
    )


class TrashedTaskSerializer(TaskSerializer):
    """A task in the trash."""

    deleted_at = serializers.DateTimeField(read_only=True, help_text="When it was deleted.")


class ListSerializer(serializers.Serializer):
    """A list of tasks. Read-only fields sent by a client are ignored, as are unknown
    ones; `name` is required but by PATCH."""

    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(
        max_length=100,
        help_text="Trimmed; 1..100 characters; unique among your lists, ignoring case.",
    )
    color = StrictCharField(
        required=False,
        allow_null=True,
        validators=[
            RegexValidator(COLOR_PATTERN, message="Send a color as #rrggbb (hex), or null.")
        ],
        help_text="`#rrggbb`, answered in lower case; or null. Default null.",
    )
    is_inbox = serializers.BooleanField(
        read_only=True,
        help_text="True for your Inbox: where tasks go unless placed; it can't be deleted.",
    )
    position = serializers.CharField(
        read_only=True,
        help_text="Your order of lists, as a task's `position`: the Inbox first until "
        "moved, a new list last; `POST …/lists/{id}/move` changes it.",
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text="1 when created, +1 on every change (its tasks' counts too); the ETag.",
    )
    task_count = serializers.IntegerField(
        read_only=True, help_text="Its live tasks, subtasks included."
    )
    open_count = serializers.IntegerField(
        read_only=True, help_text="Its live tasks not completed, subtasks included."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


_LIST_FIELDS = tuple(ListSerializer().fields)


def list_json(task_list: Any) -> dict[str, Any]:
    """The JSON shape of a list (a tasks.models.TaskList)."""
    return {name: getattr(task_list, name) for name in _LIST_FIELDS}


class BulkResultSerializer(serializers.Serializer):
    """What a bulk action wrote: the tasks as written, or for `delete` their ids."""

    optional_in_response = ("tasks", "ids")

    count = serializers.IntegerField()
    tasks = TaskSerializer(many=True, required=False)
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)


class ListChangesSerializer(serializers.Serializer):
    """The lists part of an answer of the changes feed."""

    upserted = ListSerializer(
        many=True,
        help_text="Lists changed (their counts too), as they are now; all of them in a full sync.",
    )
    deleted = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of lists deleted."
    )


class ChangesSerializer(serializers.Serializer):
    """An answer of the changes feed."""

    upserted = TaskSerializer(many=True, help_text="Live tasks changed, as they are now.")
    deleted = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of tasks trashed or deleted for good."
    )
    lists = ListChangesSerializer(help_text="Lists changed since the same token; not paged.")
    next = serializers.CharField(help_text="Ask with `since=` this next (and to poll later).")
    more = serializers.BooleanField(help_text="`true`: more changes wait; ask again at once.")


class CompletionSerializer(serializers.Serializer):
    """The optional body of `PATCH .../complete`: no `completed` toggles, a value sets."""

    completed = StrictBooleanField(required=False)


class MoveSerializer(serializers.Serializer):
    """Where `POST …/move` puts the task (or list): exactly one of `before`, `after` or
    `to`."""

    before = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="Right before this task (a sibling: same list and parent), or list.",
    )
    after = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="Right after this task (a sibling: same list and parent), or list.",
    )
    to = serializers.ChoiceField(
        choices=["top", "bottom"], required=False, help_text="First or last of all."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError("Send exactly one of `before`, `after` or `to`.")
        return attrs


# One instance of each, validating every request's data: instantiating a DRF
# serializer deep-copies all its fields, which costs more than validating.
_TASK = TaskSerializer()
_CHANGES = TaskSerializer(partial=True)
_LIST = ListSerializer()
_LIST_CHANGES = ListSerializer(partial=True)
_COMPLETION = CompletionSerializer()
_MOVE = MoveSerializer()


def validate_task(data: Any, *, partial: bool) -> dict[str, Any]:
    """A task body's validated fields: those sent, and `title` unless `partial`.

    Raises DRF's ValidationError, as `is_valid(raise_exception=True)` would.
    """
    validated: dict[str, Any] = (_CHANGES if partial else _TASK).run_validation(data)
    return validated


def validate_list(data: Any, *, partial: bool) -> dict[str, Any]:
    """A list body's validated fields: those sent, and `name` unless `partial`."""
    validated: dict[str, Any] = (_LIST_CHANGES if partial else _LIST).run_validation(data)
    return validated


def validate_completion(data: Any) -> bool | None:
    """The `completed` of a completion body: True/False to set, None to toggle."""
    completed: bool | None = _COMPLETION.run_validation(data).get("completed")
    return completed


def validate_move(data: Any) -> dict[str, Any]:
    """A move body's one key (`before`, `after` or `to`) and its value."""
    move: dict[str, Any] = _MOVE.run_validation(data)
    return move


class CompletionRecordSerializer(serializers.Serializer):
    """A completed occurrence of a recurring task."""

    completed_at = serializers.DateTimeField()
    due_date = serializers.CharField(help_text="The occurrence completed: a date-time, or a date.")


def completion_json(completion: Any) -> dict[str, Any]:
    return {
        "completed_at": completion.completed_at,
        "due_date": completion.due_day or completion.due_date,
    }


class NotificationSerializer(serializers.Serializer):
    """A reminder that fired."""

    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    title = serializers.CharField(help_text="The task's title when it fired.")
    remind_at = serializers.DateTimeField()
    fired_at = serializers.DateTimeField()
    read = serializers.BooleanField()


_NOTIFICATION_FIELDS = ("id", "task_id", "title", "remind_at", "fired_at", "read")


def notification_json(notification: Any) -> dict[str, Any]:
    return {name: getattr(notification, name) for name in _NOTIFICATION_FIELDS}
