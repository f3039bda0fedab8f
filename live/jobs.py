"""The live app's background job: a plain function the worker runs on the schedule in
`todo_project/worker.py`."""

from datetime import datetime

from django.utils import timezone

from live.models import OpenStream, StreamTicket
from live.slots import STREAM_LEASE


def forget_lapsed(*, now: datetime | None = None) -> int:
    """Delete the tickets that expired unused and the slots of streams whose process
    died (a user's next opening forgets their own; this, everyone's); how many."""
    now = now or timezone.now()
    tickets: int = StreamTicket.objects.filter(expires_at__lte=now).delete()[0]
    slots: int = OpenStream.objects.filter(seen_at__lt=now - STREAM_LEASE).delete()[0]
    return tickets + slots
