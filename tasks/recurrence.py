"""Recurrence rules: the contract's subset of RFC 5545 RRULEs, expanded by
python-dateutil on local wall-clock time, so that "every Monday 09:00" stays 09:00 in
the task's zone across daylight saving changes (tasks.due_dates turns a wall-clock
time into an instant).

A series runs from its start: the wall-clock time of the occurrence now due, moved on
at each completion, with the number of occurrences of COUNT used up before it.

No rule can take long to expand. dateutil looks for a match period by period until
one matches or the year 9999 ends, so a rule that can never match would loop for
minutes: values are checked against the calendar first, and whether a rule matches
at all is asked of it 400 years before the year 9999, where the Gregorian calendar
(which repeats itself every 400 years, to the weekday) leaves it at most 800 years
to look. A rule that does match finds its next occurrence within decades, and a
search gives up SEARCH_YEARS past the moment it starts from.
"""

import re
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr
from django.core.exceptions import ValidationError

from tasks.due_dates import Due, local_time

MAX_LENGTH = 500
SEARCH_YEARS = 10
# A series may start this many years in the past at most: its first completion walks
# the rule from there to now.
MAX_PAST_YEARS = 10
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
_NUMBER = re.compile(r"[+-]?\d{1,3}")
_WEEKDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# How many dates one period holds at most, which BYSETPOS picks among.
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
# The ordinals BYDAY may carry (`-1FR`): weeks of a month, or of a year.
_ORDINALS = {"MONTHLY": 5, "YEARLY": 53}
CYCLE_YEARS = 400


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code="invalid")


def parse_parts(text: str) -> dict[str, str]:
    """The rule's parts (`FREQ=WEEKLY;BYDAY=MO` → {"FREQ": "WEEKLY", "BYDAY": "MO"}),
    each once, of the contract's subset, with values the calendar can meet;
    ValidationError otherwise."""
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
    _check_calendar(parts)
    return parts


def _numbers(parts: dict[str, str], name: str, bound: int, *, signed: bool) -> list[int]:
    """The values of a BY part: whole numbers of 1..bound (or -bound..-1 when signed)."""
    if name not in parts:
        return []
    values = parts[name].split(",")
    numbers = [int(value) for value in values if _NUMBER.fullmatch(value)]
    low = -bound if signed else 1
    if len(numbers) != len(values) or any(n == 0 or not low <= n <= bound for n in numbers):
        sign = f"-{bound}..-1 or " if signed else ""
        raise _invalid(f"{name} takes whole numbers of {sign}1..{bound}, comma-separated.")
    return numbers


def _check_calendar(parts: dict[str, str]) -> None:
    """Refuse values no date has, and months none of which has the days asked for."""
    frequency = parts["FREQ"]
    months = _numbers(parts, "BYMONTH", 12, signed=False)
    month_days = _numbers(parts, "BYMONTHDAY", 31, signed=True)
    _numbers(parts, "BYSETPOS", _PERIOD_DAYS[frequency], signed=True)
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = _WEEKDAY.fullmatch(day)
        if match is None:
            raise _invalid("BYDAY takes weekdays (MO..SU), comma-separated, e.g. MO,WE or -1FR.")
        if match[1] is not None:
            bound = _ORDINALS.get(frequency)
            if bound is None:
                raise _invalid("A BYDAY ordinal (-1FR) needs FREQ MONTHLY or YEARLY.")
            if not (match[1].lstrip("+-").isdigit() and 1 <= abs(int(match[1])) <= bound):
                raise _invalid(f"A BYDAY ordinal is 1..{bound} or -{bound}..-1 with {frequency}.")
    if month_days and not any(
        abs(day) <= _MONTH_DAYS[month - 1] for month in months or range(1, 13) for day in month_days
    ):
        raise _invalid("No month of the rule has the BYMONTHDAY days it asks for.")


def validate_recurrence(text: str) -> None:
    """The rule is of the contract's subset and dateutil reads it (whether it has an
    occurrence is asked once the series' start is known: `check_start`)."""
    parts = parse_parts(text)
    try:
        _rule(parts, datetime(2000, 1, 1))
    except (ValueError, TypeError) as error:
        raise _invalid(f"Not a valid RRULE: {error}") from None


def check_repeat_from(parts: dict[str, str], repeat_from: str) -> None:
    if repeat_from == "completion" and (extra := sorted(parts.keys() - COMPLETION_PARTS)):
        raise _invalid(
            f"With repeat_from `completion` only FREQ, INTERVAL, COUNT and UNTIL apply, "
            f"not {', '.join(extra)}."
        )


def until(parts: dict[str, str], zone: str | None, *, all_day: bool) -> datetime | None:
    """UNTIL as the wall-clock time the rule runs on (a UTC time moved into the task's
    zone; a date, the end of that day), or None."""
    if "UNTIL" not in parts:
        return None
    match = _UNTIL.fullmatch(parts["UNTIL"])
    assert match is not None  # parse_parts checked it
    day, clock, utc = match.groups()
    moment = datetime.strptime(day + (clock or "235959"), "%Y%m%d%H%M%S")
    if utc:
        moment = local_time(Due.at_utc(moment), zone)
    return datetime.combine(moment.date(), time.max) if all_day else moment


def _rule(parts: dict[str, str], start: datetime, *, end: datetime | None = None) -> rrule:
    """The rule from `start` (wall-clock), without COUNT (series count it) and until `end`."""
    body = ";".join(
        f"{name}={value}" for name, value in parts.items() if name not in {"COUNT", "UNTIL"}
    )
    rule = rrulestr(body, dtstart=start)
    assert isinstance(rule, rrule)  # one RRULE, never a set
    return rule if end is None else rule.replace(until=end)


def check_start(
    parts: dict[str, str], start: datetime, *, now: datetime, end: datetime | None
) -> None:
    """Refuse a series starting at `start` (wall-clock) that never matches, that has no
    occurrence from its start on (before `end`, its UNTIL), or that starts over
    MAX_PAST_YEARS before `now` (wall-clock too)."""
    if start < _add_years(now, -MAX_PAST_YEARS):
        raise _invalid(f"A recurring task's due date is at most {MAX_PAST_YEARS} years ago.")
    cycles = max(0, (datetime.max.year - CYCLE_YEARS - start.year) // CYCLE_YEARS)
    late = start.replace(year=start.year + cycles * CYCLE_YEARS)
    if _rule(parts, late).after(late, inc=True) is None:
        raise _invalid("This rule has no occurrence.")
    first = _first_after(_rule(parts, start, end=end), start, inc=True)
    if first is None:
        raise _invalid(f"This rule has no occurrence within {SEARCH_YEARS} years of the due date.")


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment + relativedelta(years=years)
    except (OverflowError, ValueError):
        return datetime.max if years > 0 else datetime.min


def _first_after(rule: rrule, moment: datetime, *, inc: bool = False) -> datetime | None:
    """The rule's first occurrence after `moment` (or at it, with `inc`), looked for
    until SEARCH_YEARS past it."""
    horizon = _add_years(moment, SEARCH_YEARS)
    for occurrence in rule:
        if occurrence > horizon:
            return None
        if occurrence > moment or (inc and occurrence == moment):
            return occurrence
    return None


def next_occurrence(
    parts: dict[str, str],
    *,
    start: datetime,
    done: int,
    now: datetime,
    end: datetime | None,
    all_day: bool,
) -> tuple[datetime, int] | None:
    """For `repeat_from: due`: the rule's first occurrence after both the one now due
    (`start`, wall-clock) and `now` (wall-clock; missed ones are skipped), and how many
    occurrences of COUNT that uses up (the one due, and those skipped); None when the
    series has ended (`done` of COUNT used up before `start`, or `end` passed)."""
    if all_day:
        # An occurrence today is still ahead: it is due at the end of the day.
        now = datetime.combine(now.date(), time()) - timedelta(microseconds=1)
    after = max(start, now)
    left = int(parts["COUNT"]) - done if "COUNT" in parts else None
    used = 1
    horizon = _add_years(after, SEARCH_YEARS)
    for occurrence in _rule(parts, start, end=end):
        if occurrence <= start:
            continue
        if occurrence > horizon or (left is not None and used >= left):
            return None
        if occurrence > after:
            return occurrence, used
        used += 1
    return None


def next_after_completion(
    parts: dict[str, str],
    *,
    start: datetime,
    done: int,
    completed_on: date,
    end: datetime | None,
) -> datetime | None:
    """For `repeat_from: completion`: the completion's local date plus the interval (a
    month later is the same day of the month, or the month's last day when it has
    none), at the time of day of the occurrence now due (`start`); None when COUNT
    (`done` of it used before) or `end` ends the series."""
    if "COUNT" in parts and done + 1 >= int(parts["COUNT"]):
        return None
    count = int(parts.get("INTERVAL", "1"))
    step = {
        "DAILY": relativedelta(days=count),
        "WEEKLY": relativedelta(weeks=count),
        "MONTHLY": relativedelta(months=count),
        "YEARLY": relativedelta(years=count),
    }[parts["FREQ"]]
    following = datetime.combine(completed_on + step, start.time())
    return None if end is not None and following > end else following
