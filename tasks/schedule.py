"""The rules of a task's time: its due date, recurrence and reminders, applied to a
write given the task as it is (None for a new task). tasks.queries calls `schedule`
for every write that touches them, and writes what it returns.

- `due_date` is an instant (with an offset), a local date-time read in the task's
  zone, or a date alone (all-day: `due_day`, due at the end of that day).
- Changing the zone of an all-day task moves its instant to the end of its day there.
- A recurring task needs a due date, its series starts at it (again when the due
  date, the rule or the zone changes), and its rule must have an occurrence.
- Completing a recurring task records the completion and moves the due date to the
  next occurrence (tasks.recurrence), the task staying open; when the series has
  ended, the task is completed for good.
- A reminder's `remind_at` is its `at`, or the due date less `before_minutes`: null
  once fired, or when a new instant is already past. `next_remind_at` is the earliest
  of them, what the worker looks for.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from tasks import recurrence
from tasks.due_dates import LOCAL_TIME_NEEDS_ZONE, Due, local_time

# The fields whose writes go through `schedule`, and those it derives.
SCHEDULED_FIELDS = frozenset({"due_date", "time_zone", "recurrence", "repeat_from", "reminders"})
DERIVED_FIELDS = frozenset({"due_day", "series_start", "series_done", "next_remind_at"})
MAX_REMINDERS = 10
RECURRING_NEEDS_DUE = "A recurring task needs a due_date."
RELATIVE_NEEDS_DUE = "A reminder with before_minutes needs a due_date."


@dataclass(frozen=True)
class Scheduled:
    """What a write stores: its fields and the derived ones, and the completed
    occurrence to record, if it completed one."""

    fields: dict[str, Any]
    completion: dict[str, Any] | None = None


def _due_of(value: Any, zone: str | None) -> Due | None:
    """A validated `due_date` as a Due, read in `zone` when it is local or a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return Due.at(value)
        if zone is None:
            raise ValidationError({"due_date": [LOCAL_TIME_NEEDS_ZONE]})
        return Due.local(value, zone)
    assert isinstance(value, date)
    return Due.on_day(value, zone)


def read_in_zone(due: Any) -> bool:
    """Whether a validated `due_date` is read in a zone: a local date-time, or a date."""
    return isinstance(due, date) and not (isinstance(due, datetime) and due.tzinfo is not None)


def _stored_due(task: Mapping[str, Any] | None) -> Due | None:
    if task is None or task["due_date"] is None:
        return None
    return Due(task["due_date"], task["due_day"])


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat().replace("+00:00", "Z")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _target(reminder: Mapping[str, Any], due: Due | None) -> datetime | None:
    if "at" in reminder:
        at = reminder["at"]
        return at if isinstance(at, datetime) else _instant(at)
    return None if due is None else due.instant - timedelta(minutes=reminder["before_minutes"])


def _spec(reminder: Mapping[str, Any]) -> dict[str, Any]:
    """A reminder as a client wrote it, without its `remind_at`."""
    if "at" in reminder:
        at = reminder["at"]
        return {"at": _iso(at) if isinstance(at, datetime) else at}
    return {"before_minutes": reminder["before_minutes"]}


def _reminders(
    specs: list[Mapping[str, Any]],
    due: Due | None,
    *,
    before: Mapping[str, Any] | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The reminders with their `remind_at`. A reminder the task had already, for the
    same instant, keeps its state: spent (null) stays spent, so an edit never fires a
    reminder twice; due but not fired yet stays due, so the worker still fires it. A
    new instant already past can't fire (null)."""
    if due is None and any("before_minutes" in spec for spec in specs):
        raise ValidationError({"reminders": [RELATIVE_NEEDS_DUE]})
    kept: dict[tuple[Any, ...], str | None] = {}
    if before is not None:
        old_due = _stored_due(before)
        for old in before["reminders"]:
            kept[(*_spec(old).items(), _target(old, old_due))] = old.get("remind_at")
    written = []
    for reminder in specs:
        spec = _spec(reminder)
        target = _in_range("reminders", _target, reminder, due)
        key = (*spec.items(), target)
        if key in kept:
            remind_at = kept[key]
        else:
            remind_at = _iso(target) if target is not None and target > now else None
        written.append({**spec, "remind_at": remind_at})
    return written


def next_remind_at(reminders: Sequence[Mapping[str, Any]]) -> datetime | None:
    """The earliest `remind_at` of these reminders, or None."""
    pending = [_instant(r["remind_at"]) for r in reminders if r.get("remind_at")]
    return min(pending, default=None)


def _wall_clock(value: Any, due: Due, zone: str | None) -> datetime:
    """Where a series starting at `due` runs from on the wall clock: the local time as
    written (02:30 on a night without one stays 02:30 on the next days), else the due
    instant's; an all-day task's at the start of its day. Whole seconds, as dateutil's."""
    if due.day is not None:
        return datetime.combine(due.day, time())
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(microsecond=0)
    return local_time(due, zone).replace(microsecond=0)


def schedule(
    current: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    *,
    owner_zone: Callable[[], str | None],
    now: datetime,
) -> Scheduled:
    """The fields to store for a write of `fields` to `current` (None: a new task),
    by the rules above. `owner_zone` is the owner's time zone, read only for a new task
    that needs one (and then written as its zone)."""
    written = dict(fields)

    def kept(name: str, default: Any = None) -> Any:
        if name in fields:
            return fields[name]
        return current[name] if current is not None else default

    if current is None:
        # A new task without a zone takes its owner's: read it only where it matters
        # (a local or all-day due date, a rule on local time).
        zone = fields.get("time_zone")
        if zone is None and (read_in_zone(fields.get("due_date")) or fields.get("recurrence")):
            zone = written["time_zone"] = owner_zone()
    elif "time_zone" in fields:
        zone = fields["time_zone"]
    else:
        zone = current["time_zone"]

    if "due_date" in fields:
        due = _in_range("due_date", _due_of, fields["due_date"], zone)
    else:
        due = _stored_due(current)
        if due is not None and due.day is not None and "time_zone" in fields:
            due = _in_range("time_zone", Due.on_day, due.day, zone)

    rule = kept("recurrence")
    repeat_from = kept("repeat_from", "due")
    series_start = current["series_start"] if current is not None else None
    series_done = current["series_done"] if current is not None else 0
    completion = None
    if rule is None:
        series_start, series_done = None, 0
    else:
        parts = _named("recurrence", recurrence.parse_parts, rule)
        _named("recurrence", recurrence.check_repeat_from, parts, repeat_from)
        if due is None:
            raise ValidationError({"due_date": [RECURRING_NEEDS_DUE]})
        end = _in_range("recurrence", recurrence.until, parts, zone, all_day=due.day is not None)
        if current is None or series_start is None or _restarts(current, fields, due, zone):
            start = _wall_clock(fields.get("due_date"), due, zone)
            wall_now = local_time(Due.at(now), zone)
            _named("recurrence", recurrence.check_start, parts, start, now=wall_now, end=end)
            series_start, series_done = start.isoformat(), 0
        was_completed = current is not None and current["completed"]
        if current is not None and fields.get("completed") is True and not was_completed:
            completion = {"completed_at": now, "due_date": due.instant, "due_day": due.day}
            following = _following(
                parts,
                repeat_from,
                datetime.fromisoformat(series_start),
                series_done,
                due,
                zone,
                now,
                end,
            )
            if following is not None:  # else the series has ended: completed for good
                occurrence, used = following
                due = (
                    Due.on_day(occurrence.date(), zone) if due.day else Due.local(occurrence, zone)
                )
                series_start, series_done = occurrence.isoformat(), series_done + used
                written["completed"] = False

    written["due_date"] = due.instant if due else None
    written["due_day"] = due.day if due else None
    written["series_start"] = series_start
    written["series_done"] = series_done
    reminders = _reminders(list(kept("reminders", [])), due, before=current, now=now)
    written["reminders"] = reminders
    written["next_remind_at"] = next_remind_at(reminders)
    return Scheduled(written, completion)


def _restarts(
    current: Mapping[str, Any], fields: Mapping[str, Any], due: Due, zone: str | None
) -> bool:
    """Whether a write starts the series again: a new rule, due date or zone (the
    same values sent again change nothing)."""
    return (
        fields.get("recurrence", current["recurrence"]) != current["recurrence"]
        or fields.get("repeat_from", current["repeat_from"]) != current["repeat_from"]
        or zone != current["time_zone"]
        or (due.instant, due.day) != (current["due_date"], current["due_day"])
    )


def _following(
    parts: dict[str, str],
    repeat_from: str,
    start: datetime,
    done: int,
    due: Due,
    zone: str | None,
    now: datetime,
    end: datetime | None,
) -> tuple[datetime, int] | None:
    """The next occurrence of the series (wall-clock) and how many of COUNT it uses
    up, or None when the series has ended (or would end past the year 9999)."""
    wall_now = local_time(Due.at(now), zone)
    try:
        if repeat_from == "completion":
            following = recurrence.next_after_completion(
                parts, start=start, done=done, completed_on=wall_now.date(), end=end
            )
            return None if following is None else (following, 1)
        return recurrence.next_occurrence(
            parts, start=start, done=done, now=wall_now, end=end, all_day=due.day is not None
        )
    except OverflowError:
        return None


def _in_range(field: str, compute: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`compute(*args, **kwargs)`; a date it can't reach (past the year 9999, before
    the year 1) is a 400 naming `field`."""
    try:
        return compute(*args, **kwargs)
    except OverflowError:
        raise ValidationError({field: ["This date is out of range."]}) from None


def _named(field: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`check(*args, **kwargs)`, its Django ValidationError as a 400 naming `field`."""
    try:
        return check(*args, **kwargs)
    except DjangoValidationError as error:
        raise ValidationError({field: error.messages}) from None
