"""Recurrence rules: the contract's subset of RFC 5545 RRULEs, computed by
python-dateutil on local wall-clock time, so that "every Monday 09:00" stays 09:00 in
the task's zone across daylight saving changes (tasks.due_dates turns a local time
into an instant).

Every search for an occurrence is bounded: it looks SEARCH_YEARS past the moment it
starts from at most, so no rule can take long to expand. A rule with no occurrence in
that span from its start is refused; a series with none in it after its current due
date has ended.
"""

import re
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr
from django.core.exceptions import ValidationError

from tasks.due_dates import Due, local_time

MAX_LENGTH = 500
SEARCH_YEARS = 10
MAX_INTERVAL = 1000
MAX_COUNT = 1000
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = frozenset(
    {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "COUNT", "UNTIL"}
)
# With `repeat_from: completion` the next due date is the completion's date plus the interval.
COMPLETION_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL"})
_PART = re.compile(r"([A-Z]+)=([A-Z0-9,+\-]+)")
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code="invalid")


def parse_parts(text: str) -> dict[str, str]:
    """The rule's parts (`FREQ=WEEKLY;BYDAY=MO` → {"FREQ": "WEEKLY", "BYDAY": "MO"}),
    each once and of the contract's subset; ValidationError otherwise."""
    if len(text) > MAX_LENGTH:
        raise _invalid(f"At most {MAX_LENGTH} characters.")
    parts: dict[str, str] = {}
    for item in text.removeprefix("RRULE:").split(";"):
        match = _PART.fullmatch(item)
        if match is None:
            raise _invalid(
                "Write an RRULE as NAME=VALUE parts joined by ';', e.g. FREQ=WEEKLY;BYDAY=MO."
            )
        name, value = match.groups()
        if name not in PARTS:
            raise _invalid(f"{name} is not supported; use {', '.join(sorted(PARTS))}.")
        if name in parts:
            raise _invalid(f"{name} is given twice.")
        parts[name] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise _invalid(f"FREQ must be one of {', '.join(FREQUENCIES)}.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("Give COUNT or UNTIL, not both.")
    for name, bound in (("INTERVAL", MAX_INTERVAL), ("COUNT", MAX_COUNT)):
        if name in parts and not (parts[name].isdigit() and 1 <= int(parts[name]) <= bound):
            raise _invalid(f"{name} must be a whole number from 1 to {bound}.")
    if "UNTIL" in parts and not _UNTIL.fullmatch(parts["UNTIL"]):
        raise _invalid("UNTIL must be a date (20261231) or a UTC date-time (20261231T170000Z).")
    return parts


def validate_recurrence(text: str) -> None:
    """The rule is of the contract's subset, and dateutil reads it (the occurrences are
    checked when the task's due date is known: `first_occurrence`)."""
    parts = parse_parts(text)
    try:
        _rule(parts, datetime(2000, 1, 1), zone=None, all_day=False)
    except (ValueError, TypeError) as error:
        raise _invalid(f"Not a valid RRULE: {error}") from None


def check_repeat_from(parts: dict[str, str], repeat_from: str) -> None:
    if repeat_from == "completion" and (extra := sorted(parts.keys() - COMPLETION_PARTS)):
        raise _invalid(
            f"With repeat_from `completion` only FREQ, INTERVAL, COUNT and UNTIL apply, "
            f"not {', '.join(extra)}."
        )


def _until(raw: str, zone: str | None, all_day: bool) -> datetime:
    """UNTIL as the local wall-clock time the rule runs on (a UTC time, moved into the
    task's zone; a date, the end of that day)."""
    match = _UNTIL.fullmatch(raw)
    assert match is not None  # parse_parts checked it
    day, clock, utc = match.groups()
    moment = datetime.strptime(day + (clock or "235959"), "%Y%m%d%H%M%S")
    if utc:
        moment = local_time(Due.at_utc(moment), zone)
    return datetime.combine(moment.date(), time.max) if all_day else moment


def _rule(parts: dict[str, str], start: datetime, *, zone: str | None, all_day: bool) -> rrule:
    """The rule from `start`, on local wall-clock time (UNTIL too)."""
    body = ";".join(f"{name}={value}" for name, value in parts.items() if name != "UNTIL")
    rule = rrulestr(body, dtstart=start)
    assert isinstance(rule, rrule)  # one RRULE, never a set
    return rule.replace(until=_until(parts["UNTIL"], zone, all_day)) if "UNTIL" in parts else rule


def _first_after(rule: rrule, moment: datetime, *, inc: bool = False) -> datetime | None:
    """The rule's first occurrence after `moment` (or at it, with `inc`), looked for
    until SEARCH_YEARS after it: None if there is none by then."""
    horizon = _add_years(moment, SEARCH_YEARS)
    for occurrence in rule:
        if occurrence > horizon:
            return None
        if occurrence > moment or (inc and occurrence == moment):
            return occurrence
    return None


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment + relativedelta(years=years)
    except (OverflowError, ValueError):
        return datetime.max


def _start(due: Due, zone: str | None, *, all_day: bool) -> datetime:
    """The wall-clock time a rule runs on: an all-day task's at the start of its day."""
    local = local_time(due, zone)
    return datetime.combine(local.date(), time()) if all_day else local


def first_occurrence(parts: dict[str, str], *, start: Due, zone: str | None) -> None:
    """Refuse a rule with no occurrence within SEARCH_YEARS of the series start."""
    all_day = start.day is not None
    local_start = _start(start, zone, all_day=all_day)
    rule = _rule(parts, local_start, zone=zone, all_day=all_day)
    if _first_after(rule, local_start, inc=True) is None:
        raise _invalid(f"This rule has no occurrence within {SEARCH_YEARS} years of the due date.")


def next_occurrence(
    parts: dict[str, str], *, start: datetime, due: Due, now: datetime, zone: str | None
) -> Due | None:
    """For `repeat_from: due`: the rule's first occurrence after both the current due
    date and now (missed ones are skipped), for the series that started at `start`;
    None when the series has ended."""
    all_day = due.day is not None
    rule = _rule(parts, _start(Due.at(start), zone, all_day=all_day), zone=zone, all_day=all_day)
    now_local = local_time(Due.at(now), zone)
    if all_day:
        # An occurrence today is still ahead: it is due at the end of the day.
        now_local = datetime.combine(now_local.date(), time()) - timedelta(microseconds=1)
    found = _first_after(rule, max(_start(due, zone, all_day=all_day), now_local))
    if found is None:
        return None
    return Due.on_day(found.date(), zone) if all_day else Due.local(found, zone)


def next_after_completion(
    parts: dict[str, str], *, due: Due, completed_at: datetime, done: int, zone: str | None
) -> Due | None:
    """For `repeat_from: completion`: the completion's local date plus the interval (a
    month later is the same day of the month, or the month's last day when it has
    none), at the due date's local time of day; None when COUNT (`done` occurrences
    completed before this one) or UNTIL ends the series."""
    if "COUNT" in parts and done + 1 >= int(parts["COUNT"]):
        return None
    count = int(parts.get("INTERVAL", "1"))
    step = {
        "DAILY": relativedelta(days=count),
        "WEEKLY": relativedelta(weeks=count),
        "MONTHLY": relativedelta(months=count),
        "YEARLY": relativedelta(years=count),
    }[parts["FREQ"]]
    day = local_time(Due.at(completed_at), zone).date() + step
    all_day = due.day is not None
    clock = time() if all_day else local_time(due, zone).time()
    if "UNTIL" in parts and datetime.combine(day, clock) > _until(parts["UNTIL"], zone, all_day):
        return None
    return Due.on_day(day, zone) if all_day else Due.local(datetime.combine(day, clock), zone)
