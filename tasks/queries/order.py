"""The manual order: moving a task before or after another, or to an end.

Moves of one owner take turns (`_lock_order`), so none reads the order while another
changes it: a move never gives two tasks one position, trash included. Positions are
the owner's one order; a list, or the subtasks of a parent, show the part of it that
is theirs, so a move is among siblings (MoveAnchorNotSibling otherwise).
"""

from collections.abc import Collection

from django.db import connection, transaction
from django.utils import timezone

from tasks import ordering
from tasks.queries.owned import Owned, lock_in_id_order, set_clause, update_one
from tasks.queries.rows import SAME, TABLE, TaskRow, cursor

Place = tuple[str, int]  # a task's (position, id): its place in the manual order


class MoveAnchorMissing(Exception):
    """The task to move before or after is not another of the owner's live tasks."""


class MoveAnchorNotSibling(Exception):
    """The task to move before or after is in another list, or under another parent:
    positions order siblings alone."""


def _lock_order(user_id: str) -> None:
    """Make the owner's moves take turns until this transaction ends: an advisory lock
    on PostgreSQL (no row lock, so no deadlock with other writes); on SQLite the
    transaction holds the write lock from its start (IMMEDIATE, todo_project.database)."""
    if connection.vendor == "postgresql":
        with cursor() as opened:
            opened.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tasks.order:{user_id}"])


def _places(scope: Owned, *, upward: bool, count: int) -> list[Place]:
    """Up to `count` places of the tasks of `scope`, from the lowest (`upward`) or the
    highest."""
    direction = "ASC" if upward else "DESC"
    with cursor() as opened:
        opened.execute(
            f"SELECT position, id FROM {TABLE} WHERE {scope.where} "  # noqa: S608
            f"ORDER BY position {direction}, id {direction} LIMIT %(count)s",
            {**scope.params, "count": count},
        )
        return [(position, task_id) for position, task_id in opened.fetchall()]


# Whether a task is a sibling of the moved one; NULL if the moved one is not the
# owner's (its write then finds nothing: a 404).
_MOVED = f"(SELECT {{column}} FROM {TABLE} WHERE id = %(moved)s AND user_id = %(user_id)s)"  # noqa: S608
_SIBLING = (
    f"CASE WHEN {_MOVED.format(column='list_id')} IS NULL THEN NULL "
    f"WHEN list_id = {_MOVED.format(column='list_id')} "
    f"AND parent_id {SAME} {_MOVED.format(column='parent_id')} THEN 1 ELSE 0 END"
)


def _sibling_place(user_id: str, task_id: int, anchor_id: int) -> Place:
    """The place of the owner's live task `anchor_id`, another sibling of `task_id`
    (same list, same parent); MoveAnchorMissing or MoveAnchorNotSibling if it isn't."""
    anchor = Owned(user_id).task(anchor_id)
    with cursor() as opened:
        opened.execute(
            f"SELECT position, id, {_SIBLING} FROM {TABLE} WHERE {anchor.where}",  # noqa: S608
            {**anchor.params, "moved": task_id},
        )
        found = opened.fetchone()
    if found is None or anchor_id == task_id:
        raise MoveAnchorMissing(anchor_id)
    position, found_id, sibling = found
    if sibling == 0:
        raise MoveAnchorNotSibling(anchor_id)
    return position, found_id


def _neighbours(
    user_id: str, moved: int, start: Place | None, *, upward: bool, count: int
) -> list[Place]:
    """Up to `count` places of the owner's tasks but `moved`, nearest first, from
    `start` on (itself included) upward or downward; from an end without a start.
    The trash is included: a restored task must not come back onto a moved one's place."""
    others = Owned(user_id, "any").narrow("id <> %(moved)s", {"moved": moved})
    if start is not None:
        beyond = ">" if upward else "<"
        others = others.narrow(
            f"position {beyond}= %(start)s AND (position {beyond} %(start)s "
            f"OR id {beyond}= %(start_id)s)",
            {"start": start[0], "start_id": start[1]},
        )
    return _places(others, upward=upward, count=count)


def _side(
    user_id: str, moved: int, nearest: Place | None, *, upward: bool, width: int
) -> tuple[list[Place], str | None]:
    """Up to `width` places on one side of a gap, nearest first, and the position just
    beyond them (None: the order ends there)."""
    if nearest is None:
        return [], None
    places = _neighbours(user_id, moved, nearest, upward=upward, count=width + 1)
    bound = places.pop()[0] if len(places) > width else None
    return places, bound


def _placed(user_id: str, moved: int, low: Place | None, high: Place | None) -> dict[int, str]:
    """New positions putting `moved` between the places `low` and `high` (None: an
    end): its own alone while a short one fits between them, else also theirs,
    spread out over a window of neighbours that doubles until it fits."""
    now = timezone.now()
    if low is None or high is None or low[0] != high[0]:
        ceiling = high[0] if high else ordering.end_of_order(low and low[0], now)
        position = ordering.between(low and low[0], ceiling)
        if len(position) <= ordering.MAX_LENGTH:
            return {moved: position}
    width = 8
    while True:
        below, low_bound = _side(user_id, moved, low, upward=False, width=width)
        above, high_bound = _side(user_id, moved, high, upward=True, width=width)
        if not above:
            high_bound = ordering.end_of_order(below[0][0] if below else None, now)
        window = [task for _, task in reversed(below)] + [moved] + [task for _, task in above]
        try:
            positions = ordering.spread(low_bound, high_bound, len(window))
        except ValueError:  # the bounds tie: widen the window past them
            positions = []
        if positions and max(map(len, positions)) <= ordering.MAX_LENGTH:
            return dict(zip(window, positions, strict=True))
        width *= 2


def task_move(
    *,
    user_id: str,
    task_id: int,
    before: int | None = None,
    after: int | None = None,
    to: str | None = None,
    versions: Collection[int] | None = None,
) -> TaskRow | None:
    """Move the owner's live task right before (or after) another of their live tasks,
    or to the "top" or "bottom" of their manual order; the task as moved, or None as
    `task_update` says. Raise MoveAnchorMissing if the other task is not another of
    theirs. Usually only the moved task is written; when the gap is spent, a few
    neighbours are spread out too (each a change: its version steps)."""
    with transaction.atomic():
        _lock_order(user_id)
        anchor_id = before if before is not None else after
        if anchor_id is not None:
            anchor = _sibling_place(user_id, task_id, anchor_id)
            beside = _neighbours(user_id, task_id, anchor, upward=after is not None, count=2)
            other = beside[1] if len(beside) > 1 else None  # beside[0] is the anchor
            low, high = (anchor, other) if after is not None else (other, anchor)
        else:
            upward = to == "top"
            end = _neighbours(user_id, task_id, None, upward=upward, count=1)
            nearest = end[0] if end else None
            low, high = (None, nearest) if upward else (nearest, None)
        placed = _placed(user_id, task_id, low, high)
        moved = _write_position(
            Owned(user_id).task(task_id).at_versions(versions), placed.pop(task_id)
        )
        if moved is not None and placed:
            # The spread neighbours, as every write of many tasks takes its tasks.
            spread = Owned(user_id, "any")
            lock_in_id_order(spread.tasks(placed))
            for other_id in sorted(placed):
                _write_position(spread.task(other_id), placed[other_id])
    return moved


def _write_position(task: Owned, position: str) -> TaskRow | None:
    clause, params = set_clause({"position": "%(position)s"})
    return update_one(task, clause, {**params, "position": position})
