"""The list: filters, sort orders, keyset paging, and a 400 for any bad parameter."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from rest_framework.test import APIClient

from tasks.models import Priority, Task, TaskCount
from tasks.tests.factories import TaskFactory
from testing.pages import ids, next_url, walk

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


@pytest.fixture
def mixed(user_id: str) -> dict[str, Task]:
    """A handful of tasks that differ in every filterable way."""
    return {
        "old_low": TaskFactory.create(
            user_id=user_id,
            title="Alpha",
            priority=Priority.LOW,
            now=NOW - timedelta(days=3),
        ),
        "done": TaskFactory.create(
            user_id=user_id,
            title="Bravo report",
            completed=True,
            due_date=NOW - timedelta(days=1),
            now=NOW - timedelta(days=2),
        ),
        "overdue": TaskFactory.create(
            user_id=user_id,
            title="charlie",
            description="Quarterly REPORT draft",
            priority=Priority.HIGH,
            due_date=NOW - timedelta(hours=1),
            tags=["Work", "q3"],
            now=NOW - timedelta(days=1),
        ),
        "future": TaskFactory.create(
            user_id=user_id,
            title="Delta",
            due_date=NOW + timedelta(days=5),
            tags=["home"],
            now=NOW,
        ),
        "other_user": TaskFactory.create(user_id="someone-else", title="Bravo report"),
    }


def test_list_is_newest_first_and_only_mine(api: APIClient, mixed: dict[str, Task]) -> None:
    response = api.get("/api/me/tasks")

    assert ids(response) == [mixed[k].id for k in ("future", "overdue", "done", "old_low")]
    assert response["X-Total-Count"] == "4"
    assert "Link" not in response


def test_an_empty_list_is_an_empty_array(api: APIClient) -> None:
    response = api.get("/api/me/tasks")

    assert response.json() == []
    assert response["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=all", ["future", "overdue", "done", "old_low"]),
        ("status=pending", ["future", "overdue", "old_low"]),
        ("status=completed", ["done"]),
        ("search=report", ["overdue", "done"]),
        ("search=BRAVO", ["done"]),
        ("priority=high", ["overdue"]),
        ("priority=low", ["old_low"]),
        ("tag=work", ["overdue"]),
        ("tag=WORK", ["overdue"]),
        ("tag=wor", []),
        ("tag=home", ["future"]),
        ("overdue=true", ["overdue"]),
        ("overdue=false", ["future", "overdue", "done", "old_low"]),
        ("status=pending&search=report", ["overdue"]),
    ],
)
def test_filters(api: APIClient, mixed: dict[str, Task], query: str, expected: list[str]) -> None:
    response = api.get(f"/api/me/tasks?{query}")

    assert ids(response) == [mixed[k].id for k in expected]
    assert response["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    ("query", "total"),
    [("", 1000 + 900), ("status=pending", 1000), ("status=completed", 900), ("search=report", 2)],
)
def test_a_status_filter_alone_reads_the_kept_count(
    api: APIClient, mixed: dict[str, Task], user_id: str, query: str, total: int
) -> None:
    """The kept count is read, not recounted (so its cost doesn't grow with the
    user's history); any other filter counts its matches."""
    TaskCount.objects.filter(user_id=user_id).update(pending=1000, completed=900)

    response = api.get(f"/api/me/tasks?{query}")

    assert response["X-Total-Count"] == str(total)


def test_due_before_and_after_bound_the_due_date(api: APIClient, mixed: dict[str, Task]) -> None:
    now = NOW.isoformat().replace("+00:00", "Z")

    assert ids(api.get("/api/me/tasks", {"due_before": now})) == [
        mixed["overdue"].id,
        mixed["done"].id,
    ]
    assert ids(api.get("/api/me/tasks", {"due_after": now})) == [mixed["future"].id]


def test_a_date_bound_is_the_whole_day_in_the_users_zone(api: APIClient, user_id: str) -> None:
    api.patch("/api/me/settings", {"time_zone": "Europe/Berlin"}, format="json")

    def task(due_date: str, **body: str) -> int:
        created = api.post(
            "/api/me/tasks", {"title": due_date, "due_date": due_date, **body}, format="json"
        )
        return int(created.json()["id"])

    eve = task("2026-12-23T22:59:00Z")  # 23:59 on the 23rd in Berlin
    midnight = task("2026-12-23T23:00:00Z")  # 00:00 on the 24th
    all_day = task("2026-12-24")
    last_minute = task("2026-12-24T22:59:00Z")
    next_day = task("2026-12-24T23:00:00Z")
    all_day_in_utc = task("2026-12-24", time_zone="UTC")  # ends at 01:00 Berlin time

    before = ids(api.get("/api/me/tasks", {"due_before": "2026-12-24", "sort": "created"}))
    after = ids(api.get("/api/me/tasks", {"due_after": "2026-12-24", "sort": "created"}))
    bulk = api.post(
        "/api/me/tasks/bulk",
        {"action": "complete", "where": {"due_after": "2026-12-24"}},
        format="json",
    )

    assert before == [eve]
    assert after == [next_day, all_day_in_utc]
    assert {t["id"] for t in bulk.json()["tasks"]} == {next_day, all_day_in_utc}
    assert {midnight, all_day, last_minute}.isdisjoint(before + after)


def test_a_date_bound_without_a_zone_is_a_day_in_utc(api: APIClient, user_id: str) -> None:
    late = TaskFactory.create(user_id=user_id, due_date=datetime(2026, 12, 23, 23, 59, tzinfo=UTC))
    TaskFactory.create(user_id=user_id, due_date=datetime(2026, 12, 24, tzinfo=UTC))

    assert ids(api.get("/api/me/tasks", {"due_before": "2026-12-24"})) == [late.id]


def test_tag_filter_matches_whole_tags_with_special_characters(
    api: APIClient, user_id: str
) -> None:
    tricky = TaskFactory.create(user_id=user_id, tags=["50%_off", "a\x1fb"])
    TaskFactory.create(user_id=user_id, tags=["50x_off", "a", "b"])

    assert ids(api.get("/api/me/tasks", {"tag": "50%_off"})) == [tricky.id]
    assert ids(api.get("/api/me/tasks", {"tag": "a\x1fb"})) == [tricky.id]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created", ["old_low", "done", "overdue", "future"]),
        ("-created", ["future", "overdue", "done", "old_low"]),
        ("title", ["old_low", "done", "overdue", "future"]),
        ("-title", ["future", "overdue", "done", "old_low"]),
        ("priority", ["old_low", "done", "future", "overdue"]),
        ("-priority", ["overdue", "future", "done", "old_low"]),
        ("due_date", ["done", "overdue", "future", "old_low"]),
        ("-due_date", ["future", "overdue", "done", "old_low"]),
    ],
)
def test_sort_orders(
    api: APIClient, mixed: dict[str, Task], sort: str, expected: list[str]
) -> None:
    if sort.lstrip("-") == "title":
        # Collations differ on case between databases; compare titles of one case.
        Task.objects.filter(id=mixed["overdue"].id).update(title="Charlie")

    assert ids(api.get(f"/api/me/tasks?sort={sort}")) == [mixed[k].id for k in expected]


@pytest.mark.parametrize(("alias", "sort"), [("created:desc", "-created"), ("title:asc", "title")])
def test_sort_takes_field_colon_direction(
    api: APIClient, mixed: dict[str, Task], alias: str, sort: str
) -> None:
    Task.objects.filter(id=mixed["overdue"].id).update(title="Charlie")
    expected = ids(api.get(f"/api/me/tasks?sort={sort}&limit=200"))

    assert ids(api.get(f"/api/me/tasks?sort={alias}")) == expected
    assert walk(api, f"/api/me/tasks?sort={alias}&limit=1") == expected


def test_sort_by_updated(api: APIClient, user_id: str) -> None:
    first, second = TaskFactory.create(user_id=user_id), TaskFactory.create(user_id=user_id)
    api.patch(f"/api/me/tasks/{first.id}", {"title": "touched"}, format="json")

    assert ids(api.get("/api/me/tasks?sort=-updated")) == [first.id, second.id]
    assert ids(api.get("/api/me/tasks?sort=updated")) == [second.id, first.id]


def test_ties_break_by_id(api: APIClient, user_id: str) -> None:
    tied = [TaskFactory.create(user_id=user_id, now=NOW, priority=Priority.LOW) for _ in range(3)]
    tied_ids = [task.id for task in tied]

    assert ids(api.get("/api/me/tasks?sort=created")) == tied_ids
    assert ids(api.get("/api/me/tasks?sort=-created")) == tied_ids[::-1]
    assert ids(api.get("/api/me/tasks?sort=priority")) == tied_ids


def test_every_page_but_the_last_is_full(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(7, user_id=user_id)

    first = api.get("/api/me/tasks?limit=3")
    second = api.get(next_url(first))
    third = api.get(next_url(second))

    assert [len(r.json()) for r in (first, second, third)] == [3, 3, 1]
    assert next_url(third) == ""
    assert {r["X-Total-Count"] for r in (first, second, third)} == {"7"}


def test_no_next_link_when_the_last_page_is_exactly_full(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(4, user_id=user_id)

    second = api.get(next_url(api.get("/api/me/tasks?limit=2")))

    assert len(second.json()) == 2
    assert next_url(second) == ""


def test_limit_defaults_to_50(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(51, user_id=user_id)

    response = api.get("/api/me/tasks")

    assert len(response.json()) == 50
    assert next_url(response)


@pytest.mark.parametrize(
    "sort",
    [
        "created",
        "-created",
        "title",
        "-title",
        "due_date",
        "-due_date",
        "priority",
        "-priority",
        "updated",
    ],
)
def test_walk_visits_every_task_once_in_order(api: APIClient, user_id: str, sort: str) -> None:
    for i in range(11):
        TaskFactory.create(
            user_id=user_id,
            title=f"t{i % 4}",
            priority=Priority.values[i % 3],
            due_date=None if i % 3 == 0 else NOW + timedelta(days=i % 4),
            now=NOW - timedelta(minutes=i % 5),
        )
    everything = ids(api.get(f"/api/me/tasks?sort={sort}&limit=200"))

    assert walk(api, f"/api/me/tasks?sort={sort}&limit=2") == everything
    assert len(everything) == 11


def test_walk_by_title_through_non_ascii_titles(api: APIClient, user_id: str) -> None:
    for emoji in "\U0001f600\U0001f601\U0001f602\U0001f603":
        TaskFactory.create(user_id=user_id, title=emoji * 200)

    first = api.get("/api/me/tasks?sort=title&limit=1")
    cursor = parse_qs(urlparse(next_url(first)).query)["cursor"][0]

    assert len(walk(api, "/api/me/tasks?sort=title&limit=1")) == 4
    # The cursor holds the title as UTF-8: 1.1 KB for 200 emoji, where \u escapes made 3.2 KB.
    assert len(cursor) < 1200


def test_walk_keeps_the_filters(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(5, user_id=user_id, priority=Priority.HIGH)
    TaskFactory.create_batch(5, user_id=user_id, priority=Priority.LOW)

    first = api.get("/api/me/tasks?priority=high&limit=2")
    query = parse_qs(urlparse(next_url(first)).query)

    assert query["priority"] == ["high"]
    assert len(walk(api, "/api/me/tasks?priority=high&limit=2")) == 5


def test_creates_and_deletes_during_a_walk_never_skip_or_repeat(
    api: APIClient, user_id: str
) -> None:
    tasks = TaskFactory.create_batch(6, user_id=user_id)
    first = api.get("/api/me/tasks?limit=2")
    TaskFactory.create(user_id=user_id, title="new during walk")
    api.delete(f"/api/me/tasks/{ids(first)[0]}")

    rest = walk(api, next_url(first))

    pre_existing = sorted(t.id for t in tasks)[::-1]
    assert ids(first) + rest == pre_existing


def encoded(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "",
        encoded("[]"),
        encoded("{}"),
        encoded('["title", "a", 1]'),  # made for another sort than the default
        encoded('["-created", "not a date", 1]'),
        encoded('["-created", "2025-01-01T00:00:00", 1]'),  # no offset
        encoded('["-created", "2025-01-01T00:00:00Z", 1e30]'),
        encoded('["-created", "2025-01-01T00:00:00Z", 1000000000000000000000000000000]'),
        encoded('["-created", "2025-01-01T00:00:00Z", true]'),
        encoded('["-created", 5, 1]'),
        "\x00",
        encoded("[" * 1000),  # deep enough to exhaust the JSON decoder's recursion
        encoded('["-created",' + " " * 2048 + '"2025-01-01T00:00:00Z", 1]'),  # over the bound
        encoded('["-created", "0001-01-01T00:00:00+23:59", 1]'),  # before any date-time
        encoded('["-created", "9999-12-31T23:59:59.999999-23:59", 1]'),  # after any
    ],
)
def test_a_bad_cursor_is_400(api: APIClient, cursor: str) -> None:
    response = api.get("/api/me/tasks", {"cursor": cursor})

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        ("-due_date", '["-due_date", "9999-12-31T23:59:59.999999-23:59", 1]'),
        ("title", '["title", "\\ud800", 5]'),  # a lone surrogate
        ("title", '["title", "a\\u0000", 5]'),  # NUL
    ],
)
def test_a_cursor_whose_value_no_column_holds_is_400(
    api: APIClient, sort: str, payload: str
) -> None:
    response = api.get("/api/me/tasks", {"sort": sort, "cursor": encoded(payload)})

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_a_cursor_for_another_sort_is_400(api: APIClient, user_id: str) -> None:
    TaskFactory.create_batch(3, user_id=user_id)
    cursor = parse_qs(urlparse(next_url(api.get("/api/me/tasks?limit=1"))).query)["cursor"][0]

    response = api.get("/api/me/tasks", {"cursor": cursor, "sort": "title"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=done", "status"),
        ("priority=urgent", "priority"),
        ("sort=colour", "sort"),
        ("sort=--created", "sort"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-5", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=" + "9" * 40, "limit"),
        ("overdue=maybe", "overdue"),
        ("due_before=yesterday", "due_before"),
        ("due_before=2026-02-30", "due_before"),
        ("due_after=20261224", "due_after"),
        ("sort=created:up", "sort"),
        ("sort=-created:desc", "sort"),
        ("due_after=2030-01-01T00:00:00", "due_after"),
        ("search=" + "x" * 201, "search"),
        ("search=a%00b", "search"),
        ("tag=a%00b", "tag"),
        ("tag=" + "t" * 51, "tag"),
        ("status=%00", "status"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(
    api: APIClient, query: str, parameter: str
) -> None:
    response = api.get(f"/api/me/tasks?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [parameter]


def test_unknown_query_parameters_are_ignored(api: APIClient, user_id: str) -> None:
    TaskFactory.create(user_id=user_id)

    assert len(ids(api.get("/api/me/tasks?colour=red"))) == 1
