"""Request ids, the per-request log line, security events, metrics; never a secret logged."""

import json
import logging
import os
from typing import Any

import pytest
from django.test import Client, RequestFactory
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from testing.tokens import TokenFactory
from todo_project.logformat import PlainFormatter
from todo_project.request_context import RequestIdFilter

pytestmark = pytest.mark.django_db


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Every captured record as the production JSON formatter writes it."""
    handler = logging.getLogger().handlers[0]
    return [json.loads(handler.format(record)) for record in caplog.records]


def test_every_response_carries_a_request_id(api: APIClient) -> None:
    first, second = api.get("/api/me/tasks"), api.get("/api/me/tasks")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept(api: APIClient) -> None:
    response = api.get("/api/me/tasks", HTTP_X_REQUEST_ID="trace-42.a_b:c")

    assert response["X-Request-ID"] == "trace-42.a_b:c"


@pytest.mark.parametrize("incoming", ["has space", "x" * 200, "<script>", "é"])
def test_an_odd_incoming_request_id_is_replaced(api: APIClient, incoming: str) -> None:
    response = api.get("/api/me/tasks", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming


def test_one_json_line_per_request(
    api: APIClient, user_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = api.get("/api/me/tasks/12345?secret=1", HTTP_X_REQUEST_ID="req-1")

    access = [line for line in json_lines(caplog) if line["logger"] == "todo_project.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["route"] == "/api/{user_id}/tasks/{pk}"
    assert line["status"] == response.status_code == 404
    assert line["user_id"] == user_id
    assert line["client"] == "127.0.0.1"
    assert line["queries"] >= 1
    assert line["duration_ms"] > 0
    assert "secret" not in json.dumps(line)


def test_refusals_are_security_events_with_reason_and_address(
    make_token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    expired = make_token("u1", exp=1)

    with caplog.at_level(logging.INFO):
        APIClient().get("/api/me/tasks", HTTP_AUTHORIZATION=f"Bearer {expired}")
        APIClient().get("/api/u2/tasks", HTTP_AUTHORIZATION=f"Bearer {make_token('u1')}")

    events = [line for line in json_lines(caplog) if line["logger"] == "todo_project.security"]
    assert [(e["status"], e["reason"]) for e in events] == [
        (401, "expired"),
        (403, "This token does not belong to the user in the URL."),
    ]
    assert all(e["client"] == "127.0.0.1" for e in events)


def test_plain_log_lines_carry_the_security_fields_too(
    make_token: TokenFactory, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """What `make run` prints (LOG_FORMAT=plain) says as much as the JSON lines."""
    plain = PlainFormatter(settings.LOGGING["formatters"]["plain"]["format"])
    caplog.handler.addFilter(RequestIdFilter())

    with caplog.at_level(logging.INFO):
        APIClient().get("/api/me/tasks", HTTP_AUTHORIZATION="Bearer x.y.z")
        APIClient().get("/api/u2/tasks", HTTP_AUTHORIZATION=f"Bearer {make_token('u1')}")

    refusals = [plain.format(r) for r in caplog.records if r.name == "todo_project.security"]
    assert "status=401 " in refusals[0]
    assert 'reason="malformed token"' in refusals[0]
    assert "client=127.0.0.1 method=GET path=/api/me/tasks user_id=None" in refusals[0]
    assert refusals[1].endswith("path=/api/u2/tasks user_id=u1")
    assert 'reason="This token does not belong to the user in the URL."' in refusals[1]


def test_plain_log_fields_cannot_forge_a_line() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "request refused", (), None)
    record.path = "/api/a\nINFO forged"
    record.request_id = "-"

    assert "\n" not in PlainFormatter("%(message)s").format(record)


def test_a_request_on_a_log_record_shows_its_path_never_its_query_string() -> None:
    """django.request attaches the request to its error lines; a query string may
    carry a live stream's ticket."""
    record = logging.LogRecord(
        "django.request", logging.ERROR, "", 0, "Internal Server Error", (), None
    )
    record.request = RequestFactory().get("/api/me/events?ticket=s3cret-ticket")
    handler = logging.getLogger().handlers[0]

    assert handler.filter(record)
    line = handler.format(record)

    assert "s3cret-ticket" not in line
    assert "GET /api/me/events" in line


def test_rate_limit_hits_are_security_events(
    api: APIClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.RATE_LIMIT_USER = "1/m"

    with caplog.at_level(logging.INFO):
        api.get("/api/me/tasks")
        api.get("/api/me/tasks")

    events = [line for line in json_lines(caplog) if line["logger"] == "todo_project.security"]
    assert [e["status"] for e in events] == [429]


def test_no_token_or_secret_ever_reaches_a_log_line(
    make_token: TokenFactory,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = make_token("u1", email="ann@example.com")
    forged = make_token("u1", key="not-the-secret-but-long-enough-000")
    tokens = [good, forged, good + "x", "garbage.token.value"]

    with caplog.at_level(logging.DEBUG):
        for token in tokens:
            client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
            client.get("/api/me/tasks")
            client.post("/api/me/tasks", {"title": token[:100]}, format="json")
            client.get(f"/api/other/tasks?cursor={token}")
        monkeypatch.setattr("tasks.queries.task_page", lambda **_: 1 / 0)
        crashing = APIClient(HTTP_AUTHORIZATION=f"Bearer {good}")
        crashing.raise_request_exception = False
        assert crashing.get("/api/me/tasks").status_code == 500

    written = "\n".join(json.dumps(line) for line in json_lines(caplog))
    written += "\n".join(caplog.text.splitlines())
    for secret in [*tokens, settings.BETTER_AUTH_SECRET, settings.SECRET_KEY, "Bearer"]:
        assert secret not in written


def test_metrics_are_served_to_allowed_addresses(api: APIClient) -> None:
    api.get("/api/me/tasks")

    response = Client().get("/metrics")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'http_request_duration_seconds_count{method="GET",route="/api/{user_id}/tasks"' in body
    assert "http_request_db_queries_bucket" in body


def test_metrics_need_the_token_from_elsewhere(settings: Any) -> None:
    settings.METRICS_TOKEN = "m" * 40
    outsider = Client(REMOTE_ADDR="203.0.113.9")

    assert outsider.get("/metrics").status_code == 403
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert outsider.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {'m' * 40}").status_code == 200


def test_unmatched_paths_share_one_route_label(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        Client().get("/no/such/path/123")

    assert json_lines(caplog)[-1]["route"] == "unmatched"


def test_made_up_methods_add_no_metric_series() -> None:
    def methods() -> set[str]:
        body = Client().get("/metrics").content.decode()
        return {
            sample.labels["method"]
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name == "http_request_duration_seconds_count"
        }

    client = Client()
    for index in range(100):
        client.generic(f"MADEUP{index}", "/api/me/tasks")

    assert "OTHER" in methods()
    assert methods() <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}


def test_log_records_keep_the_process_id_that_gunicorns_own_lines_show() -> None:
    # gunicorn formats its lines with "[%(process)d]" in the app's process, after
    # LOGGING_CONFIG (todo_project.logformat.configure) has run.
    record = logging.getLogger("gunicorn.error").makeRecord(
        "gunicorn.error", logging.INFO, __file__, 1, "Booting worker", (), None
    )
    line = logging.Formatter("[%(process)d] %(message)s").format(record)
    assert line == f"[{os.getpid()}] Booting worker"
