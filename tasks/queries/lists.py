"""Lists: a user's lists of tasks, their names, colors and manual order.

Lists are few (at most MAX_LISTS_PER_USER per user) and off the hot path, so this
module writes them through the ORM. Its rules:
- a name is unique per user, case-insensitively (`name_key`, a unique constraint);
- `version` steps, and `updated_at` moves, on every real change (the triggers that
  keep `task_count` and `open_count` step it too, migration 0017);
- the Inbox can be renamed and moved, never deleted;
- each real change is an event (delivery.events), in the change's transaction;
- a list's tasks leave it before it goes: to the trash, to another list, or (those
  already in the trash) to the Inbox, where they are restored to.

Writes that move tasks run under the owner's tree lock (tasks.queries.tree) and lock
the tasks before the list, the order every task write takes them in.
"""

from collections.abc import Collection, Mapping
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from delivery import events
from delivery.models import EventType
from tasks import ordering
from tasks.exceptions import InboxUndeletable, ListLimitReached, ListNameTaken, ListNotEmpty
from tasks.models import TaskList
from tasks.queries.owned import Owned, lock_in_id_order, select_ids
from tasks.queries.tree import list_for_write, lock_tree, tasks_move_to_list, trash_with_descendants


def lists_all(*, user_id: str) -> list[TaskList]:
    """The owner's lists in their manual order (ties by id)."""
    return list(TaskList.objects.filter(user_id=user_id).order_by("position", "id"))


def list_get(*, user_id: str, list_id: int) -> TaskList | None:
    return TaskList.objects.filter(user_id=user_id, id=list_id).first()


def _named(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` with the name's key beside the name, and the color in lower case."""
    written = dict(fields)
    if "name" in written:
        written["name_key"] = written["name"].casefold()
    if written.get("color"):
        written["color"] = written["color"].lower()
    return written


def list_create(*, user_id: str, fields: Mapping[str, Any]) -> TaskList:
    """A new list of the owner's, last in their order; ListLimitReached at
    MAX_LISTS_PER_USER lists, ListNameTaken if one has the name already."""
    if TaskList.objects.filter(user_id=user_id).count() >= settings.MAX_LISTS_PER_USER:
        raise ListLimitReached()
    now = timezone.now()
    try:
        with transaction.atomic():
            task_list = TaskList.objects.create(
                user_id=user_id,
                position=ordering.stamp(now),
                created_at=now,
                updated_at=now,
                **_named(fields),
            )
            events.record_list(EventType.LIST_CREATED, task_list)
            return task_list
    except IntegrityError:
        raise ListNameTaken() from None


def _locked(user_id: str, list_id: int, versions: Collection[int] | None) -> TaskList | None:
    """The owner's list, locked until the transaction ends, if it is at one of
    `versions` (when given)."""
    found = TaskList.objects.select_for_update().filter(user_id=user_id, id=list_id).first()
    if found is None or (versions is not None and found.version not in versions):
        return None
    return found


def _write(task_list: TaskList, fields: Mapping[str, Any]) -> TaskList:
    """Write `fields` to the locked list; a change steps its version."""
    changed = {name: value for name, value in fields.items() if getattr(task_list, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(task_list, name, value)
        task_list.version += 1
        task_list.updated_at = timezone.now()
        task_list.save(update_fields=[*changed, "version", "updated_at"])
        events.record_list(EventType.LIST_UPDATED, task_list)
    return task_list


def list_update(
    *,
    user_id: str,
    list_id: int,
    fields: Mapping[str, Any],
    versions: Collection[int] | None = None,
) -> TaskList | None:
    """Write `fields` (name, color) to the owner's list; the list as written, or None
    if there is none (at one of `versions`). ListNameTaken on a clash."""
    try:
        with transaction.atomic():
            task_list = _locked(user_id, list_id, versions)
            return task_list and _write(task_list, _named(fields))
    except IntegrityError:
        raise ListNameTaken() from None


class ListMoveAnchorMissing(Exception):
    """The list to move before or after is not another of the owner's lists."""


def list_move(
    *,
    user_id: str,
    list_id: int,
    before: int | None = None,
    after: int | None = None,
    to: str | None = None,
    versions: Collection[int] | None = None,
) -> TaskList | None:
    """Move the owner's list right before (or after) another of theirs, or to the
    "top" or "bottom"; the list as moved, or None as `list_update` says. Raise
    ListMoveAnchorMissing if the other list isn't another of theirs. Usually only the
    moved list is written; when the gap is spent, every list is spread out again."""
    with transaction.atomic():
        # Every list of the owner, locked: moves take turns, and a user has few lists.
        lists = list(
            TaskList.objects.select_for_update().filter(user_id=user_id).order_by("position", "id")
        )
        moved = next((found for found in lists if found.id == list_id), None)
        if moved is None or (versions is not None and moved.version not in versions):
            return None
        others = [found for found in lists if found.id != list_id]
        anchor_id = before if before is not None else after
        if anchor_id is not None:
            index = next((i for i, found in enumerate(others) if found.id == anchor_id), None)
            if index is None:
                raise ListMoveAnchorMissing(anchor_id)
            slot = index if before is not None else index + 1
        else:
            slot = 0 if to == "top" else len(others)
        low = others[slot - 1].position if slot > 0 else None
        high = others[slot].position if slot < len(others) else None
        if high is None:
            high = ordering.end_of_order(low, timezone.now())
        try:
            position = ordering.between(low, high)
        except ValueError:  # two lists tie where it goes
            position = ""
        if position and len(position) <= ordering.MAX_LENGTH:
            return _write(moved, {"position": position})
        placed = [*others[:slot], moved, *others[slot:]]
        for task_list, spread in zip(placed, ordering.spread(None, None, len(placed)), strict=True):
            _write(task_list, {"position": spread})
        return moved


Leave = Literal["keep", "trash", "move"]


def list_delete(
    *,
    user_id: str,
    list_id: int,
    tasks: Leave = "keep",
    to: int | None = None,
    versions: Collection[int] | None = None,
) -> bool:
    """Delete the owner's list: with its live tasks only if `tasks` says where they go
    (to the trash with it, or to the list `to`), else ListNotEmpty; its tasks in the
    trash go to the Inbox, where a restore brings them back (a subtask, to its parent's
    list if that is live). False if there is no such list (at one of `versions`);
    InboxUndeletable for the Inbox."""
    with transaction.atomic():
        lock_tree(user_id)
        in_list = Owned(user_id, "any").narrow("list_id = %(list)s", {"list": list_id})
        lock_in_id_order(in_list)
        task_list = _locked(user_id, list_id, versions)
        if task_list is None:
            return False
        if task_list.is_inbox:
            raise InboxUndeletable()
        live = select_ids(Owned(user_id).narrow("list_id = %(list)s", {"list": list_id}))
        inbox = TaskList.objects.get(user_id=user_id, is_inbox=True).id
        if tasks == "move" and to is not None:
            if to == list_id:
                raise ValidationError({"to": ["Name a list other than the one deleted."]})
            list_for_write(user_id, to, field="to")
            tasks_move_to_list(user_id=user_id, task_ids=live, list_id=to)
        elif live and tasks == "keep":
            raise ListNotEmpty(len(live))
        elif live:
            trash_with_descendants(user_id, live)
        # What is left is in the trash, and is restored to the Inbox.
        tasks_move_to_list(user_id=user_id, task_ids=select_ids(in_list), list_id=inbox)
        events.record_list(EventType.LIST_DELETED, task_list)
        task_list.delete()
    return True
