"""The chat's pages of the Django admin: support staff read a user's conversations
with the agent, each with its messages and the tool calls made, and change nothing
(the messages are the user's record of what was said and done)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agents.models import Conversation, Message
from tasks.admin import ReadOnlyAdmin


class MessageInline(admin.TabularInline):
    """A conversation's messages, oldest first, read-only."""

    model = Message
    fields = ("created_at", "role", "content", "tool_calls")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    """Each user's conversations, newest first; find them by the owner's e-mail or id."""

    list_display = ("title", "user", "created_at", "updated_at")
    list_select_related = ("user",)
    list_filter = ("updated_at",)
    search_fields = ("title", "user__email", "=user__id")
    search_help_text = "Title, or the owner's e-mail or exact user id."
    ordering = ("-id",)
    fields = ("user", "title", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [MessageInline]
