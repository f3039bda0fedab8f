"""A corpus of bad request bodies through every write route: a 4xx problem, never a 500,
and the stored data unchanged (read back afterwards)."""

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from tasks.filters import TaskListQuery
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from testing.live import fetch, live_service, live_token, service_env
from testing.postgres import database_independent, needs_postgres

pytestmark = pytest.mark.django_db

JSON = "application/json"
# (raw body, content type, the status every write route must answer)
CORPUS = {
    "NUL in a string": (b'{"title": "a\\u0000b", "completed": "\\u0000"}', JSON, 400),
    "lone surrogate": (b'{"title": "\\ud800", "completed": "\\udfff"}', JSON, 400),
    "invalid UTF-8": (b'{"title": "\xc3\x28", "completed": "\xff"}', JSON, 400),
    "10,000 levels of nesting": (b"[" * 10_000 + b"]" * 10_000, JSON, 400),
    "object nested 10,000 deep": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, JSON, 400),
    "huge numbers": (b'{"title": 1e400, "priority": 1e400, "completed": 1e400}', JSON, 400),
    "NaN": (b'{"title": NaN, "completed": NaN}', JSON, 400),
    "Infinity": (b'{"title": Infinity, "completed": -Infinity}', JSON, 400),
    "truncated JSON": (b'{"title": "x', JSON, 400),
    "a JSON array": (b'[{"title": "x"}]', JSON, 400),
    "a JSON string": (b'"title"', JSON, 400),
    "null": (b"null", JSON, 400),
    "wrong types everywhere": (
        b'{"title": {"a": 1}, "completed": [], "priority": 2, "tags": {}, "due_date": []}',
        JSON,
        400,
    ),
    "form encoded": (b"title=x&completed=true", "application/x-www-form-urlencoded", 415),
    "multipart": (b"--b\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", 415),
    "plain text": (b"title: x", "text/plain", 415),
    "XML": (b"<task><title>x</title></task>", "application/xml", 415),
    "no content type": (b'{"title": "x"}', "", 415),
    "over MAX_BODY_BYTES": (json.dumps({"title": "x" * 70_000}).encode(), JSON, 413),
    "100,000 tags": (json.dumps({"title": "x", "tags": ["t"] * 100_000}).encode(), JSON, 413),
}
ROUTES = {
    "create": ("POST", "/api/me/tasks"),
    "replace": ("PUT", "/api/me/tasks/{id}"),
    "change": ("PATCH", "/api/me/tasks/{id}"),
    "complete": ("PATCH", "/api/me/tasks/{id}/complete"),
}


def stored() -> list[Any]:
    return list(Task.objects.order_by("id").values())


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", CORPUS)
def test_bad_bodies_are_4xx_problems_and_change_nothing(
    api: APIClient, user_id: str, route: str, case: str
) -> None:
    task = TaskFactory.create(user_id=user_id, title="kept", tags=["home"])
    before = stored()
    body, content_type, status = CORPUS[case]
    method, path = ROUTES[route]

    response = api.generic(method, path.format(id=task.id), body, content_type=content_type)  # type: ignore[arg-type]

    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert stored() == before
    assert api.get(f"/api/me/tasks/{task.id}").json()["title"] == "kept"


@needs_postgres
def test_a_live_server_answers_the_corpus_and_stays_up(postgres_url: str) -> None:
    env = service_env(DATABASE_URL=postgres_url, RATE_LIMIT_USER="off")
    answers = {}
    with live_service(env) as base:
        token = live_token(env)
        _, _, created = fetch(f"{base}/api/me/tasks", token, method="POST", body={"title": "kept"})
        task = json.loads(created)
        for case, (body, content_type, _) in CORPUS.items():
            headers = {"Content-Type": content_type} if content_type else {}
            for route, (method, path) in ROUTES.items():
                url = base + path.format(id=task["id"])
                status, response_headers, _ = fetch(url, token, method=method, body=body, **headers)
                answers[case, route] = (status, response_headers["Content-Type"])
        _, _, after = fetch(f"{base}/api/me/tasks", token)

    assert answers == {
        (case, route): (CORPUS[case][2], "application/problem+json")
        for case in CORPUS
        for route in ROUTES
    }
    assert json.loads(after) == [task]


def test_100000_tags_within_a_raised_body_limit_are_a_400(api: APIClient, settings: Any) -> None:
    settings.MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000_000
    body = json.dumps({"title": "x", "tags": [f"t{i}" for i in range(100_000)]})

    response = api.generic("POST", "/api/me/tasks", body, content_type=JSON)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tags"]
    assert not Task.objects.exists()


# An empty body is no task: creating or replacing needs a title. A change or a
# completion without a body is the contract's `{}` and no-body cases.
EMPTY_BODY = {"create": 400, "replace": 400, "change": 200, "complete": 200}


@pytest.mark.parametrize("content_type", [JSON, ""])
@pytest.mark.parametrize("route", ROUTES)
def test_an_empty_body_is_what_no_fields_mean(
    api: APIClient, user_id: str, route: str, content_type: str
) -> None:
    task = TaskFactory.create(user_id=user_id, title="kept")
    method, path = ROUTES[route]

    response = api.generic(method, path.format(id=task.id), "", content_type=content_type)

    assert response.status_code == EMPTY_BODY[route], response.content[:300]
    if response.status_code == 400:
        assert list(response.json()["errors"]) == ["title"]
    task.refresh_from_db()
    assert task.title == "kept"
    assert task.completed is (route == "complete")
    assert Task.objects.count() == 1


def test_a_query_with_every_parameter_malformed_names_them_all(api: APIClient) -> None:
    malformed = {
        "status": "done",
        "list_id": "inbox",
        "parent_id": "top",
        "search": "a\x00b",
        "priority": "urgent",
        "tag": " ",
        "due_before": "yesterday",
        "due_after": "2030-01-01T00:00:00",
        "overdue": "maybe",
        "sort": "colour",
        "limit": "0",
        "cursor": "!",
    }

    response = api.get("/api/me/tasks", malformed)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == set(malformed) == set(TaskListQuery().fields)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"title": "x"', "The body is not valid JSON (line 1, column 14)."),
        (b'{\n  "title": "\xff"\n}', "The body is not valid JSON (line 2, column 13)."),
        (b'{"title": NaN}', "The body is not valid JSON: NaN and Infinity are not JSON numbers."),
        (
            b'{"n": ' + b"9" * 5000 + b"}",
            "The body is not valid JSON: a number has more than 4300 digits.",
        ),
        (b"[" * 10_000 + b"]" * 10_000, "The body is not valid JSON: it is nested too deeply."),
        (b'{"title": "\\ud800"}', "The body is not valid JSON: strings must be valid Unicode."),
        (b'["x"]', "The request body must be a JSON object."),
    ],
)
def test_parse_errors_answer_a_fixed_text(api: APIClient, body: bytes, detail: str) -> None:
    response = api.generic("POST", "/api/me/tasks", body, content_type=JSON)  # type: ignore[arg-type]

    assert response.status_code == 400
    assert response.json()["detail"] == detail


@database_independent
def test_a_chunked_body_is_411_never_read_as_empty(tmp_path: Path) -> None:
    env = service_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with live_service(env) as base:
        token = live_token(env)
        _, _, created = fetch(f"{base}/api/me/tasks", token, method="POST", body={"title": "kept"})
        task = json.loads(created)
        connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
        connection.request(
            "PATCH",
            f"/api/me/tasks/{task['id']}",
            body=iter([b'{"title": ', b'"changed"}']),  # no length: sent chunked
            headers={"Authorization": f"Bearer {token}", "Content-Type": JSON},
        )
        answer = connection.getresponse()
        problem = json.loads(answer.read())
        connection.close()
        _, _, after = fetch(f"{base}/api/me/tasks/{task['id']}", token)

    assert (answer.status, answer.headers["Content-Type"]) == (411, "application/problem+json")
    assert "Content-Length" in problem["detail"]
    assert json.loads(after)["title"] == "kept"
