"""Recurring tasks and all-day due dates (contract Part 3): the rules on local
wall-clock time, and what completing a recurring task does through the API."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from tasks import recurrence
from tasks.due_dates import Due

pytestmark = pytest.mark.django_db
BERLIN = "Europe/Berlin"
PAST = datetime(2000, 1, 1)


def series(rule: str, start: datetime, zone: str | None, count: int) -> list[Due]:
    """The next `count` due dates after `start` (wall-clock in `zone`), each
    occurrence completed on time."""
    parts = recurrence.parse_parts(rule)
    end = recurrence.until(parts, zone, all_day=False)
    found: list[Due] = []
    done = 0
    for _ in range(count):
        following = recurrence.next_occurrence(
            parts, start=start, done=done, now=PAST, end=end, all_day=False
        )
        if following is None:
            break
        start, used = following
        done += used
        found.append(Due.local(start, zone))
    return found


def local(due: Due, zone: str = BERLIN) -> datetime:
    return due.instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def test_every_monday_0900_berlin_keeps_its_wall_clock_across_both_dst_changes() -> None:
    mondays = series("FREQ=WEEKLY;BYDAY=MO", datetime(2026, 1, 5, 9), BERLIN, 52)

    assert all(local(due).time().hour == 9 and local(due).weekday() == 0 for due in mondays)
    offsets = {due.instant.astimezone(ZoneInfo(BERLIN)).utcoffset() for due in mondays}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # winter and summer time
    assert local(mondays[11]) == datetime(2026, 3, 30, 9)  # the day after spring forward
    assert mondays[11].instant == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert mondays[42].instant == datetime(2026, 11, 2, 8, tzinfo=UTC)  # after fall back


def test_bymonthday_31_skips_months_without_a_31st() -> None:
    dues = series("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 1, 31, 18), BERLIN, 4)

    days = [local(due).date() for due in dues]
    assert days == [date(2026, 3, 31), date(2026, 5, 31), date(2026, 7, 31), date(2026, 8, 31)]


def test_bymonthday_minus_1_is_the_last_day_of_each_month() -> None:
    dues = series("FREQ=MONTHLY;BYMONTHDAY=-1", datetime(2026, 1, 31, 18), BERLIN, 3)

    assert [local(due).date() for due in dues] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_the_last_friday_of_each_month() -> None:
    dues = series("FREQ=MONTHLY;BYDAY=-1FR", datetime(2026, 1, 30, 16), BERLIN, 3)

    assert [local(due).date() for due in dues] == [
        date(2026, 2, 27),
        date(2026, 3, 27),
        date(2026, 4, 24),
    ]


def test_a_gap_time_moves_forward_by_the_gap_that_day_alone() -> None:
    spring_forward, after = series("FREQ=DAILY", datetime(2026, 3, 28, 2, 30), BERLIN, 2)

    # 02:30 does not exist on 29 March in Berlin: it is 03:30 CEST; the next day 02:30.
    assert spring_forward.instant == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(spring_forward) == datetime(2026, 3, 29, 3, 30)
    assert local(after) == datetime(2026, 3, 30, 2, 30)


@pytest.mark.parametrize(
    ("rule", "count"), [("FREQ=DAILY;COUNT=3", 2), ("FREQ=DAILY;UNTIL=20260104T235959Z", 3)]
)
def test_count_and_until_end_the_series(rule: str, count: int) -> None:
    assert len(series(rule, datetime(2026, 1, 1, 9), "UTC", 10)) == count


def test_a_completed_overdue_daily_task_jumps_to_the_next_future_occurrence() -> None:
    following = recurrence.next_occurrence(
        recurrence.parse_parts("FREQ=DAILY;COUNT=20"),
        start=datetime(2026, 6, 1, 9),
        done=0,
        now=datetime(2026, 6, 10, 12),
        end=None,
        all_day=False,
    )

    # The nine missed occurrences and the one due count toward COUNT.
    assert following == (datetime(2026, 6, 11, 9), 10)


# --- Through the API -----------------------------------------------------------------


def create(api: APIClient, **body: Any) -> Any:
    response = api.post("/api/me/tasks", {"title": "Stand-up", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def complete(api: APIClient, task: dict[str, Any], body: Any = None) -> Any:
    return api.patch(f"/api/me/tasks/{task['id']}/complete", body, format="json").json()


def test_an_all_day_due_date_is_answered_as_the_date_and_due_at_the_end_of_its_day(
    api: APIClient,
) -> None:
    task = create(api, due_date="2027-01-15", time_zone=BERLIN)
    early = create(api, title="Before", due_date="2027-01-15T22:59:00Z")
    late = create(api, title="After", due_date="2027-01-15T23:00:00Z")

    assert task["due_date"] == "2027-01-15"
    listed = api.get("/api/me/tasks", {"sort": "due_date"}).json()
    assert [t["id"] for t in listed] == [early["id"], task["id"], late["id"]]
    before = api.get("/api/me/tasks", {"due_before": "2027-01-15T23:00:00Z"}).json()
    assert {t["id"] for t in before} == {early["id"], task["id"]}


def test_changing_an_all_day_tasks_zone_moves_it_to_the_end_of_its_day_there(
    api: APIClient,
) -> None:
    task = create(api, due_date="2027-01-15", time_zone="Asia/Tokyo")

    api.patch(f"/api/me/tasks/{task['id']}", {"time_zone": "America/New_York"}, format="json")

    after = api.get("/api/me/tasks", {"due_after": "2027-01-15T15:00:00Z"}).json()
    assert [t["id"] for t in after] == [task["id"]]
    assert after[0]["due_date"] == "2027-01-15"


def test_completing_a_recurring_task_moves_it_to_the_next_occurrence_and_records_it(
    api: APIClient,
) -> None:
    task = create(
        api, due_date="2027-03-22T09:00", time_zone=BERLIN, recurrence="FREQ=WEEKLY;BYDAY=MO"
    )

    done = complete(api, task)

    assert (done["completed"], done["completed_at"]) == (False, None)
    assert done["due_date"] == "2027-03-29T07:00:00Z"  # 09:00 CEST
    assert done["version"] == task["version"] + 1
    completions = api.get(f"/api/me/tasks/{task['id']}/completions").json()
    assert [c["due_date"] for c in completions] == ["2027-03-22T08:00:00Z"]


@pytest.mark.parametrize(
    "how",
    [
        lambda api, task: api.patch(f"/api/me/tasks/{task['id']}/complete", None, format="json"),
        lambda api, task: api.patch(
            f"/api/me/tasks/{task['id']}/complete", {"completed": True}, format="json"
        ),
        lambda api, task: api.patch(
            f"/api/me/tasks/{task['id']}", {"completed": True}, format="json"
        ),
        lambda api, task: api.post(
            "/api/me/tasks/bulk", {"action": "complete", "ids": [task["id"]]}, format="json"
        ),
        lambda api, task: api.post(
            "/api/me/tasks/bulk",
            {"action": "complete", "where": {"status": "pending"}},
            format="json",
        ),
    ],
    ids=["toggle", "set", "patch", "bulk by ids", "bulk by filter"],
)
def test_every_way_of_completing_moves_a_recurring_task_on(api: APIClient, how: Any) -> None:
    task = create(api, due_date="2027-01-04", recurrence="FREQ=DAILY")

    how(api, task)

    now = api.get(f"/api/me/tasks/{task['id']}").json()
    assert (now["completed"], now["due_date"]) == (False, "2027-01-05")


def test_the_last_occurrence_completes_the_task_for_good(api: APIClient) -> None:
    task = create(api, due_date="2027-01-04T09:00:00Z", recurrence="FREQ=DAILY;COUNT=2")

    complete(api, task)
    last = complete(api, task)

    assert last["completed"] is True
    assert last["due_date"] == "2027-01-05T09:00:00Z"
    assert len(api.get(f"/api/me/tasks/{task['id']}/completions").json()) == 2


def test_repeat_from_completion_counts_from_the_completion_day(api: APIClient) -> None:
    task = create(
        api,
        due_date="2020-01-31T17:00:00Z",
        recurrence="FREQ=MONTHLY",
        repeat_from="completion",
    )

    done = complete(api, task)

    today = datetime.now(UTC).date()
    following = datetime.fromisoformat(done["due_date"])
    assert following.time().hour == 17
    assert (following.year * 12 + following.month) - (today.year * 12 + today.month) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recurrence": "FREQ=HOURLY"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;BYHOUR=9"}, "recurrence"),
        ({"recurrence": "RDATE:20270101"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;INTERVAL=0"}, "recurrence"),
        ({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence"),
        ({"recurrence": "FREQ=WEEKLY;BYDAY=MO", "repeat_from": "completion"}, "recurrence"),
        ({"recurrence": "FREQ=DAILY", "due_date": None}, "due_date"),
        ({"repeat_from": "whenever"}, "repeat_from"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api.post(
        "/api/me/tasks",
        {"title": "x", "due_date": "2027-01-01T09:00:00Z", **body},
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=13",
        "FREQ=DAILY;BYMONTH=0",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31",
        "FREQ=WEEKLY;BYDAY=1MO",
        "FREQ=MONTHLY;BYDAY=6MO",
        "FREQ=MONTHLY;BYSETPOS=0",
        "FREQ=DAILY;BYSETPOS=2",
        "FREQ=WEEKLY;BYDAY=XX",
    ],
)
def test_a_rule_the_calendar_cant_meet_is_refused_at_once(rule: str) -> None:
    with pytest.raises(ValidationError):
        recurrence.parse_parts(rule)


@pytest.mark.parametrize(
    "rule",
    ["FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1,2,3,4,5,6,7"],
)
def test_a_rule_that_never_matches_is_refused_quickly(rule: str) -> None:
    parts = recurrence.parse_parts(rule)

    with pytest.raises(ValidationError, match="no occurrence"):
        recurrence.check_start(parts, datetime(2026, 1, 5, 9), now=datetime(2026, 1, 1), end=None)


def test_a_rule_whose_occurrences_are_decades_apart_is_allowed() -> None:
    # 29 February on a Monday: 2016, then 2044.
    parts = recurrence.parse_parts("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO")

    recurrence.check_start(parts, datetime(2016, 2, 29, 9), now=datetime(2016, 1, 1), end=None)
    following = recurrence.next_occurrence(
        parts, start=datetime(2016, 2, 29, 9), done=0, now=PAST, end=None, all_day=False
    )

    assert following is None  # more than SEARCH_YEARS ahead: the series has ended


def test_sending_the_same_values_again_does_not_restart_the_series(api: APIClient) -> None:
    task = create(api, due_date="2027-01-04T09:00:00Z", recurrence="FREQ=DAILY;COUNT=3")
    complete(api, task)
    moved = complete(api, task)

    # An edit form sends every field back, as it got them.
    api.put(
        f"/api/me/tasks/{task['id']}",
        {"title": "Renamed", "due_date": moved["due_date"], "recurrence": "FREQ=DAILY;COUNT=3"},
        format="json",
    )
    last = complete(api, task)

    assert (last["completed"], last["due_date"]) == (True, "2027-01-06T09:00:00Z")


def test_count_with_repeat_from_completion_counts_early_completions(api: APIClient) -> None:
    task = create(
        api,
        due_date="2030-12-20T09:00:00Z",
        recurrence="FREQ=WEEKLY;COUNT=3",
        repeat_from="completion",
    )

    first, second, third = (complete(api, task) for _ in range(3))

    assert (first["completed"], second["completed"], third["completed"]) == (False, False, True)


def test_a_local_time_in_the_spring_gap_moves_that_day_alone(api: APIClient) -> None:
    task = create(
        api, due_date="2031-03-29T02:30", time_zone=BERLIN, recurrence="FREQ=YEARLY;BYMONTH=3,4"
    )

    # 2031-03-30 is the spring-forward night in Berlin: 02:30 does not exist.
    assert task["due_date"] == "2031-03-29T01:30:00Z"  # 02:30 CET
    after = complete(api, task)

    assert after["due_date"] == "2031-04-29T00:30:00Z"  # 02:30 CEST, not 03:30


def test_creating_a_recurring_task_completed_records_no_occurrence(api: APIClient) -> None:
    task = create(api, due_date="2030-01-07T09:00:00Z", recurrence="FREQ=DAILY", completed=True)

    assert (task["completed"], task["due_date"]) == (True, "2030-01-07T09:00:00Z")
    assert api.get(f"/api/me/tasks/{task['id']}/completions").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_date": "9999-12-31", "time_zone": "America/New_York"}, "due_date"),
        ({"due_date": "0001-01-01T00:30", "time_zone": "Asia/Tokyo"}, "due_date"),
        ({"due_date": "0001-01-01T00:00:00Z", "reminders": [{"before_minutes": 1}]}, "reminders"),
        (
            {
                "due_date": "2030-01-01T09:00:00Z",
                "time_zone": "Asia/Tokyo",
                "recurrence": "FREQ=DAILY;UNTIL=99991231T235959Z",
            },
            "recurrence",
        ),
        ({"due_date": "2001-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}, "recurrence"),
    ],
)
def test_a_date_out_of_reach_is_a_400_not_a_500(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/me/tasks", {"title": "x", **body}, format="json")

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]


def test_a_bulk_create_names_the_task_a_rule_refuses(api: APIClient) -> None:
    tasks = [{"title": "ok"}, {"title": "no due date", "recurrence": "FREQ=DAILY"}]

    response = api.post("/api/me/tasks/bulk", {"action": "create", "tasks": tasks}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tasks.1.due_date"]
    assert api.get("/api/me/tasks").json() == []


def test_a_bulk_update_names_the_field_a_rule_refuses(api: APIClient) -> None:
    task = create(api)

    response = api.post(
        "/api/me/tasks/bulk",
        {"action": "update", "ids": [task["id"]], "fields": {"recurrence": "FREQ=DAILY"}},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["fields.due_date"]
