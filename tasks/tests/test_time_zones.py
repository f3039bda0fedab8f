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


# --- Local date-times: `due_date` without an offset, read in the task's zone ---------


def test_a_local_due_date_is_read_in_the_tasks_zone_and_answered_in_utc(api: APIClient) -> None:
    winter = create(api, time_zone="Europe/Berlin", due_date="2026-12-20T17:00").json()
    summer = create(api, time_zone="Europe/Berlin", due_date="2026-07-20T17:00:00").json()

    assert winter["due_date"] == "2026-12-20T16:00:00Z"
    assert summer["due_date"] == "2026-07-20T15:00:00Z"


def test_on_create_the_users_zone_reads_it_when_the_task_names_none(api: APIClient) -> None:
    set_zone(api, "America/New_York")

    assert create(api, due_date="2026-12-20T17:00").json()["due_date"] == "2026-12-20T22:00:00Z"


def test_without_any_zone_a_local_due_date_is_400_saying_what_to_do(api: APIClient) -> None:
    response = create(api, due_date="2026-12-20T17:00")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["due_date"]
    assert "offset" in response.json()["detail"]
    assert "time_zone" in response.json()["detail"]
    assert not Task.objects.exists()


def test_patch_reads_it_in_the_zone_sent_else_in_the_tasks(api: APIClient) -> None:
    task = create(api, time_zone="Asia/Tokyo").json()
    url = f"/api/me/tasks/{task['id']}"

    in_tasks_zone = api.patch(url, {"due_date": "2026-12-20T09:00"}, format="json").json()
    assert in_tasks_zone["due_date"] == "2026-12-20T00:00:00Z"
    both = api.patch(url, {"due_date": "2026-12-20T09:00", "time_zone": "UTC"}, format="json")
    assert both.json()["due_date"] == "2026-12-20T09:00:00Z"
    cleared = api.patch(url, {"due_date": "2026-12-20T09:00", "time_zone": None}, format="json")
    assert cleared.status_code == 400


def test_a_local_due_date_on_a_missing_task_is_404(api: APIClient) -> None:
    response = api.patch("/api/me/tasks/999999", {"due_date": "2026-12-20T09:00"}, format="json")

    assert response.status_code == 404


def test_a_time_the_spring_forward_skips_moves_forward_by_the_gap(api: APIClient) -> None:
    # Berlin's clocks go from 02:00 to 03:00 on 2026-03-29: 02:30 is 03:30 CEST.
    task = create(api, time_zone="Europe/Berlin", due_date="2026-03-29T02:30").json()

    assert task["due_date"] == "2026-03-29T01:30:00Z"


def test_a_time_the_fall_back_repeats_is_its_first(api: APIClient) -> None:
    # On 2026-10-25 Berlin has 02:30 twice, first at +02:00.
    task = create(api, time_zone="Europe/Berlin", due_date="2026-10-25T02:30").json()

    assert task["due_date"] == "2026-10-25T00:30:00Z"


def test_bulk_update_takes_a_local_due_date_only_with_the_zone_to_read_it_in(
    api: APIClient,
) -> None:
    ids = [create(api, time_zone="Asia/Tokyo").json()["id"] for _ in range(2)]

    def update(fields: dict[str, Any]) -> Any:
        body = {"action": "update", "ids": ids, "fields": fields}
        return api.post("/api/me/tasks/bulk", body, format="json")

    refused = update({"due_date": "2026-12-20T09:00"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["fields.due_date"]
    written = update({"due_date": "2026-12-20T09:00", "time_zone": "Europe/Berlin"}).json()
    assert {t["due_date"] for t in written["tasks"]} == {"2026-12-20T08:00:00Z"}


def test_the_list_filters_still_need_an_offset(api: APIClient) -> None:
    response = api.get("/api/me/tasks?due_before=2026-12-20T09:00")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["due_before"]


@pytest.mark.parametrize(
    "value",
    ["20261220T1700", "2026-W51-1T09:00", "2026-12-20 17:00", "2026-12-20T17"],
)
def test_a_local_due_date_is_only_what_a_date_time_picker_sends(api: APIClient, value: str) -> None:
    response = create(api, time_zone="Europe/Berlin", due_date=value)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["due_date"]
