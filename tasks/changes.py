"""The changes feed: what changed in a user's tasks since a token this feed handed out.

How it can't skip a change. Every write of a task (and every delete for good, through
its tombstone) carries a `change_id`, written by a trigger (migration 0009): on
PostgreSQL the id of the writing transaction, on SQLite the next value of a clock.
A token is a position (change id, task id); an answer hands out the changes after it
in that order and ends its token at the last one handed out. Only *settled* changes
are handed out: on PostgreSQL those whose transaction id is below the bound of the
answering statement's own snapshot: the oldest id it saw running in this database,
or its xmax when none was. Every transaction below the bound has ended, or runs in
another database and can't write these tables, so its changes are all visible to
that snapshot; any transaction of this database still running or yet to write has an
id at the bound or above, beyond every token handed out. So no change can commit
behind a token. (Assigning a number inside the transaction isn't enough: a
transaction that takes a lower number can commit after a reader has passed it.) On
SQLite one writer at a time holds the write lock from its first write to its commit,
so its clock values commit in order and everything visible is settled.

The price: while a transaction with an id is open in this database (or a prepared
transaction, which no session in pg_stat_activity names a database for), later
changes wait for it to end before the feed hands them out (they are never lost).
The service's own transactions last one request at most; setting
`idle_in_transaction_session_timeout` on the server bounds anyone else's.

Tokens are signed per user (another user's or a made-up token is a 400) and dated: one
older than TRASH_RETENTION_DAYS may be behind a forgotten tombstone, so it is a 410.
Tombstones are kept a day longer than that, so a token still valid never outlives one.

Tombstones are bounded per user too: deleting tasks for good forgets the user's oldest
beyond MAX_TOMBSTONES_PER_USER, and moves the user's horizon (tasks.models.FeedHorizon)
to the newest forgotten one's position, counting one more `epoch`. A token carries the
epoch the answer that handed it out saw; it is a 410 as well when its position is
before the horizon and the epoch has moved since. Why both. The position alone is not
enough: a full sync hands out the live tasks in change order, and a user's oldest live
tasks are often older than the horizon, so its tokens would be refused again and again.
What such a token lacks is only what was forgotten before it was handed out, which its
answer had no use for (those tasks were gone by then), so only a forgetting after it
counts. The epoch alone would do, but refuses tokens past every forgotten tombstone too.
Why it can't skip a change. A tombstone of a task a client holds comes after every
position the answer that handed out that task could give (on PostgreSQL the deleting
transaction's id is at least that answer's bound), and it can be forgotten only by a
transaction that committed after that answer's snapshot, so one that moved the epoch
past the one every token up to then carries. The first answer to see that forgetting
gets a token from before it, at a position before the tombstone, so before the
horizon: a 410. (The horizon and the tombstones are read by the feed's one statement,
so it sees them both before or both after a forgetting.)
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from rest_framework.exceptions import ValidationError

from tasks import queries
from tasks.exceptions import SyncTokenExpired
from tasks.queries import ListChanges, TaskRow
from tasks.serializers import list_json, task_json

UNKNOWN_SINCE = "This token is not one the changes feed handed you."

# How long after the token's own age limit a tombstone is still kept.
TOMBSTONE_MARGIN = timedelta(days=1)


def _signer(user_id: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"tasks.changes:{user_id}")


def encode_token(user_id: str, position: tuple[int, int], epoch: int = 0, lists: int = -1) -> str:
    """A signed token of the user's for a position, at the horizon epoch its answer saw,
    and the position of its lists."""
    change_id, task_id = position
    return _signer(user_id).sign(f"{change_id}.{task_id}.{epoch}.{lists}")


def decode_token(user_id: str, token: str) -> tuple[tuple[int, int], int, int | None]:
    """The position, horizon epoch and lists' position a token of this user's names: a
    400 naming `since` if it is not one the feed handed them, SyncTokenExpired if it is
    older than TRASH_RETENTION_DAYS. A token from before epochs were carried has epoch
    0; one from before lists, no lists' position (every list is sent again)."""
    max_age = timedelta(days=settings.TRASH_RETENTION_DAYS)
    try:
        change_id, task_id, *rest = _signer(user_id).unsign(token, max_age=max_age).split(".")
        if len(rest) > 2:
            raise ValueError(token)
        epoch = int(rest[0]) if rest else 0
        lists = int(rest[1]) if len(rest) > 1 else None
        return (int(change_id), int(task_id)), epoch, lists
    except signing.SignatureExpired:
        raise SyncTokenExpired() from None
    except (signing.BadSignature, ValueError):
        raise ValidationError({"since": [UNKNOWN_SINCE]}) from None


@dataclass(frozen=True)
class Changes:
    upserted: list[TaskRow]
    deleted: list[int]
    lists: ListChanges
    next_token: str
    more: bool


def token_now(*, user_id: str) -> str:
    """A token from which the feed hands out the changes that settle from now on,
    and none before: where a live stream without `since` starts."""
    position = queries.feed_position(user_id=user_id)
    return encode_token(user_id, position.tasks, position.epoch, position.lists)


def changes_since(*, user_id: str, since: str | None, limit: int) -> Changes:
    """Up to `limit` task changes after the token `since` (none: a full sync of the
    live tasks), in one query, every list changed since (or every list), and the token
    to ask for the next ones with; SyncTokenExpired if `since` is behind the user's
    horizon (see above). Lists go by a position of their own in the same token, under
    the same rules as tasks; they are few, so they are not paged."""
    after, epoch, lists_after = decode_token(user_id, since) if since else (None, 0, None)
    found = queries.task_changes(user_id=user_id, after=after, epoch=epoch, size=limit + 1)
    if found.behind_horizon:
        raise SyncTokenExpired()
    lists = queries.list_changes(user_id=user_id, after=lists_after)
    page = found.changes[:limit]
    position = (page[-1]["change_id"], page[-1]["task_id"]) if page else after or (-1, 0)
    return Changes(
        upserted=[change["task"] for change in page if change["task"] is not None],
        deleted=[change["task_id"] for change in page if change["task"] is None],
        lists=lists,
        next_token=encode_token(user_id, position, found.epoch, lists.position),
        more=len(found.changes) > limit,
    )


def changes_json(changes: Changes) -> dict[str, Any]:
    """The feed's answer as `GET /changes` and a live stream's events carry it."""
    return {
        "upserted": [task_json(task) for task in changes.upserted],
        "deleted": changes.deleted,
        "lists": {
            "upserted": [list_json(found) for found in changes.lists.upserted],
            "deleted": changes.lists.deleted,
        },
        "next": changes.next_token,
        "more": changes.more,
    }
