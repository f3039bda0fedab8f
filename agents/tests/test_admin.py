"""Support staff in the Django admin read a user's conversations with the agent, with
their messages and tool calls, and change nothing."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_support_reads_a_users_conversation_and_cannot_change_it() -> None:
    staff = User.objects.create_user("sam", password="a support password 123", is_staff=True)
    staff.groups.add(Group.objects.get(name="support"))
    support = Client()
    support.force_login(staff)
    customer = UserFactory.create(id="Yk3uJ0bq8XyW2mQp", email="ann@example.com")
    conversation = Conversation.objects.create(user=customer, title="Groceries")
    Message.objects.create(conversation=conversation, role="user", content="Add oat milk")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="Added it.",
        tool_calls=[{"id": "call_1", "name": "add_task", "arguments": {}, "result": {}}],
    )
    user_page = support.get(reverse("admin:accounts_betterauthuser_change", args=[customer.id]))
    listing_url = (
        reverse("admin:agents_conversation_changelist") + f"?user__id__exact={customer.id}"
    )
    assert listing_url in user_page.content.decode()
    assert "Groceries" in support.get(listing_url).content.decode()
    page_url = reverse("admin:agents_conversation_change", args=[conversation.id])

    page = support.get(page_url)
    changed = support.post(page_url, {"title": "Changed"})
    deleted = support.post(reverse("admin:agents_conversation_delete", args=[conversation.id]))

    assert page.status_code == 200
    assert "Add oat milk" in page.content.decode()
    assert "add_task" in page.content.decode()
    assert changed.status_code == 403
    assert deleted.status_code == 403
    conversation.refresh_from_db()
    assert conversation.title == "Groceries"
    assert conversation.messages.count() == 2
