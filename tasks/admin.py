from django.contrib import admin

from tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Support staff find a user's tasks by owner id or title."""

    list_display = ("title", "user_id", "completed", "priority", "due_date", "created_at")
    list_filter = ("completed", "priority")
    search_fields = ("title", "=user_id")
    readonly_fields = ("completed_at", "created_at", "updated_at")
