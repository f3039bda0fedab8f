"""The rules of a task's time: its due date, recurrence and reminders, applied to a
write given the task as it is (None for a new task). tasks.queries calls `schedule`
for every write that touches them, and writes what it returns.

- `due_date` is an instant (with an offset), a local date-time read in the task's
  zone, or a date alone (all-day: `due_day`, due at the end of that day).
- Changing the zone of an all-day task moves its instant to the end of its day there.
- A recurring task needs a due date, its series starts at it (and starts again when
  the due date or the rule is written), and its rule must have an occurrence.
- Completing a recurring task records the completion and moves the due date to the
  next occurrence (tasks.recurrence), the task staying open; when the series has
  ended, the task is completed for good.
- A reminder's `remind_at` is its `at`, or the due date less `before_minutes`; null
  once fired (the same instant as before, then null) or when it is already past.
  `next_remind_at` is the earliest of them, what the worker looks for.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from tasks import recurrence
from tasks.due_dates import LOCAL_TIME_NEEDS_ZONE, Due

# The fields whose writes go through `schedule`, and those it derives.
SCHEDULED_FIELDS = frozenset({"due_date", "time_zone", "recurrence", "repeat_from", "reminders"})
DERIVED_FIELDS = frozenset({"due_day", "series_start", "next_remind_at"})
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
    """The reminders with their `remind_at`. One that was spent (null) at the instant
    it would fire now stays spent, so an edit never fires a reminder twice."""
    if due is None and any("before_minutes" in spec for spec in specs):
        raise ValidationError({"reminders": [RELATIVE_NEEDS_DUE]})
    spent = set()
    if before is not None:
        old_due = _stored_due(before)
        for old in before["reminders"]:
            if old.get("remind_at") is None:
                spent.add((tuple(_spec(old).items()), _target(old, old_due)))
    written = []
    for reminder in specs:
        spec = _spec(reminder)
        target = _target(reminder, due)
        live = target is not None and target > now and (tuple(spec.items()), target) not in spent
        written.append({**spec, "remind_at": _iso(target) if live else None})
    return written


def next_remind_at(reminders: Sequence[Mapping[str, Any]]) -> datetime | None:
    """The earliest `remind_at` of these reminders, or None."""
    pending = [_instant(r["remind_at"]) for r in reminders if r.get("remind_at")]
    return min(pending, default=None)


def schedule(
    current: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    *,
    owner_zone: Callable[[], str | None],
    completions: Callable[[], int],
    now: datetime,
) -> Scheduled:
    """The fields to store for a write of `fields` to `current` (None: a new task),
    by the rules above. `owner_zone` is the owner's time zone, read only for a new task
    that needs one; `completions`, how many occurrences of the series are recorded,
    read only where COUNT counts from the completions."""
    written = dict(fields)

    def kept(name: str, default: Any = None) -> Any:
        if name in fields:
            return fields[name]
        return current[name] if current is not None else default

    if current is None:
        # A new task without a zone takes its owner's, as the insert does: read it only
        # where it matters (a local or all-day due date, a rule on local time).
        zone = fields.get("time_zone")
        if zone is None and (read_in_zone(fields.get("due_date")) or fields.get("recurrence")):
            zone = owner_zone()
    elif "time_zone" in fields:
        zone = fields["time_zone"]
    else:
        zone = current["time_zone"]

    if "due_date" in fields:
        due = _due_of(fields["due_date"], zone)
    else:
        due = _stored_due(current)
        if due is not None and due.day is not None and "time_zone" in fields:
            due = Due.on_day(due.day, zone)

    rule = kept("recurrence")
    repeat_from = kept("repeat_from", "due")
    series_start = current["series_start"] if current is not None else None
    completion = None
    if rule is None:
        series_start = None
    else:
        parts = _named("recurrence", recurrence.parse_parts, rule)
        _named("recurrence", recurrence.check_repeat_from, parts, repeat_from)
        if due is None:
            raise ValidationError({"due_date": [RECURRING_NEEDS_DUE]})
        if series_start is None or fields.keys() & {"due_date", "recurrence", "time_zone"}:
            series_start = due.instant
            _named("recurrence", recurrence.first_occurrence, parts, start=due, zone=zone)
        was_completed = current is not None and current["completed"]
        if fields.get("completed") is True and not was_completed:
            completion = {"completed_at": now, "due_date": due.instant, "due_day": due.day}
            if repeat_from == "completion":
                following = recurrence.next_after_completion(
                    parts, due=due, completed_at=now, done=completions(), zone=zone
                )
            else:
                following = recurrence.next_occurrence(
                    parts, start=series_start, due=due, now=now, zone=zone
                )
            if following is not None:  # else the series has ended: completed for good
                due = following
                written["completed"] = False

    written["due_date"] = due.instant if due else None
    written["due_day"] = due.day if due else None
    written["series_start"] = series_start
    reminders = _reminders(list(kept("reminders", [])), due, before=current, now=now)
    written["reminders"] = reminders
    written["next_remind_at"] = next_remind_at(reminders)
    return Scheduled(written, completion)


def _named(field: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`check(*args, **kwargs)`, its Django ValidationError as a 400 naming `field`."""
    try:
        return check(*args, **kwargs)
    except DjangoValidationError as error:
        raise ValidationError({field: error.messages}) from None
