"""A task's `time_zone`: an IANA name or null, the owner's setting by default."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser
from tasks.models import Task

pytestmark = pytest.mark.django_db


def create(api: APIClient, **body: Any) -> Any:
    return api.post("/api/me/tasks", {"title": "Stand-up", **body}, format="json")


def set_zone(api: APIClient, name: str | None) -> None:
    assert api.patch("/api/me/settings", {"time_zone": name}, format="json").status_code == 200


def test_without_a_setting_a_new_task_has_no_zone(api: APIClient) -> None:
    assert create(api).json()["time_zone"] is None


def test_a_new_task_takes_the_users_zone_unless_it_names_one(api: APIClient) -> None:
    set_zone(api, "Europe/Berlin")

    assert create(api).json()["time_zone"] == "Europe/Berlin"
    assert create(api, time_zone=None).json()["time_zone"] == "Europe/Berlin"
    assert create(api, time_zone="Asia/Tokyo").json()["time_zone"] == "Asia/Tokyo"


def test_changing_the_setting_leaves_existing_tasks_in_their_zone(api: APIClient) -> None:
    set_zone(api, "Europe/Berlin")
    task = create(api).json()
    set_zone(api, "America/New_York")

    assert api.get(f"/api/me/tasks/{task['id']}").json()["time_zone"] == "Europe/Berlin"


def test_patch_changes_the_zone_and_null_makes_it_utc(api: APIClient) -> None:
    set_zone(api, "Europe/Berlin")
    task = create(api).json()

    moved = api.patch(f"/api/me/tasks/{task['id']}", {"time_zone": "Asia/Tokyo"}, format="json")
    assert (moved.json()["time_zone"], moved.json()["version"]) == ("Asia/Tokyo", 2)
    cleared = api.patch(f"/api/me/tasks/{task['id']}", {"time_zone": None}, format="json")
    assert cleared.json()["time_zone"] is None


@pytest.mark.parametrize("value", ["Mars/Olympus", "Europe/berlin", "", 1, {"name": "UTC"}])
def test_an_unknown_zone_is_400_naming_time_zone(api: APIClient, value: object) -> None:
    response = create(api, time_zone=value)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["time_zone"]
    assert not Task.objects.exists()


def test_bulk_create_and_update_take_zones_as_single_writes_do(api: APIClient) -> None:
    set_zone(api, "Europe/Berlin")
    created = api.post(
        "/api/me/tasks/bulk",
        {"action": "create", "tasks": [{"title": "a"}, {"title": "b", "time_zone": "UTC"}]},
        format="json",
    ).json()["tasks"]
    assert [t["time_zone"] for t in created] == ["Europe/Berlin", "UTC"]

    updated = api.post(
        "/api/me/tasks/bulk",
        {"action": "update", "ids": [t["id"] for t in created], "fields": {"time_zone": None}},
        format="json",
    ).json()["tasks"]
    assert [t["time_zone"] for t in updated] == [None, None]


def test_the_admins_forms_refuse_an_unknown_zone_too() -> None:
    for model in (Task, BetterAuthUser):
        field = model._meta.get_field("time_zone")
        field.run_validators("Europe/Berlin")
        with pytest.raises(ValidationError):
            field.run_validators("Mars/Olympus")
