"""The OpenAPI document, and docs pages that work with no other origin reachable."""

import re
from datetime import datetime
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT4
from rest_framework.test import APIClient

from todo_project import openapi

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/?format=json", secure=True)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_schema_generates_and_validates_without_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


def test_schema_is_yaml_by_default() -> None:
    response = Client().get("/api/schema/")

    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.oai.openapi+json"])
def test_schema_is_json_when_asked(accept: str) -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT=accept)

    assert response.json()["openapi"].startswith("3.")


def test_schema_needs_no_token_and_ignores_a_bad_one() -> None:
    assert Client().get("/api/schema/", HTTP_AUTHORIZATION="Bearer junk").status_code == 200


def test_paths_are_the_contracts(schema: dict[str, Any]) -> None:
    assert set(schema["paths"]) == {
        "/api/{user_id}/tasks",
        "/api/{user_id}/tasks/{id}",
        "/api/{user_id}/tasks/{id}/complete",
        "/api/{user_id}/tasks/{id}/move",
        "/api/{user_id}/tasks/{id}/completions",
        "/api/{user_id}/tasks/bulk",
        "/api/{user_id}/changes",
        "/api/{user_id}/lists",
        "/api/{user_id}/lists/{id}",
        "/api/{user_id}/lists/{id}/move",
        "/api/{user_id}/trash",
        "/api/{user_id}/trash/{id}",
        "/api/{user_id}/trash/{id}/restore",
        "/api/{user_id}/settings",
        "/api/{user_id}/notifications",
        "/api/{user_id}/notifications/{id}/read",
        "/api/{user_id}/push-subscriptions",
        "/api/{user_id}/push-subscriptions/{id}",
        "/api/push/public-key",
        "/api/{user_id}/chat",
        "/api/{user_id}/conversations",
        "/api/{user_id}/conversations/{id}",
        "/api/{user_id}/conversations/{id}/messages",
        "/api/{user_id}/webhooks",
        "/api/{user_id}/webhooks/{id}",
        "/api/{user_id}/webhooks/{id}/test",
        "/api/{user_id}/activity",
        "/api/{user_id}/events",
        "/api/{user_id}/events/ticket",
    }


# The live stream also takes a ticket (for EventSource) in place of the token.
TICKETS: dict[str, list[dict[str, list[str]]]] = {"/api/{user_id}/events": [{"StreamTicket": []}]}
# Routes every visitor may call, without a token.
PUBLIC_PATHS = {"/api/push/public-key"}


def test_every_users_operation_is_registered_and_every_registered_one_exists(
    schema: dict[str, Any],
) -> None:
    """A new route left out of openapi.OPERATIONS would lose its headers silently."""
    documented = {
        operation["operationId"]
        for path, operations in schema["paths"].items()
        if path.startswith("/api/{user_id}/")
        for operation in operations.values()
    }

    assert documented == set(openapi.OPERATIONS)


def test_every_operation_documents_bearer_auth_and_its_problems(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        for method, operation in operations.items():
            assert operation["security"] == [{"BetterAuthJWT": []}, *TICKETS.get(path, [])], (
                path,
                method,
            )
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (path, method)
            assert "application/problem+json" in responses["401"]["content"]
            assert "WWW-Authenticate" in responses["401"]["headers"]
            if "{id}" in path:
                assert "404" in responses, (path, method)


def test_the_push_key_needs_no_token_and_documents_its_problems(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/push/public-key"]["get"]

    assert "security" not in operation
    for status in ("429", "503"):
        assert "application/problem+json" in operation["responses"][status]["content"]


def test_list_documents_every_query_parameter_and_paging_headers(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/{user_id}/tasks"]["get"]

    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {
        "status",
        "list_id",
        "parent_id",
        "search",
        "priority",
        "tag",
        "due_before",
        "due_after",
        "overdue",
        "sort",
        "limit",
        "cursor",
    }
    assert set(operation["responses"]["200"]["headers"]) == {"Link", "X-Total-Count"}
    assert "400" in operation["responses"]


def test_create_documents_location_and_body_errors(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/{user_id}/tasks"]["post"]["responses"]

    assert "Location" in responses["201"]["headers"]
    assert {"400", "413", "415"} <= set(responses)


def test_task_operations_document_etags_and_conditions(schema: dict[str, Any]) -> None:
    task = schema["paths"]["/api/{user_id}/tasks/{id}"]
    complete = schema["paths"]["/api/{user_id}/tasks/{id}/complete"]["patch"]

    def headers(operation: dict[str, Any]) -> set[str]:
        return {p["name"] for p in operation["parameters"] if p["in"] == "header"}

    assert headers(task["get"]) == {"If-None-Match"}
    assert set(task["get"]["responses"]["304"]["headers"]) == {"ETag"}
    assert "ETag" in task["get"]["responses"]["200"]["headers"]
    for operation in (task["put"], task["patch"], task["delete"], complete):
        assert headers(operation) == {"If-Match"}
        assert "ETag" in operation["responses"]["412"]["headers"]
    assert "ETag" in schema["paths"]["/api/{user_id}/tasks"]["post"]["responses"]["201"]["headers"]


def test_a_created_task_links_to_every_operation_on_it(schema: dict[str, Any]) -> None:
    links = schema["paths"]["/api/{user_id}/tasks"]["post"]["responses"]["201"]["links"]
    item_operations = {
        operation["operationId"]
        for path, operations in schema["paths"].items()
        if path.startswith("/api/{user_id}/tasks/{id}")
        for operation in operations.values()
    }

    assert {link["operationId"] for link in links.values()} == item_operations
    for link in links.values():
        assert link["parameters"]["id"] == "$response.body#/id"


ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_everything_from_this_service(page: str) -> None:
    client = Client()
    response = client.get(page)
    html = response.content.decode()

    assert response.status_code == 200
    assert "//" not in html.replace("<!DOCTYPE", "")
    # The CSP allows no inline script: every script is a file of this service.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assets = ASSET.findall(html)
    assert assets
    for asset in assets:
        assert asset.startswith(("/static/", f"{page}?")), asset
        assert client.get(asset.replace("&amp;", "&")).status_code == 200, asset


def test_swagger_ui_does_not_call_the_online_validator() -> None:
    script = Client().get("/api/docs/?script=")

    assert script["Content-Type"].startswith("application/javascript")
    html = script.content.decode()
    assert '"validatorUrl": null' in html


def test_swagger_ui_keeps_no_pasted_token_in_the_browser() -> None:
    script = Client().get("/api/docs/?script=").content.decode()

    assert '"persistAuthorization": false' in script


def test_the_document_is_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    openapi._schema.cache_clear()
    openapi._document.cache_clear()
    built = []
    generate = SchemaGenerator.get_schema

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return generate(*args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)

    for accept in ["application/vnd.oai.openapi", "application/json"] * 2:
        assert Client().get("/api/schema/", HTTP_ACCEPT=accept).status_code == 200

    assert len(built) == 1


@pytest.mark.parametrize(
    "path",
    ["/api/schema/", "/api/docs/", "/api/docs/?script=", "/api/redoc/", "/healthz", "/readyz"],
)
def test_public_pages_count_against_the_anonymous_rate_limit(settings: Any, path: str) -> None:
    settings.RATE_LIMIT_ANON = "2/m"
    client = Client()

    statuses = [client.get(path).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert client.get(path)["Content-Type"] == "application/problem+json"


# What an answer may leave out: a reminder holds the one of `before_minutes` and `at`
# it was sent with, a bulk answer `tasks` or (for `delete`) `ids`, a problem `errors`
# unless it is a validation error.
SOMETIMES_ABSENT = {
    "Reminder": {"before_minutes", "at"},
    "BulkResult": {"tasks", "ids"},
    "Problem": {"errors"},
}


def test_every_response_field_that_is_always_there_is_required(schema: dict[str, Any]) -> None:
    responses = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if not name.endswith("Request") and "properties" in component
    }

    assert {"Task", "TrashedTask", "Notification", "PushSubscription", "Changes"} <= set(responses)
    for name, component in responses.items():
        optional = set(component["properties"]) - set(component["required"])
        assert optional == SOMETIMES_ABSENT.get(name, set()), name


def test_a_task_answer_holds_exactly_the_required_fields(
    schema: dict[str, Any], api: APIClient
) -> None:
    task = api.post("/api/me/tasks", {"title": "Shape"}, format="json").json()

    assert set(task) == set(schema["components"]["schemas"]["Task"]["required"])
    assert task["due_date"] is None  # required, and nullable
    assert schema["components"]["schemas"]["Task"]["properties"]["due_date"]["nullable"]


FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    """RFC 3339's date-time (jsonschema checks it only with a package not installed)."""
    return not isinstance(value, str) or (
        "T" in value.upper() and datetime.fromisoformat(value).tzinfo is not None
    )


def admits(schema: dict[str, Any], component: str, body: Any) -> bool:
    """Whether the document's `component` schema admits `body`, formats checked."""
    registry = Registry().with_resource("urn:document", DRAFT4.create_resource(schema))
    validator = Draft4Validator(
        {"$ref": f"urn:document#/components/schemas/{component}"},
        registry=registry,
        format_checker=FORMATS,
    )
    return validator.is_valid(body)


def test_a_reminder_sent_holds_exactly_one_of_before_minutes_and_at(
    schema: dict[str, Any],
) -> None:
    at = "2030-01-01T09:00:00Z"

    assert admits(schema, "ReminderRequest", {"before_minutes": 30})
    assert admits(schema, "ReminderRequest", {"at": at})
    assert not admits(schema, "ReminderRequest", {"before_minutes": 30, "at": at})
    assert not admits(schema, "ReminderRequest", {})


def test_a_move_needs_a_body_with_exactly_one_place(schema: dict[str, Any]) -> None:
    assert schema["paths"]["/api/{user_id}/tasks/{id}/move"]["post"]["requestBody"]["required"]
    assert admits(schema, "MoveRequest", {"to": "top"})
    assert not admits(schema, "MoveRequest", {})
    assert not admits(schema, "MoveRequest", {"before": 3, "to": "top"})


@pytest.mark.parametrize(
    ("endpoint", "admitted"),
    [
        ("https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91b", True),
        ("http://push.example.com/send/1", False),
        ("https://push.example.com/a b", False),
        ("push.example.com/send/1", False),
    ],
)
def test_a_push_endpoint_is_https(schema: dict[str, Any], endpoint: str, admitted: bool) -> None:
    keys = {"p256dh": "BAyjCLU4BlJe", "auth": "tBHItJI5svbpez7KI4CCXg"}

    assert admits(schema, "NewPushSubscriptionRequest", {"endpoint": endpoint, "keys": keys}) is (
        admitted
    )


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=MO,WE",
        "RRULE:FREQ=MONTHLY;BYDAY=-1FR",
        "INTERVAL=2;FREQ=DAILY;COUNT=10",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;UNTIL=20301231T170000Z",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=+1",
    ],
)
def test_the_recurrence_pattern_admits_every_rule_the_server_takes(
    schema: dict[str, Any], api: APIClient, rule: str
) -> None:
    body = {"title": "Series", "due_date": "2030-01-01T09:00:00Z", "recurrence": rule}

    assert api.post("/api/me/tasks", body, format="json").status_code == 201
    assert admits(schema, "TaskRequest", body)


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;", "freq=daily", "FREQ:DAILY", "FREQ=DAILY; COUNT=2", "FREQ=HOURLY=1"]
)
def test_the_recurrence_pattern_refuses_what_is_no_rrule(
    schema: dict[str, Any], api: APIClient, rule: str
) -> None:
    body = {"title": "Series", "due_date": "2030-01-01T09:00:00Z", "recurrence": rule}

    assert api.post("/api/me/tasks", body, format="json").status_code == 400
    assert not admits(schema, "TaskRequest", body)


def test_an_empty_due_date_is_admitted_in_requests_alone(schema: dict[str, Any]) -> None:
    assert admits(schema, "TaskRequest", {"title": "Form", "due_date": ""})
    assert admits(schema, "PatchedTaskRequest", {"due_date": "2026-12-24"})
    assert not admits(schema, "TaskRequest", {"title": "Form", "due_date": "tomorrow"})
    assert {"type": "string", "enum": [""]}.items() <= (
        schema["components"]["schemas"]["TaskRequest"]["properties"]["due_date"]["anyOf"][2].items()
    )
    assert len(schema["components"]["schemas"]["Task"]["properties"]["due_date"]["anyOf"]) == 2


def test_if_match_takes_entity_tags(schema: dict[str, Any]) -> None:
    patch = schema["paths"]["/api/{user_id}/tasks/{id}"]["patch"]
    (header,) = [p for p in patch["parameters"] if p["name"] == "If-Match"]
    pattern = header["schema"]["pattern"]

    for value in ['"3"', 'W/"3", "4"', "*", ' "3" ']:
        assert re.search(pattern, value), value
    for value in ["3", '"3', "W/3", '"3" junk', ""]:
        assert not re.search(pattern, value), value
    assert "400" in patch["responses"]


def test_the_list_documents_sort_aliases_and_date_bounds(schema: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert {"-created", "created:desc", "due_date:asc"} <= set(parameters["sort"]["enum"])
    for bound in ("due_before", "due_after"):
        assert {form["format"] for form in parameters[bound]["anyOf"]} == {"date", "date-time"}


@pytest.mark.parametrize(
    ("body", "admitted"),
    [
        ({"action": "create", "tasks": [{"title": "Milk"}]}, True),
        ({"action": "create"}, False),
        ({"action": "create", "tasks": [{}]}, False),
        ({"action": "complete", "ids": ["ID"]}, True),
        ({"action": "complete"}, False),
        ({"action": "complete", "ids": ["ID"], "where": {}}, False),
        ({"action": "delete", "where": {"status": "completed", "due_before": "2026-12-24"}}, True),
        ({"action": "delete", "where": {"colour": "red"}}, False),
        ({"action": "update", "ids": ["ID"], "fields": {"priority": "low"}}, True),
        ({"action": "update", "ids": ["ID"]}, False),
        ({"action": "update", "ids": ["ID"], "fields": {}}, False),
        ({"action": "update", "ids": ["ID"], "fields": {"title": "All the same"}}, False),
        ({"action": "update", "ids": ["ID"], "fields": {"due_date": "2026-12-24"}}, False),
        (
            {
                "action": "update",
                "ids": ["ID"],
                "fields": {"due_date": "2026-12-24", "time_zone": "Europe/Berlin"},
            },
            True,
        ),
    ],
)
def test_a_bulk_body_admitted_is_one_the_server_takes(
    schema: dict[str, Any], api: APIClient, body: dict[str, Any], admitted: bool
) -> None:
    task = api.post("/api/me/tasks", {"title": "Bulk"}, format="json").json()
    if "ids" in body:
        body = {**body, "ids": [task["id"]]}

    response = api.post("/api/me/tasks/bulk", body, format="json")

    assert admits(schema, "BulkRequestRequest", body) is admitted
    assert (response.status_code < 300) is admitted, response.json()
