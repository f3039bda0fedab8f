"""The schema's text rules say exactly what the serializers accept."""

import re
import sys
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tasks.schema import NO_NUL, NOT_ONLY_WHITESPACE

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = Client().get("/api/schema/?format=json", secure=True).json()
    return document


def test_not_only_whitespace_is_what_trimming_leaves_non_empty() -> None:
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        assert bool(re.search(NOT_ONLY_WHITESPACE, character)) is bool(character.strip()), hex(
            code_point
        )


def test_request_text_fields_carry_the_rules(schema: dict[str, Any]) -> None:
    body = schema["components"]["schemas"]["TaskRequest"]["properties"]
    query = {
        parameter["name"]: parameter["schema"]
        for parameter in schema["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
    }

    for trimmed_and_required in (body["title"], body["tags"]["items"], query["tag"]):
        assert trimmed_and_required["pattern"] == NOT_ONLY_WHITESPACE
        assert trimmed_and_required["not"] == NO_NUL["not"]
    for may_be_blank in (body["description"], query["search"]):
        assert "pattern" not in may_be_blank
        assert may_be_blank["not"] == NO_NUL["not"]


@pytest.mark.parametrize("blank", ["\x1e", "\u3000 \x85", "\t\x1c"])
def test_text_of_only_white_space_is_refused(api: APIClient, blank: str) -> None:
    assert api.post("/api/me/tasks", {"title": blank}, format="json").status_code == 400
    response = api.post("/api/me/tasks", {"title": "t", "tags": [blank]}, format="json")
    assert response.status_code == 400


def test_text_with_a_character_beyond_white_space_is_kept(api: APIClient) -> None:
    response = api.post("/api/me/tasks", {"title": " \u200b ", "tags": ["\ufeff"]}, format="json")

    assert response.status_code == 201
    assert response.json()["title"] == "\u200b"
