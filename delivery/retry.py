"""The one retry policy of every outlet: a schedule of delays, the n-th after the n-th
failed attempt (Standard Webhooks' `5s,5m,30m,2h,5h,10h,10h` for webhooks).

Kept free of Django imports: the settings parse their schedules with it.
"""

import re

_DELAY = re.compile(r"(\d+)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(text: str) -> tuple[float, ...]:
    """`5s,5m,30m,2h` as seconds; raise ValueError for anything else (an empty one too)."""
    delays = []
    for part in text.split(","):
        found = _DELAY.fullmatch(part.strip())
        if found is None:
            raise ValueError(f"{part.strip()!r} is not a delay like 5s, 5m, 2h or 1d")
        delays.append(int(found[1]) * _SECONDS[found[2]])
    return tuple(delays)


def delay_after(failures: int, schedule: tuple[float, ...], *, forever: bool) -> float | None:
    """The delay before the next attempt after `failures` failed ones (1 or more):
    the schedule's entry for it; past its end, its last one again if `forever`, else
    None (give up)."""
    if failures <= len(schedule):
        return schedule[failures - 1]
    return schedule[-1] if forever else None
