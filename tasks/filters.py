"""The list's query parameters: parsed and validated, a 400 naming any bad one."""

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from tasks.changes import UNKNOWN_SINCE
from tasks.pagination import INVALID_CURSOR, MAX_CURSOR_LENGTH
from tasks.queries import SORT_FIELDS, TRASH_SORT
from tasks.serializers import AwareDateTimeField, PriorityField, StrictCharField

SORT_CHOICES = [*SORT_FIELDS, *(f"-{sort}" for sort in SORT_FIELDS)]
STATUS_CHOICES = ("all", "pending", "completed")


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
    due_before = AwareDateTimeField(required=False, help_text="Due strictly before this instant.")
    due_after = AwareDateTimeField(required=False, help_text="Due strictly after this instant.")
    overdue = serializers.BooleanField(
        required=False, default=False, help_text="`true`: not completed and due before now."
    )
    sort = serializers.ChoiceField(
        choices=SORT_CHOICES,
        default="-created",
        help_text="Field to order by, `-` for descending. `due_date` puts undated tasks "
        "last either way; ties break by id.",
    )


_LIST_QUERY = TaskListQuery()
_PAGE_QUERY = PageQuery()


def parse_list_query(params: dict[str, str]) -> dict[str, Any]:
    """Validated list parameters; DRF's ValidationError (a 400) names any bad one.

    One shared TaskListQuery validates every request: instantiating a serializer
    deep-copies its fields, which costs more than the validation.
    """
    query: dict[str, Any] = _LIST_QUERY.run_validation(params)
    return query


def parse_page_query(params: dict[str, str]) -> dict[str, Any]:
    """Paging parameters alone, validated as the list's are."""
    page: dict[str, Any] = _PAGE_QUERY.run_validation(params)
    return page


def parse_trash_query(params: dict[str, str]) -> dict[str, Any]:
    """The trash's query: its paging parameters validated as the list's are, in its
    one order, most recently deleted first."""
    page = parse_page_query(params)
    return {**page, "status": "all", "overdue": False, "sort": TRASH_SORT, "trash": True}


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
