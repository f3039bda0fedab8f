"""The daily job that forgets what live streams left behind."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import BetterAuthUser
from live.jobs import forget_lapsed
from live.models import OpenStream, StreamTicket
from live.slots import STREAM_LEASE

pytestmark = pytest.mark.django_db


def test_it_forgets_expired_tickets_and_lapsed_slots_and_keeps_the_rest() -> None:
    now = timezone.now()
    BetterAuthUser.objects.create(id="u1")
    StreamTicket.objects.create(
        digest="a" * 64, user_id="u1", token_expires_at=now, expires_at=now - timedelta(seconds=1)
    )
    StreamTicket.objects.create(
        digest="b" * 64, user_id="u1", token_expires_at=now, expires_at=now + timedelta(seconds=30)
    )
    lapsed = OpenStream.objects.create(
        user_id="u1", seen_at=now - STREAM_LEASE - timedelta(seconds=1)
    )
    fresh = OpenStream.objects.create(user_id="u1", seen_at=now)

    assert forget_lapsed(now=now) == 2
    assert list(StreamTicket.objects.values_list("digest", flat=True)) == ["b" * 64]
    assert list(OpenStream.objects.values_list("id", flat=True)) == [fresh.id]
    assert not OpenStream.objects.filter(id=lapsed.id).exists()
