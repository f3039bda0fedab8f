"""The task pages of the Django admin, for support staff.

Saves and bulk actions write through `tasks.queries`, as the API does, so the
server-managed fields follow the same rules (a restore from here steps the version
and reaches the changes feed like one from the API; completing a task completes its
subtasks). Deleting here is for good; a deleted task's live subtasks become top-level
through `tasks.queries` first, so each steps its version and reaches the changes feed.
A task's list and parent are shown, not edited: a task added here goes to its owner's
Inbox. Lists are shown alone: their writes keep rules (the Inbox stays, a list's tasks
leave it first) that only the API and `tasks.queries.lists` apply.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from rest_framework.exceptions import ValidationError

from tasks import queries
from tasks.exceptions import TaskLimitReached
from tasks.models import Task, TaskCompletion, TaskList
from tasks.serializers import ReminderListField, TagListField


class TaskForm(forms.ModelForm):
    """The model's form, with the API's rules for tags (at most 20 of 1..50 characters,
    case-insensitive repeats folded) and reminders, and its cap on a user's tasks."""

    class Meta:
        model = Task
        fields = ("user", *queries.WRITABLE_FIELDS)
        help_texts = {"due_date": "In UTC, whatever the user's time zone."}

    def clean(self) -> dict[str, Any]:
        super().clean()
        owner = self.cleaned_data.get("user") or getattr(self.instance, "user", None)
        if (
            self.instance.pk is None
            and owner is not None
            and queries.tasks_held(owner.pk) >= settings.MAX_TASKS_PER_USER
        ):
            raise forms.ValidationError(TaskLimitReached.default_detail)
        if owner is not None and not self.errors:
            try:  # the rules of the task's time (a rule needs a due date, and so on)
                queries.task_check_write(
                    user_id=owner.pk, task_id=self.instance.pk, fields=self.written_fields()
                )
            except ValidationError as error:
                for field, messages in error.detail.items():  # type: ignore[union-attr]
                    self.add_error(field if field in self.fields else None, _messages(messages))
        return self.cleaned_data

    def written_fields(self) -> dict[str, Any]:
        """The task fields this form writes: all of a new task's, a task's changed ones."""
        return {
            name: self.cleaned_data[name]
            for name in queries.WRITABLE_FIELDS
            if name in self.cleaned_data and (self.instance.pk is None or name in self.changed_data)
        }

    def clean_tags(self) -> list[str]:
        return _validated(TagListField(), self.cleaned_data["tags"])

    def clean_reminders(self) -> list[dict[str, Any]]:
        return _validated(ReminderListField(), self.cleaned_data["reminders"])


def _validated(field: Any, value: Any) -> Any:
    """`value` as the API's `field` takes it, its errors as the form's."""
    try:
        return field.run_validation(value)
    except ValidationError as error:
        raise forms.ValidationError(_messages(error.detail)) from None


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [
            f"Item {index + 1}: {message}"
            for index, errors in detail.items()
            for message in _messages(errors)
        ]
    return [str(message) for message in detail]


# A task's page links this many of its subtasks, and the task list for all of them.
SUBTASKS_SHOWN = 20


def _changelist_of_tasks(**lookups: Any) -> str:
    """The admin's task list filtered by `lookups` (`list__id__exact=7`)."""
    return f"{reverse('admin:tasks_task_changelist')}?{urlencode(lookups)}"


def _lift_subtasks_of(task_ids: list[int]) -> None:
    """Make top-level, by the API's rules, the live subtasks of `task_ids` that aren't
    deleted with them: the deletion's own SET NULL would write them without a version
    step, so a syncing client would keep a parent that is gone."""
    staying = Task.objects.filter(parent_id__in=task_ids, deleted_at__isnull=True).exclude(
        id__in=task_ids
    )
    for task_id, user_id in staying.order_by("id").values_list("id", "user_id"):
        queries.task_place(user_id=user_id, task_id=task_id, parent_id=None)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Find tasks by title or by their owner's e-mail, name or id; fix them in bulk."""

    form = TaskForm
    list_display = (
        "title",
        "user",
        "list",
        "completed",
        "priority",
        "due",
        "created_at",
        "in_trash",
    )
    list_filter = (
        "completed",
        ("deleted_at", admin.EmptyFieldListFilter),
        ("parent", admin.EmptyFieldListFilter),
        "priority",
        ("due_date", admin.DateFieldListFilter),
        "created_at",
    )
    list_select_related = ("user", "list")
    search_fields = ("title", "user__email", "user__name", "=user__id")
    search_help_text = "Title, or the owner's e-mail, name or exact user id."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    raw_id_fields = ("user",)
    # Where the task is, moved by the API's rules alone (tasks.queries.tree).
    place_fields = ("list", "parent", "subtask_links")
    server_fields = (
        "completed_at",
        "next_remind_at",
        "created_at",
        "updated_at",
        "version",
        "position",
        "deleted_at",
    )
    readonly_fields = (*place_fields, *server_fields)
    actions = ("mark_completed", "mark_not_completed", "move_to_trash", "restore_from_trash")

    @admin.display(description="Due", ordering="due_date")
    def due(self, task: Task) -> str:
        """An all-day task's date, or the moment, labelled with its zone."""
        if task.due_day is not None:
            return f"{task.due_day:%Y-%m-%d} (all day)"
        if task.due_date is None:
            return "-"
        return f"{task.due_date:%Y-%m-%d %H:%M} UTC"

    @admin.display(boolean=True, description="In the trash", ordering="deleted_at")
    def in_trash(self, task: Task) -> bool:
        return task.deleted_at is not None

    @admin.display(description="subtasks")
    def subtask_links(self, task: Task) -> str:
        """Its subtasks in their order (those in the trash too), linked; past
        SUBTASKS_SHOWN, a link to all of them in the task list."""
        subtasks = list(task.subtasks.order_by("position", "id")[: SUBTASKS_SHOWN + 1])
        if not subtasks:
            return "-"
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a>{}</li>',
            (
                (
                    reverse("admin:tasks_task_change", args=[subtask.pk]),
                    subtask.title,
                    " (in the trash)" if subtask.deleted_at else "",
                )
                for subtask in subtasks[:SUBTASKS_SHOWN]
            ),
        )
        more = ""
        if len(subtasks) > SUBTASKS_SHOWN:
            more = format_html(
                '<a href="{}">All subtasks of this task</a>',
                _changelist_of_tasks(parent__id__exact=task.pk),
            )
        return format_html("<ul>{}</ul>{}", items, more)

    def get_fields(self, request: HttpRequest, obj: Task | None = None) -> tuple[str, ...]:
        # A new task has no place to show yet: it goes to its owner's Inbox.
        place = self.place_fields if obj is not None else ()
        return ("user", *place, *queries.WRITABLE_FIELDS, *self.server_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Task | None = None) -> tuple[str, ...]:
        # A task never moves to another user; one in the trash is restored before it
        # is edited, as in the API.
        if obj is not None and obj.deleted_at is not None:
            return ("user", *queries.WRITABLE_FIELDS, *self.readonly_fields)
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    def delete_model(self, request: HttpRequest, obj: Task) -> None:
        with transaction.atomic():
            _lift_subtasks_of([obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        with transaction.atomic():
            _lift_subtasks_of(list(queryset.values_list("id", flat=True)))
            super().delete_queryset(request, queryset)

    def save_model(
        self, request: HttpRequest, obj: Task, form: forms.ModelForm, change: bool
    ) -> None:
        assert isinstance(form, TaskForm)
        fields = form.written_fields()
        if not change:
            try:
                obj.pk = queries.task_insert(user_id=obj.user_id, fields=fields)["id"]
            except TaskLimitReached:
                # Another create took the last place after the form's check.
                raise PermissionDenied(TaskLimitReached.default_detail) from None
        elif queries.task_update(user_id=obj.user_id, task_id=obj.pk, fields=fields) is None:
            raise Http404("The task was deleted while it was being edited.")
        obj.refresh_from_db()

    @admin.action(description="Mark selected tasks completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Mark selected tasks not completed", permissions=["change"])
    def mark_not_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=False)

    @admin.action(description="Move selected tasks to the trash", permissions=["change"])
    def move_to_trash(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        count = queries.tasks_set_trashed(
            task_ids=queryset.values_list("id", flat=True), trashed=True
        )
        self.message_user(request, f"{count} task(s) moved to the trash.", messages.SUCCESS)

    @admin.action(description="Restore selected tasks from the trash", permissions=["change"])
    def restore_from_trash(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        task_ids = queryset.values_list("id", flat=True)
        count = queries.tasks_set_trashed(task_ids=task_ids, trashed=False)
        self.message_user(request, f"{count} task(s) restored from the trash.", messages.SUCCESS)

    def _set_completed(
        self, request: HttpRequest, queryset: QuerySet[Task], *, completed: bool
    ) -> None:
        task_ids = queryset.values_list("id", flat=True)
        count = queries.tasks_set_completed(task_ids=task_ids, completed=completed)
        state = "completed" if completed else "not completed"
        self.message_user(request, f"{count} task(s) marked {state}.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the service alone writes: support staff look, and change nothing."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TaskCompletion)
class TaskCompletionAdmin(ReadOnlyAdmin):
    """The completed occurrences of recurring tasks."""

    list_display = ("task", "due_date", "completed_at")
    list_select_related = ("task",)
    search_fields = ("task__title", "=task__user__id")
    ordering = ("-completed_at", "-id")


@admin.register(TaskList)
class TaskListAdmin(ReadOnlyAdmin):
    """Each user's lists, in their order, with their kept counts and a way to their
    tasks. Shown alone: renames, moves and deletes are the user's, through the API."""

    list_display = ("name", "user", "is_inbox", "task_count", "open_count", "updated_at")
    list_filter = ("is_inbox",)
    list_select_related = ("user",)
    search_fields = ("name", "user__email", "user__name", "=user__id")
    search_help_text = "List name, or the owner's e-mail, name or exact user id."
    ordering = ("user_id", "position", "id")
    fields = (
        "user",
        "name",
        "color",
        "is_inbox",
        "task_count",
        "open_count",
        "tasks_link",
        "position",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="tasks")
    def tasks_link(self, task_list: TaskList) -> str:
        return format_html(
            '<a href="{}">See and fix the tasks of this list</a>',
            _changelist_of_tasks(list__id__exact=task_list.pk),
        )
