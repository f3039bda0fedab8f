"""The one retry policy of every outlet: a schedule of delays, the n-th after the n-th
failed attempt (Standard Webhooks' `5s,5m,30m,2h,5h,10h,10h` for webhooks; the
settings read the schedules, `Environment.schedule`).
"""


def delay_after(failures: int, schedule: tuple[float, ...], *, forever: bool) -> float | None:
    """The delay before the next attempt after `failures` failed ones (1 or more):
    the schedule's entry for it; past its end, its last one again if `forever`, else
    None (give up)."""
    if failures <= len(schedule):
        return schedule[failures - 1]
    return schedule[-1] if forever else None
