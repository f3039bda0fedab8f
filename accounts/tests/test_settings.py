"""`GET/PATCH /api/{user_id}/settings`: the user's time zone."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import BetterAuthUser

pytestmark = pytest.mark.django_db


def test_a_new_user_has_no_time_zone(api: APIClient) -> None:
    response = api.get("/api/me/settings")

    assert response.status_code == 200
    assert response.json() == {"time_zone": None}


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/ComodRivadavia"])
def test_patch_sets_an_iana_name_and_get_shows_it(api: APIClient, user_id: str, name: str) -> None:
    response = api.patch(f"/api/{user_id}/settings", {"time_zone": name}, format="json")

    assert response.status_code == 200
    assert response.json() == {"time_zone": name}
    assert api.get("/api/me/settings/").json() == {"time_zone": name}


def test_null_clears_it_and_an_empty_body_keeps_it(api: APIClient) -> None:
    api.patch("/api/me/settings", {"time_zone": "Asia/Tokyo"}, format="json")

    assert api.patch("/api/me/settings", {}, format="json").json() == {"time_zone": "Asia/Tokyo"}
    cleared = api.patch("/api/me/settings", {"time_zone": None}, format="json")
    assert cleared.json() == {"time_zone": None}


@pytest.mark.parametrize(
    "value", ["Mars/Olympus", "europe/berlin", "", "localtime", "../../etc/passwd", 5, ["UTC"]]
)
def test_anything_but_an_iana_name_is_400_naming_time_zone(api: APIClient, value: object) -> None:
    response = api.patch("/api/me/settings", {"time_zone": value}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "time_zone" in response.json()["errors"]
    assert "time_zone" in response.json()["detail"]
    assert api.get("/api/me/settings").json() == {"time_zone": None}


def test_another_users_settings_are_403(
    api: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    client_for("someone-else").patch("/api/me/settings", {"time_zone": "UTC"}, format="json")

    assert api.get("/api/someone-else/settings").status_code == 403
    assert (
        api.patch("/api/someone-else/settings", {"time_zone": "UTC"}, format="json").status_code
        == 403
    )
    assert BetterAuthUser.objects.get(id="someone-else").time_zone == "UTC"


def test_without_a_token_it_is_401() -> None:
    assert APIClient().get("/api/me/settings").status_code == 401


def test_put_and_delete_are_405(api: APIClient) -> None:
    assert api.put("/api/me/settings", {"time_zone": "UTC"}, format="json").status_code == 405
    assert api.delete("/api/me/settings").status_code == 405


def test_a_user_whose_mirror_row_is_gone_can_still_set_it(api: APIClient, user_id: str) -> None:
    api.get("/api/me/settings")
    BetterAuthUser.objects.filter(id=user_id).delete()  # through another worker

    assert api.patch("/api/me/settings", {"time_zone": "UTC"}, format="json").status_code == 200
    assert BetterAuthUser.objects.get(id=user_id).time_zone == "UTC"
