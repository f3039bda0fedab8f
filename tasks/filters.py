"""The list's query parameters: parsed and validated, a 400 naming any bad one."""

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks.changes import UNKNOWN_SINCE
from tasks.due_dates import Due
from tasks.models import MAX_TASK_ID
from tasks.pagination import INVALID_CURSOR, MAX_CURSOR_LENGTH
from tasks.queries import SORT_FIELDS, TRASH_SORT
from tasks.serializers import DATE, AwareDateTimeField, PriorityField, StrictCharField

# `FIELD:asc` and `FIELD:desc`, as some frontends write an order, name `FIELD` and `-FIELD`.
SORT_ALIASES = {
    **{f"{sort}:asc": sort for sort in SORT_FIELDS},
    **{f"{sort}:desc": f"-{sort}" for sort in SORT_FIELDS},
}
SORT_CHOICES = [*SORT_FIELDS, *(f"-{sort}" for sort in SORT_FIELDS), *SORT_ALIASES]
STATUS_CHOICES = ("all", "pending", "completed")


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
)
class DueBoundField(AwareDateTimeField):
    """An instant with its UTC offset, or a date alone (`2026-12-24`, as `due_date`
    takes it), which `parse_list_query` reads as that whole day in the user's zone."""

    default_error_messages = {"date": "Not a date: send YYYY-MM-DD, or a date-time with offset."}

    def to_internal_value(self, value: Any) -> datetime | date:  # type: ignore[override]
        if isinstance(value, str) and DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self.fail("date")
        return super().to_internal_value(value)


@extend_schema_field(
    {"anyOf": [{"type": "integer", "format": "int64", "minimum": 1}, {"enum": ["none"]}]}
)
class ParentFilterField(serializers.Field):
    """A task's id, or `none`: top-level tasks alone."""

    default_error_messages = {"invalid": "Send a task's id, or `none` for top-level tasks."}

    def to_internal_value(self, data: Any) -> int | None:
        if data == "none":
            return None
        if not isinstance(data, str) or not data.isascii() or not data.isdigit():
            self.fail("invalid")
        if len(data) > len(str(MAX_TASK_ID)) or not 0 < int(data) <= MAX_TASK_ID:
            self.fail("invalid")
        return int(data)


class PageQuery(serializers.Serializer):
    """The paging parameters of every keyset-paged list; unknown ones are ignored."""

    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    cursor = serializers.CharField(
        required=False,
        max_length=MAX_CURSOR_LENGTH,
        # URL-safe base64, so the schema can say which strings can't be cursors.
        validators=[RegexValidator(r"\A[A-Za-z0-9_-]+\Z", message=INVALID_CURSOR)],
        help_text='Opaque; take it from the `Link: rel="next"` header.',
    )


class TaskListQuery(PageQuery):
    """`GET /api/{user_id}/tasks` query parameters; unknown ones are ignored."""

    status = serializers.ChoiceField(choices=STATUS_CHOICES, default="all")
    list_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="Tasks of this list of yours (subtasks included); another id matches none.",
    )
    parent_id = ParentFilterField(
        required=False,
        help_text="Subtasks of this task (its children), or `none`: top-level tasks alone.",
    )
    search = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Case-insensitive match in title or description; empty matches all.",
    )
    priority = PriorityField(required=False)
    tag = StrictCharField(
        required=False, max_length=50, help_text="Tasks carrying this tag (case-insensitive)."
    )
    due_before = DueBoundField(
        required=False,
        help_text="Due strictly before this instant; a date alone: before that day begins "
        "in your `…/settings` time zone (UTC without one).",
    )
    due_after = DueBoundField(
        required=False,
        help_text="Due strictly after this instant; a date alone: after that day ends in "
        "your `…/settings` time zone (UTC without one), so an all-day task due that day is "
        "not after it.",
    )
    overdue = serializers.BooleanField(
        required=False, default=False, help_text="`true`: not completed and due before now."
    )
    sort = serializers.ChoiceField(
        choices=SORT_CHOICES,
        default="-created",
        help_text="Field to order by, `-` for descending (or `FIELD:asc`, `FIELD:desc`). "
        "`due_date` puts undated tasks last either way; ties break by id.",
    )


_LIST_QUERY = TaskListQuery()
_PAGE_QUERY = PageQuery()


def _utc() -> None:
    return None


def parse_list_query(
    params: dict[str, Any], *, owner_zone: Callable[[], str | None] = _utc
) -> dict[str, Any]:
    """Validated list parameters; DRF's ValidationError (a 400) names any bad one. A
    `sort` alias is its `-FIELD` form, and a date bound an instant: the start of its
    day (`due_before`), or its end (`due_after`), in `owner_zone()` (the user's zone;
    UTC unless given), asked only then.

    One shared TaskListQuery validates every request: instantiating a serializer
    deep-copies its fields, which costs more than the validation.
    """
    query: dict[str, Any] = _LIST_QUERY.run_validation(params)
    query["sort"] = SORT_ALIASES.get(query["sort"], query["sort"])
    days = {name: query[name] for name in ("due_before", "due_after") if _is_day(query.get(name))}
    if days:
        zone = owner_zone()
        if "due_before" in days:
            start = datetime.combine(days["due_before"], time.min)
            query["due_before"] = Due.local(start, zone).instant
        if "due_after" in days:
            query["due_after"] = Due.on_day(days["due_after"], zone).instant
    return query


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def parse_page_query(params: dict[str, str]) -> dict[str, Any]:
    """Paging parameters alone, validated as the list's are."""
    page: dict[str, Any] = _PAGE_QUERY.run_validation(params)
    return page


def parse_trash_query(params: dict[str, str]) -> dict[str, Any]:
    """The trash's query: its paging parameters validated as the list's are, in its
    one order, most recently deleted first."""
    page = parse_page_query(params)
    return {**page, "status": "all", "overdue": False, "sort": TRASH_SORT, "trash": True}


class ListDeleteQuery(serializers.Serializer):
    """`DELETE /api/{user_id}/lists/{id}` query parameters; unknown ones are ignored."""

    tasks = serializers.ChoiceField(
        choices=["trash", "move"],
        required=False,
        help_text="Where the list's live tasks go: `trash` (with it), or `move` (to the "
        "list `to`). Without it, a list that holds live tasks is a 409.",
    )
    to = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TASK_ID,
        help_text="With `tasks=move`: another of your lists.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("tasks") == "move") != ("to" in attrs):
            raise serializers.ValidationError({"to": ["Send `to` with `tasks=move`, alone."]})
        return attrs


_LIST_DELETE_QUERY = ListDeleteQuery()


def parse_list_delete_query(params: dict[str, str]) -> dict[str, Any]:
    """Validated list-delete parameters; a 400 names any bad one."""
    query: dict[str, Any] = _LIST_DELETE_QUERY.run_validation(params)
    return query


class ChangesQuery(serializers.Serializer):
    """`GET /api/{user_id}/changes` query parameters; unknown ones are ignored."""

    since = serializers.CharField(
        required=False,
        max_length=200,
        validators=[RegexValidator(r"\A[A-Za-z0-9_:.-]+\Z", message=UNKNOWN_SINCE)],
        help_text="The `next` of an earlier answer; none for a full sync.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=200)


_CHANGES_QUERY = ChangesQuery()


def parse_changes_query(params: dict[str, str]) -> dict[str, Any]:
    """Validated changes-feed parameters; a 400 names any bad one."""
    query: dict[str, Any] = _CHANGES_QUERY.run_validation(params)
    return query
