"""`POST /api/{user_id}/events/ticket` (contract Part 6): a ticket, bought with the
Bearer token, opens one stream of that user's with `?ticket=`, once, within 60 s; the
stream ends when the token that bought it does. Only its SHA-256 is stored and it is
never logged.

Query counts are pinned in autocommit, as production runs (transactional tests: no
test transaction's savepoints).
"""

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from live.models import StreamTicket
from live.tests.conftest import ReadFrames
from live.tickets import MAX_TICKET_LENGTH, TICKET_SECONDS
from testing.tokens import TokenFactory

pytestmark = pytest.mark.django_db

committed = pytest.mark.django_db(transaction=True)

PROBLEM = "application/problem+json"


def buy(api: APIClient, user: str = "me") -> str:
    response = api.post(f"/api/{user}/events/ticket")
    assert response.status_code == 200, response.content
    ticket: str = response.json()["ticket"]
    return ticket


def open_with(ticket: str, user: str = "me") -> Any:
    """GET the stream with `?ticket=` and no Authorization header, as EventSource does."""
    return APIClient().get(f"/api/{user}/events", {"ticket": ticket})


def bought_ago(api: APIClient, seconds: float) -> str:
    """A ticket bought `seconds` ago."""
    then = timezone.now() - timedelta(seconds=seconds)
    with mock.patch("django.utils.timezone.now", return_value=then):
        return buy(api)


def test_a_ticket_is_answered_with_its_60_seconds(api: APIClient) -> None:
    response = api.post("/api/me/events/ticket")

    body = response.json()
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert body == {"ticket": body["ticket"], "expires_in": 60}
    assert len(body["ticket"]) == 43  # 32 random bytes, base64url
    assert body["ticket"].isascii()
    assert body["ticket"].replace("-", "").replace("_", "").isalnum()


def test_each_ticket_is_a_new_one(api: APIClient) -> None:
    assert buy(api) != buy(api)


@committed
def test_buying_a_ticket_is_four_queries(
    mirrored_api: APIClient, django_assert_num_queries: Any
) -> None:
    """The user's expired tickets forgotten (BEGIN, DELETE, COMMIT), the ticket stored."""
    with django_assert_num_queries(4):
        assert mirrored_api.post("/api/me/events/ticket").status_code == 200


def test_buying_a_ticket_forgets_the_users_expired_ones(api: APIClient, user_id: str) -> None:
    bought_ago(api, TICKET_SECONDS + 1)

    fresh = buy(api)

    assert list(StreamTicket.objects.values_list("digest", flat=True)) == [
        hashlib.sha256(fresh.encode()).hexdigest()
    ]


def test_a_ticket_opens_a_stream_of_its_user(
    api: APIClient, user_id: str, read_frames: ReadFrames
) -> None:
    response = open_with(buy(api), user_id)

    opening = read_frames(response)[0]
    assert (opening.retry, opening.event) == (1000, None)
    assert response.stream.user_id == user_id


def test_a_ticket_opens_a_stream_on_the_me_path(api: APIClient, read_frames: ReadFrames) -> None:
    assert read_frames(open_with(buy(api)))[0].retry == 1000


@committed
def test_opening_a_stream_with_a_ticket_is_eleven_queries(
    mirrored_api: APIClient, django_assert_num_queries: Any
) -> None:
    """The ticket read and spent (SELECT; BEGIN, DELETE, COMMIT), the slot taken (BEGIN,
    the user's row locked, lapsed slots dropped, COUNT, INSERT, COMMIT), and where the
    feed stands now (one statement)."""
    ticket = buy(mirrored_api)

    with django_assert_num_queries(11):
        assert open_with(ticket).status_code == 200


def test_a_ticket_opens_one_stream_once(api: APIClient, read_frames: ReadFrames) -> None:
    ticket = buy(api)
    read_frames(open_with(ticket))

    again = open_with(ticket)

    assert again.status_code == 401
    assert again["Content-Type"] == PROBLEM
    assert again["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "ticket" in again.json()["detail"]


def test_a_ticket_never_issued_is_401() -> None:
    response = open_with("a" * 43)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("ticket", ["", "a" * (MAX_TICKET_LENGTH + 1)])
def test_an_empty_or_oversized_ticket_is_401_without_a_query(
    ticket: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert open_with(ticket).status_code == 401


def test_a_ticket_bought_over_60_seconds_ago_is_401(api: APIClient) -> None:
    ticket = bought_ago(api, TICKET_SECONDS + 1)

    response = open_with(ticket)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_a_ticket_still_opens_a_stream_near_the_end_of_its_60_seconds(
    api: APIClient, read_frames: ReadFrames
) -> None:
    ticket = bought_ago(api, TICKET_SECONDS - 5)

    assert read_frames(open_with(ticket))[0].retry == 1000


def test_a_ticket_on_another_users_path_is_403(api: APIClient) -> None:
    response = open_with(buy(api), "someone-else")

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


def test_a_ticket_refused_on_another_users_path_is_spent(api: APIClient) -> None:
    ticket = buy(api)
    assert open_with(ticket, "someone-else").status_code == 403

    assert open_with(ticket).status_code == 401


def test_buying_a_ticket_needs_a_token(user_id: str) -> None:
    response = APIClient().post(f"/api/{user_id}/events/ticket")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert not StreamTicket.objects.exists()


def test_a_ticket_cannot_buy_a_ticket(api: APIClient, read_frames: ReadFrames) -> None:
    ticket = buy(api)

    response = APIClient().post(f"/api/me/events/ticket?ticket={ticket}")

    assert response.status_code == 401
    assert StreamTicket.objects.count() == 1
    read_frames(open_with(ticket))  # and the ticket was not spent by trying


def test_a_tickets_stream_ends_when_the_token_that_bought_it_expires(
    make_token: TokenFactory, user_id: str
) -> None:
    expires = int(time.time()) + 600
    buyer = APIClient()
    buyer.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user_id, exp=expires)}")

    response = open_with(buy(buyer))

    assert response.status_code == 200
    assert response.stream.ends_at == expires


def test_no_ticket_is_in_any_log_record(
    api: APIClient, read_frames: ReadFrames, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        ticket = buy(api)
        read_frames(open_with(ticket))
        refused = open_with(ticket)

    assert refused.status_code == 401
    assert caplog.records  # the refusal and the accesses were logged, without it
    assert ticket not in caplog.text
    assert all(ticket not in str(record.__dict__) for record in caplog.records)


def test_only_a_sha256_of_the_ticket_is_stored(api: APIClient, user_id: str) -> None:
    ticket = buy(api)

    stored = StreamTicket.objects.get()
    assert stored.digest == hashlib.sha256(ticket.encode()).hexdigest()
    assert stored.user_id == user_id
    assert ticket not in str(StreamTicket.objects.values().get())
