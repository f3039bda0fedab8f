"""The admin's door, through its real sign-in form (with its CSRF token): a lockout after
10 failures per username or per address, security log lines, password rules, session
length, and support lifting a lockout."""

import logging
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def sign_in(client: Client, username: str, password: str) -> Any:
    """What a browser does: load the form, then post it with its CSRF token."""
    form = client.get(reverse("admin:login")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token
    return client.post(
        reverse("admin:login"),
        {
            "username": username,
            "password": password,
            "next": "/admin/",
            "csrfmiddlewaretoken": token[1],
        },
    )


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("sam", password=PASSWORD, is_staff=True)


def test_the_right_password_signs_in(staff: User) -> None:
    assert sign_in(Client(enforce_csrf_checks=True), "sam", PASSWORD).status_code == 302


def test_ten_failures_lock_the_username_out_even_with_the_right_password(staff: User) -> None:
    attempts = [
        sign_in(Client(enforce_csrf_checks=True, REMOTE_ADDR=f"203.0.113.{n}"), "sam", "wrong")
        for n in range(10)
    ]
    right = sign_in(Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.1"), "sam", PASSWORD)

    assert all(a.status_code == 200 and b'name="password"' in a.content for a in attempts[:9])
    assert right.status_code == 429
    assert b"Too many failed sign-ins" in right.content
    assert b'name="password"' not in right.content


def test_ten_failures_from_one_address_lock_it_out_for_every_username(staff: User) -> None:
    client = Client(enforce_csrf_checks=True)
    for n in range(10):
        sign_in(client, f"guess{n}", "wrong")

    assert sign_in(client, "sam", PASSWORD).status_code == 429
    other_address = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.7")
    assert sign_in(other_address, "sam", PASSWORD).status_code == 302


def test_each_failure_and_the_lockout_are_security_events(
    staff: User, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.INFO):
        for _ in range(11):
            sign_in(client, "sam", "a wrong password")

    events = [r for r in caplog.records if r.name == "todo_project.security"]
    reasons = [event.reason for event in events]  # type: ignore[attr-defined]
    assert reasons.count("wrong username or password") == 9
    assert "locked out after too many failures" in reasons
    assert {event.username for event in events} == {"sam"}  # type: ignore[attr-defined]
    assert {event.client for event in events} == {"127.0.0.1"}  # type: ignore[attr-defined]
    assert "a wrong password" not in caplog.text


def test_support_sees_and_lifts_a_lockout(staff: User) -> None:
    for _ in range(10):
        sign_in(Client(enforce_csrf_checks=True), "sam", "wrong")
    support = User.objects.create_user("sue", password=PASSWORD, is_staff=True)
    support.groups.add(Group.objects.get(name="support"))
    desk = Client()
    desk.force_login(support)

    listing = desk.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert b"sam" in listing.content
    attempt_ids = re.findall(r'name="_selected_action" value="(\d+)"', listing.content.decode())
    lifted = desk.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempt_ids, "post": "yes"},
    )

    assert lifted.status_code == 302
    assert sign_in(Client(enforce_csrf_checks=True), "sam", PASSWORD).status_code == 302


@pytest.mark.parametrize("password", ["123", "password", "sam12345", "87654321"])
def test_staff_passwords_pass_djangos_validators(password: str) -> None:
    with pytest.raises(ValidationError):
        password_validation.validate_password(password, User(username="sam"))


@pytest.mark.parametrize("password", ["admin", "support1", "12345678"])
def test_createsuperuser_noinput_refuses_a_weak_password(
    password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        call_command("createsuperuser", "--noinput", username="support", email="s@example.com")

    assert not User.objects.exists()


def test_createsuperuser_noinput_takes_a_strong_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command(
        "createsuperuser", "--noinput", username="support", email="s@example.com", verbosity=0
    )

    assert User.objects.get(username="support").check_password(PASSWORD)


def test_a_staff_session_ends_after_admin_session_hours(staff: User) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, "sam", PASSWORD)

    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert client.session.get_expiry_age() == 8 * 3600
