"""`manage.py issue_token`: tokens the service itself accepts."""

from io import StringIO
from typing import Any

import jwt
import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def issue(*args: str) -> str:
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def test_issued_token_is_accepted_for_that_user() -> None:
    token = issue("demo-user")

    response = APIClient().get("/api/demo-user/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200


def test_issued_token_carries_the_configured_claims(settings: Any) -> None:
    settings.JWT_ISSUER = settings.JWT_AUDIENCE = "https://auth.example.com"

    token = issue("u1", "--ttl", "60", "--email", "a@example.com", "--algorithm", "HS512")

    claims = jwt.decode(
        token,
        settings.BETTER_AUTH_SECRET,
        algorithms=["HS512"],
        audience="https://auth.example.com",
    )
    assert claims["sub"] == "u1"
    assert claims["iss"] == "https://auth.example.com"
    assert claims["email"] == "a@example.com"
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize("args", [("u1", "--algorithm", "RS256"), ("u1", "--ttl", "0")])
def test_bad_options_are_command_errors(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        issue(*args)
