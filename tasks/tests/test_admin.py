"""Support staff in the Django admin: find a user by e-mail, fix their tasks, see their
lists and subtasks, no more."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from accounts.models import BetterAuthUser
from accounts.tests.factories import UserFactory
from tasks import queries
from tasks.models import Notification, Task, TaskList
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a support password 123"


@pytest.fixture
def customer() -> BetterAuthUser:
    user = UserFactory.create(id="Yk3uJ0bq8XyW2mQp", email="ann@example.com", name="Ann")
    TaskFactory.create(user_id=user.id, title="Pay rent")
    TaskFactory.create(user_id=user.id, title="Call mum")
    TaskFactory.create(user_id="someone-else", title="Not Ann's")
    return user


def test_support_logs_in_through_the_login_page() -> None:
    User.objects.create_user("sam", password=PASSWORD, is_staff=True)

    response = Client().post(
        reverse("admin:login"), {"username": "sam", "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302


def test_support_finds_a_user_by_email(support: Client, customer: BetterAuthUser) -> None:
    response = support.get(
        reverse("admin:accounts_betterauthuser_changelist"), {"q": "ann@example"}
    )

    assert response.status_code == 200
    assert customer.id in response.content.decode()


def test_support_sees_a_users_tasks(support: Client, customer: BetterAuthUser) -> None:
    user_page = support.get(reverse("admin:accounts_betterauthuser_change", args=[customer.id]))
    tasks_url = reverse("admin:tasks_task_changelist") + f"?user__id__exact={customer.id}"
    assert tasks_url in user_page.content.decode()

    listing = support.get(tasks_url).content.decode()

    assert "Pay rent" in listing
    assert "Call mum" in listing
    assert "Not Ann" not in listing


def test_support_finds_tasks_by_owner_email(support: Client, customer: BetterAuthUser) -> None:
    listing = support.get(reverse("admin:tasks_task_changelist"), {"q": "ann@example.com"})

    assert "Pay rent" in listing.content.decode()


def test_support_completes_tasks_in_bulk(support: Client, customer: BetterAuthUser) -> None:
    ids = list(Task.objects.filter(user_id=customer.id).values_list("id", flat=True))

    response = support.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "mark_completed", "_selected_action": ids},
    )

    assert response.status_code == 302
    for task in Task.objects.filter(id__in=ids):
        assert task.completed
        assert task.completed_at is not None


def test_support_completes_one_task_in_its_form(support: Client, customer: BetterAuthUser) -> None:
    task = Task.objects.get(title="Pay rent")
    url = reverse("admin:tasks_task_change", args=[task.id])

    response = support.post(
        url,
        {
            "title": task.title,
            "description": "",
            "completed": "on",
            "priority": task.priority,
            "tags": "[]",
            "repeat_from": "due",
            "reminders": "[]",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert task.completed
    assert task.completed_at is not None
    assert task.user_id == customer.id


@pytest.mark.parametrize(
    "url",
    [
        lambda c: reverse("admin:accounts_betterauthuser_delete", args=[c.id]),
        lambda c: (
            reverse("admin:accounts_betterauthuser_change", args=[c.id]) + "?_changelist_filters="
        ),
        lambda c: reverse(
            "admin:tasks_task_delete", args=[Task.objects.filter(user_id=c.id)[0].id]
        ),
        lambda c: reverse("admin:auth_user_changelist"),
        lambda c: reverse("admin:auth_group_change", args=[Group.objects.get(name="support").id]),
    ],
)
def test_support_cannot_delete_or_change_permissions(
    support: Client, customer: BetterAuthUser, url: Any
) -> None:
    response = support.post(url(customer), {"post": "yes", "email": "evil@example.com"})

    assert response.status_code == 403
    assert BetterAuthUser.objects.get(id=customer.id).email == "ann@example.com"
    assert Task.objects.filter(user_id=customer.id).count() == 2


def test_user_fields_are_read_only_even_for_superusers(customer: BetterAuthUser) -> None:
    admin = User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(admin)

    page = client.get(reverse("admin:accounts_betterauthuser_change", args=[customer.id]))

    assert 'name="email"' not in page.content.decode()
    assert client.get(reverse("admin:accounts_betterauthuser_add")).status_code == 403


def test_support_group_has_exactly_the_least_privilege() -> None:
    permissions = Group.objects.get(name="support").permissions.values_list(
        "content_type__app_label", "codename"
    )

    assert sorted(permissions) == [
        ("accounts", "view_betterauthuser"),
        ("agents", "view_conversation"),
        ("agents", "view_message"),
        ("axes", "delete_accessattempt"),
        ("axes", "view_accessattempt"),
        ("delivery", "view_delivery"),
        ("delivery", "view_event"),
        ("delivery", "view_pushattempt"),
        ("delivery", "view_pushfailure"),
        ("delivery", "view_pushsubscription"),
        ("delivery", "view_webhook"),
        ("tasks", "change_task"),
        ("tasks", "view_notification"),
        ("tasks", "view_task"),
        ("tasks", "view_taskcompletion"),
        ("tasks", "view_tasklist"),
    ]


@pytest.mark.parametrize("race", [False, True])
def test_an_add_beyond_the_task_cap_is_refused(
    customer: BetterAuthUser, settings: Any, monkeypatch: pytest.MonkeyPatch, race: bool
) -> None:
    """A form error; or, when another create took the last place after the form's
    check (as if the form had read 0), a 403."""
    settings.MAX_TASKS_PER_USER = 2
    if race:
        monkeypatch.setattr("tasks.admin.queries.tasks_held", lambda _user_id: 0)
    root = Client()
    root.force_login(User.objects.create_superuser("root", password=PASSWORD))

    response = root.post(
        reverse("admin:tasks_task_add"),
        {
            "user": customer.id,
            "title": "Third",
            "priority": 2,
            "tags": "[]",
            "repeat_from": "due",
            "reminders": "[]",
        },
    )

    assert response.status_code == (403 if race else 200)
    assert race or "as many tasks as one account may hold" in response.content.decode()
    assert Task.objects.filter(user_id=customer.id).count() == 2


def test_support_moves_tasks_to_the_trash_and_back_stepping_their_versions(
    support: Client, customer: BetterAuthUser
) -> None:
    task = Task.objects.get(title="Pay rent")
    changelist = reverse("admin:tasks_task_changelist")

    support.post(changelist, {"action": "move_to_trash", "_selected_action": [task.id]})
    trashed = Task.objects.get(id=task.id)
    page = support.get(changelist, {"deleted_at__isempty": "0"}).content.decode()
    support.post(changelist, {"action": "restore_from_trash", "_selected_action": [task.id]})

    assert trashed.deleted_at is not None
    assert "Pay rent" in page
    assert "Call mum" not in page
    restored = Task.objects.get(id=task.id)
    assert (restored.deleted_at, restored.version) == (None, 3)


def test_a_task_in_the_trash_is_read_only_in_the_admin(
    support: Client, customer: BetterAuthUser
) -> None:
    task = Task.objects.get(title="Pay rent")
    Task.objects.filter(id=task.id).update(deleted_at=task.created_at)

    page = support.get(reverse("admin:tasks_task_change", args=[task.id])).content.decode()

    assert 'name="title"' not in page


def test_support_sees_a_users_notifications_read_only(
    support: Client, customer: BetterAuthUser
) -> None:
    task = Task.objects.filter(user_id=customer.id).first()
    assert task is not None
    notification = Notification.objects.create(
        user=customer,
        task=task,
        title=task.title,
        remind_at=task.created_at,
        fired_at=task.created_at,
    )

    listing = support.get(reverse("admin:tasks_notification_changelist"), {"q": customer.email})

    assert task.title in listing.content.decode()
    change = reverse("admin:tasks_notification_change", args=[notification.id])
    assert 'name="title"' not in support.get(change).content.decode()


def test_a_rule_the_task_cant_keep_is_a_form_error_not_a_500(
    support: Client, customer: BetterAuthUser
) -> None:
    task = Task.objects.get(title="Pay rent")

    response = support.post(
        reverse("admin:tasks_task_change", args=[task.id]),
        {
            "title": task.title,
            "description": "",
            "priority": task.priority,
            "tags": "[]",
            "recurrence": "FREQ=DAILY",
            "repeat_from": "due",
            "reminders": "[]",
        },
    )

    assert response.status_code == 200
    assert "A recurring task needs a due_date." in response.content.decode()
    assert Task.objects.get(id=task.id).recurrence is None


def test_support_sees_app_users_apart_from_staff_users(support: Client) -> None:
    index = support.get(reverse("admin:index")).content.decode()

    assert "App users" in index
    assert index.count(">Users<") <= 1  # django.contrib.auth's staff users, if shown


def test_due_dates_are_labelled_with_their_zone(support: Client, customer: BetterAuthUser) -> None:
    moment = Task.objects.get(title="Pay rent")
    moment.due_date = datetime(2026, 12, 24, 17, 30, tzinfo=UTC)
    moment.save()

    page = support.get(reverse("admin:tasks_task_changelist")).content.decode()
    form = support.get(reverse("admin:tasks_task_change", args=[moment.pk])).content.decode()

    assert "times in UTC" in page
    assert "2026-12-24 17:30 UTC" in page
    assert "In UTC, whatever the user's time zone." in form


def _subtask_of(parent: Task, title: str) -> Task:
    return TaskFactory.create(
        user_id=parent.user_id, title=title, list_id=parent.list_id, parent_id=parent.id
    )


def test_support_sees_a_users_lists_with_their_counts(
    support: Client, customer: BetterAuthUser
) -> None:
    groceries = queries.list_create(user_id=customer.id, fields={"name": "Groceries"})
    TaskFactory.create(user_id=customer.id, title="Oat milk", list_id=groceries.id)
    user_page = support.get(reverse("admin:accounts_betterauthuser_change", args=[customer.id]))
    lists_url = reverse("admin:tasks_tasklist_changelist") + f"?user__id__exact={customer.id}"
    assert lists_url in user_page.content.decode()

    listing = support.get(lists_url).content.decode()

    assert "Groceries" in listing
    assert '<td class="field-task_count">2</td>' in listing  # the Inbox: rent and mum
    assert '<td class="field-task_count">1</td>' in listing
    assert listing.count("field-is_inbox") == 2  # Ann's lists alone: not someone-else's


def test_support_finds_lists_by_owner_name(support: Client, customer: BetterAuthUser) -> None:
    queries.list_create(user_id=customer.id, fields={"name": "Groceries"})

    listing = support.get(reverse("admin:tasks_tasklist_changelist"), {"q": "Ann"})

    assert "Groceries" in listing.content.decode()


def test_a_lists_page_links_to_its_tasks(support: Client, customer: BetterAuthUser) -> None:
    groceries = queries.list_create(user_id=customer.id, fields={"name": "Groceries"})
    TaskFactory.create(user_id=customer.id, title="Oat milk", list_id=groceries.id)
    page = support.get(reverse("admin:tasks_tasklist_change", args=[groceries.id]))
    tasks_url = reverse("admin:tasks_task_changelist") + f"?list__id__exact={groceries.id}"
    assert tasks_url in page.content.decode()

    listing = support.get(tasks_url).content.decode()

    assert "Oat milk" in listing
    assert "Pay rent" not in listing


@pytest.mark.parametrize(
    "url",
    [
        lambda task_list: reverse("admin:tasks_tasklist_add"),
        lambda task_list: reverse("admin:tasks_tasklist_change", args=[task_list.id]),
        lambda task_list: reverse("admin:tasks_tasklist_delete", args=[task_list.id]),
    ],
)
def test_lists_are_read_only_even_for_superusers(customer: BetterAuthUser, url: Any) -> None:
    """A list's writes keep rules (the Inbox stays; its tasks leave it first) that only
    the API applies."""
    root = Client()
    root.force_login(User.objects.create_superuser("root", password=PASSWORD))
    inbox = TaskList.objects.get(user_id=customer.id, is_inbox=True)

    response = root.post(url(inbox), {"post": "yes", "name": "Renamed"})

    assert response.status_code == 403
    assert TaskList.objects.get(id=inbox.id).name == "Inbox"


def test_a_subtasks_page_links_to_its_list_and_parent(
    support: Client, customer: BetterAuthUser
) -> None:
    parent = Task.objects.get(title="Pay rent")
    subtask = _subtask_of(parent, "Find the IBAN")

    page = support.get(reverse("admin:tasks_task_change", args=[subtask.id])).content.decode()

    assert reverse("admin:tasks_tasklist_change", args=[parent.list_id]) in page
    assert reverse("admin:tasks_task_change", args=[parent.id]) in page
    assert 'name="list"' not in page
    assert 'name="parent"' not in page


def test_a_tasks_page_links_to_its_subtasks(support: Client, customer: BetterAuthUser) -> None:
    parent = Task.objects.get(title="Pay rent")
    first = _subtask_of(parent, "Find the IBAN")
    second = _subtask_of(parent, "Sign the transfer")
    queries.task_trash(user_id=customer.id, task_id=second.id)

    page = support.get(reverse("admin:tasks_task_change", args=[parent.id])).content.decode()

    assert (
        f'<a href="{reverse("admin:tasks_task_change", args=[first.id])}">Find the IBAN</a>' in page
    )
    assert "Sign the transfer</a> (in the trash)" in page


def test_past_the_shown_subtasks_a_tasks_page_links_to_all_of_them(
    support: Client, customer: BetterAuthUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.admin.SUBTASKS_SHOWN", 1)
    parent = Task.objects.get(title="Pay rent")
    _subtask_of(parent, "Find the IBAN")
    _subtask_of(parent, "Sign the transfer")
    page = support.get(reverse("admin:tasks_task_change", args=[parent.id])).content.decode()
    all_url = reverse("admin:tasks_task_changelist") + f"?parent__id__exact={parent.id}"
    assert "Sign the transfer" not in page
    assert all_url in page

    listing = support.get(all_url).content.decode()

    assert "Find the IBAN" in listing
    assert "Sign the transfer" in listing
    assert "Call mum" not in listing


def test_support_filters_top_level_tasks(support: Client, customer: BetterAuthUser) -> None:
    _subtask_of(Task.objects.get(title="Pay rent"), "Find the IBAN")

    listing = support.get(reverse("admin:tasks_task_changelist"), {"parent__isempty": "1"})

    assert "Pay rent" in listing.content.decode()
    assert "Find the IBAN" not in listing.content.decode()


def test_completing_a_parent_in_bulk_completes_its_subtasks(
    support: Client, customer: BetterAuthUser
) -> None:
    parent = Task.objects.get(title="Pay rent")
    subtask = _subtask_of(parent, "Find the IBAN")

    support.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "mark_completed", "_selected_action": [parent.id]},
    )

    assert Task.objects.get(id=subtask.id).completed


def test_a_task_added_in_the_admin_goes_to_its_owners_inbox(customer: BetterAuthUser) -> None:
    root = Client()
    root.force_login(User.objects.create_superuser("root", password=PASSWORD))
    assert 'name="list"' not in root.get(reverse("admin:tasks_task_add")).content.decode()

    response = root.post(
        reverse("admin:tasks_task_add"),
        {
            "user": customer.id,
            "title": "Water the plants",
            "priority": 2,
            "tags": "[]",
            "repeat_from": "due",
            "reminders": "[]",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    added = Task.objects.get(title="Water the plants")
    assert added.list == TaskList.objects.get(user_id=customer.id, is_inbox=True)
    assert added.parent_id is None


def test_a_task_deleted_in_the_admin_leaves_its_subtasks_top_level_as_a_change(
    customer: BetterAuthUser,
) -> None:
    """Each subtask steps its version, so the changes feed hands it out again."""
    parent = Task.objects.get(title="Pay rent")
    subtask = _subtask_of(parent, "Find the IBAN")
    root = Client()
    root.force_login(User.objects.create_superuser("root", password=PASSWORD))

    response = root.post(reverse("admin:tasks_task_delete", args=[parent.id]), {"post": "yes"})

    assert response.status_code == 302
    lifted = Task.objects.get(id=subtask.id)
    assert (lifted.parent_id, lifted.version) == (None, 2)
