"""The task pages of the Django admin, for support staff."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tasks import services
from tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Find tasks by title or by their owner's e-mail, name or id; fix them in bulk."""

    list_display = ("title", "user", "completed", "priority", "due_date", "created_at")
    list_filter = ("completed", "priority", ("due_date", admin.DateFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("title", "user__email", "user__name", "=user__id")
    search_help_text = "Title, or the owner's e-mail, name or exact user id."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    raw_id_fields = ("user",)
    fields = (
        "user",
        "title",
        "description",
        "completed",
        "priority",
        "due_date",
        "tags",
        "completed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("completed_at", "created_at", "updated_at")
    actions = ("mark_completed", "mark_not_completed")

    def get_readonly_fields(self, request: HttpRequest, obj: Task | None = None) -> tuple[str, ...]:
        # A task never moves to another user.
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    @admin.action(description="Mark selected tasks completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        changed = services.tasks_set_completed(tasks=queryset, completed=True)
        self.message_user(request, f"{changed} task(s) marked completed.", messages.SUCCESS)

    @admin.action(description="Mark selected tasks not completed", permissions=["change"])
    def mark_not_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        changed = services.tasks_set_completed(tasks=queryset, completed=False)
        self.message_user(request, f"{changed} task(s) marked not completed.", messages.SUCCESS)
