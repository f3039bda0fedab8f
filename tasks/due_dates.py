"""Due dates in a task's time zone: an instant, and for an all-day task its date.

A local wall-clock time that the zone skips (the spring-forward gap) moves forward by
the gap; one that it has twice (the fall-back hour) is the first. An all-day task is
due at the end of its day in its zone: that instant is what filters and sorts compare.
A task without a zone is in UTC.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TIME_NEEDS_ZONE = (
    "A date-time without a UTC offset is read in the task's time_zone, and this task "
    "has none: add an offset (2025-01-31T17:00:00Z) or set a time_zone."
)


def _zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


@dataclass(frozen=True)
class Due:
    """When a task is due: `instant` (UTC), and `day` for an all-day task."""

    instant: datetime
    day: date | None = None

    @classmethod
    def at(cls, instant: datetime) -> "Due":
        return cls(instant.astimezone(UTC))

    @classmethod
    def at_utc(cls, naive: datetime) -> "Due":
        return cls(naive.replace(tzinfo=UTC))

    @classmethod
    def local(cls, naive: datetime, zone: str | None) -> "Due":
        """A local wall-clock time in `zone`: fold 0 is the first of a repeated time,
        and reads a skipped one with the offset before the gap, i.e. later by it."""
        return cls(naive.replace(tzinfo=_zone(zone), fold=0).astimezone(UTC))

    @classmethod
    def on_day(cls, day: date, zone: str | None) -> "Due":
        """An all-day due date: the last microsecond of `day` in `zone`."""
        return cls(cls.local(datetime.combine(day, time.max), zone).instant, day)


def local_time(due: Due, zone: str | None) -> datetime:
    """The due instant as a wall-clock time in `zone`, without its offset."""
    return due.instant.astimezone(_zone(zone)).replace(tzinfo=None)
