"""Positions of the manual order: short strings that sort in plain code-point order.

A position is a decimal fraction, its digits after the point: "5" is 0.5, "17" is
0.17. Between any two there is another, so a move writes only the moved task. Two
positions compare as strings the way their fractions compare whenever the fractions
differ; this module never makes a position equal, as a fraction, to one of its
neighbours, and strips trailing zeros. Digits alone, because every collation orders
digit strings as code points do (PostgreSQL's default one orders letters otherwise).

A new task's position is the time it was created (microseconds, 16 digits), so it
goes last without reading anything; `to: bottom` goes after the last one and before
the next new one (`end_of_order`). When the
gap at a spot has been halved so often that a position would outgrow MAX_LENGTH, the
tasks around it are spread out again (`spread`, a few rows).
"""

from datetime import datetime

DIGITS = "0123456789"
BASE = len(DIGITS)
_VALUE = {digit: value for value, digit in enumerate(DIGITS)}
# 10**16 microseconds reach the year 2286.
STAMP_DIGITS = 16
# Beyond this a move spreads its neighbours out rather than growing a position: about
# a hundred moves into one gap between tasks created a millisecond apart.
MAX_LENGTH = 48


def _to_int(position: str, length: int) -> int:
    """The position's fraction times BASE**length, rounded down."""
    value = 0
    for index in range(length):
        digit = position[index] if index < len(position) else DIGITS[0]
        value = value * BASE + _VALUE[digit]
    return value


def _from_int(value: int, length: int) -> str:
    digits = []
    for _ in range(length):
        value, digit = divmod(value, BASE)
        digits.append(DIGITS[digit])
    return "".join(reversed(digits)).rstrip(DIGITS[0])


def stamp(moment: datetime) -> str:
    """A new task's position: its creation time, after every earlier one."""
    return _from_int(int(moment.timestamp() * 1_000_000), STAMP_DIGITS)


def spread(low: str | None, high: str | None, count: int) -> list[str]:
    """`count` ascending positions strictly between `low` and `high` (None: the start,
    or the end, of the order), evenly spaced, as short as that allows. ValueError if
    no position is between them (`low` is not below `high`)."""
    if low and high is not None and low.rstrip(DIGITS[0]) >= high.rstrip(DIGITS[0]):
        raise ValueError(f"No position between {low!r} and {high!r}.")
    length = 1
    while True:
        # Enough digits to hold both bounds exactly, and count positions between them.
        floor = _to_int(low, length) if low else 0
        ceiling = _to_int(high, length) if high is not None else BASE**length
        if high is not None and len(high.rstrip(DIGITS[0])) > length:
            ceiling += 1  # `high` is above its rounded-down value
        exact_low = not low or len(low.rstrip(DIGITS[0])) <= length
        gap = ceiling - floor
        if exact_low and gap > count:
            return [
                _from_int(floor + gap * (index + 1) // (count + 1), length)
                for index in range(count)
            ]
        length += 1


def end_of_order(last: str | None, now: datetime) -> str | None:
    """The upper bound for a position after `last`, the last task: the next new task's
    (now), so that it still goes last; open (None) if `last` is beyond that already."""
    next_new = stamp(now)
    return next_new if last is None or last < next_new else None


def between(low: str | None, high: str | None) -> str:
    """The shortest position strictly between `low` and `high` (None: an open end)."""
    return spread(low, high, 1)[0]
