"""Errors from every layer are RFC 9457 problem+json under /api/, and leak nothing."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404
from django.test import Client, RequestFactory
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from tasks import queries
from todo_project import problems

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


def test_validation_detail_names_each_field_with_its_first_message(api: APIClient) -> None:
    """Many frontends show `detail` alone."""
    body = api.post("/api/me/tasks", {"title": " ", "priority": "urgent"}, format="json").json()

    assert body["detail"] == (
        'title: This field may not be blank.; priority: "urgent" is not a valid choice.'
    )


def test_unexpected_error_is_500_problem_without_internals(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**_kwargs: Any) -> None:
        raise RuntimeError("SELECT secret FROM settings")

    monkeypatch.setattr(queries, "task_page", explode)
    api.raise_request_exception = False

    response = api.get("/api/me/tasks")

    assert_problem(response, 500)
    assert b"SELECT" not in response.content
    assert b"Traceback" not in response.content


def test_disallowed_host_is_400_problem() -> None:
    assert_problem(Client(HTTP_HOST="evil.example.com").get("/api/me/tasks"), 400)


@pytest.mark.parametrize(
    ("error", "status"), [(Http404, 404), (PermissionDenied, 403), (ValidationError("x"), 400)]
)
def test_djangos_own_exceptions_in_a_view_become_problems(
    api: APIClient, monkeypatch: pytest.MonkeyPatch, error: Any, status: int
) -> None:
    def fail(**_kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(queries, "task_page", fail)

    body = assert_problem(api.get("/api/me/tasks"), status)

    if status == 400:
        assert body["errors"] == {"non_field_errors": ["x"]}


@pytest.mark.parametrize(
    ("view", "status"),
    [
        (problems.bad_request_view, 400),
        (problems.permission_denied_view, 403),
        (problems.not_found_view, 404),
    ],
)
def test_error_views_answer_problems_under_api_and_html_elsewhere(view: Any, status: int) -> None:
    factory = RequestFactory()

    api_response = view(factory.get("/api/x"), Exception())
    admin_response = view(factory.get("/admin/x"), Exception())

    assert (api_response.status_code, api_response["Content-Type"]) == (status, PROBLEM)
    assert admin_response.status_code == status
    assert admin_response["Content-Type"].startswith("text/html")


def test_server_error_view_is_html_outside_the_api() -> None:
    response = problems.server_error_view(RequestFactory().get("/admin/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "content_type"), [("/api/me/tasks", PROBLEM), ("/admin/", "text/html")]
)
def test_a_database_failure_outside_drf_is_503_with_retry_after(
    path: str, content_type: str
) -> None:
    """A middleware (the session, the admin's lockout check) can meet the outage first."""
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = problems.server_error_view(RequestFactory().get(path))

    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == "5"
    assert b"closed" not in response.content
