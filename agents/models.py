"""A user's conversations with the chat endpoint's agent, kept so that the server stays
stateless: any web process, after any restart, goes on with one."""

from django.db import models


class Conversation(models.Model):
    """One conversation of a user's with the agent."""

    user = models.ForeignKey("accounts.BetterAuthUser", on_delete=models.CASCADE, db_index=False)
    # The first message's opening words, for a list of conversations.
    title = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # A user's conversations, newest first (`GET …/conversations`).
        indexes = [models.Index(fields=["user", "-id"], name="conversation_user")]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    """One message of a conversation: the user's, or the agent's answer with the tool
    calls it made on the way (`[{"id", "name", "arguments", "result"}]`)."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField(blank=True, default="")
    tool_calls = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "id"], name="message_conversation")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:50]}"
