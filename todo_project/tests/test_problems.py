"""Errors from every layer are RFC 9457 problem+json under /api/, and leak nothing."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tasks import selectors

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_unknown_api_path_is_404_problem(api: APIClient) -> None:
    assert_problem(api.get("/api/me/projects"), 404)
    assert_problem(Client().get("/api/nothing/here"), 404)


def test_unknown_path_outside_the_api_is_djangos_page() -> None:
    response = Client().get("/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_unsupported_method_is_405_problem(api: APIClient) -> None:
    body = assert_problem(api.delete("/api/me/tasks"), 405)

    assert "DELETE" in body["detail"]


def test_body_over_the_limit_is_413_problem(api: APIClient, settings: Any) -> None:
    settings.MAX_BODY_BYTES = 100

    response = api.post("/api/me/tasks", {"title": "x" * 200}, format="json")

    assert_problem(response, 413)


def test_non_numeric_content_length_is_400_problem(api: APIClient) -> None:
    assert_problem(api.post("/api/me/tasks", CONTENT_LENGTH="lots"), 400)


def test_unacceptable_accept_header_is_406_problem(api: APIClient) -> None:
    assert_problem(api.get("/api/me/tasks", HTTP_ACCEPT="application/xml"), 406)


def test_validation_problem_names_fields(api: APIClient) -> None:
    body = assert_problem(api.post("/api/me/tasks", {"tags": ["", "ok"]}, format="json"), 400)

    assert set(body["errors"]) == {"title", "tags.0"}


def test_unexpected_error_is_500_problem_without_internals(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**_kwargs: Any) -> None:
        raise RuntimeError("SELECT secret FROM settings")

    monkeypatch.setattr(selectors, "task_list", explode)
    api.raise_request_exception = False

    response = api.get("/api/me/tasks")

    assert_problem(response, 500)
    assert b"SELECT" not in response.content
    assert b"Traceback" not in response.content


def test_disallowed_host_is_400_problem() -> None:
    assert_problem(Client(HTTP_HOST="evil.example.com").get("/api/me/tasks"), 400)
