"""The ways a task write is refused beyond validation, as DRF exceptions."""

import math

from rest_framework import status
from rest_framework.exceptions import APIException


class TaskLimitReached(APIException):
    """The owner already holds MAX_TASKS_PER_USER tasks: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "You have as many tasks as one account may hold; delete some first."


class PreconditionFailed(APIException):
    """The task is not at a version `If-Match` names: 412, with its current ETag."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The task has changed since that version (If-Match); nothing was written. "
        "Read it again and retry."
    )

    def __init__(self, etag: str) -> None:
        super().__init__()
        self.headers = {"ETag": etag}


class SyncTokenExpired(APIException):
    """A changes-feed token older than TRASH_RETENTION_DAYS, or from before deletions
    the feed has forgotten since (MAX_TOMBSTONES_PER_USER): 410; sync in full."""

    status_code = status.HTTP_410_GONE
    default_detail = (
        "This token is older than the deletions the feed still keeps; sync in full "
        "(no `since`) and go on from the token that hands out."
    )
    problem_type = "urn:todo-api:problem:sync-token-expired"


class KeyInFlight(APIException):
    """A request with this Idempotency-Key is still running: 409, retry in a second."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still running; retry shortly."

    def __init__(self) -> None:
        super().__init__()
        self.wait = 1


class KeyReused(APIException):
    """This Idempotency-Key was first sent with another body: 422."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was sent with another body; use a new key."


class KeptResponsesFull(APIException):
    """The caller keeps MAX_KEPT_RESPONSE_BYTES of Idempotency-Key responses already:
    429 with `Retry-After` (until the oldest of them is forgotten); nothing was done."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = (
        "You keep as many retry-safe (Idempotency-Key) responses as one account may; "
        "nothing was done. Retry after Retry-After seconds, or send the request "
        "without an Idempotency-Key."
    )
    problem_type = "urn:todo-api:problem:kept-responses-full"

    def __init__(self, wait: float) -> None:
        super().__init__()
        # Whole seconds, rounded up: the oldest is forgotten by then.
        self.wait = max(1, math.ceil(wait))


class BulkTooLarge(APIException):
    """A bulk action's `where` matches more tasks than one request may change (or
    than it may change one by one): 409, with an `errors` entry for `where`; nothing
    was changed. One request's transaction stays short, so no other user's changes
    feed waits on it."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, matched: int, limit: int, *, one_by_one: bool = False) -> None:
        what = "tasks that repeat or have reminders" if one_by_one else "tasks"
        detail = (
            f"`where` matches {matched} {what}, over the {limit} one request may change; "
            "nothing was changed. Narrow it (with `due_before`, `tag`, `priority`...), "
            "or send their `ids`, 200 at a time."
        )
        self.errors = {"where": [detail]}
        super().__init__(detail)


class NamedNotFound(APIException):
    """Ids in a request body name none of the caller's rows of a `kind`: 404, with an
    `errors` entry for each (`ids.3`, `after`); nothing was written."""

    status_code = status.HTTP_404_NOT_FOUND
    kind: str

    def __init__(self, names: list[str]) -> None:
        self.errors = {name: [f"No such {self.kind}."] for name in names}
        super().__init__(f"No such {self.kind} of yours: {', '.join(names)}; nothing was changed.")


class TasksNotFound(NamedNotFound):
    """Ids that name none of the caller's live tasks."""

    kind = "task"


class ListsNotFound(NamedNotFound):
    """Ids that name none of the caller's lists."""

    kind = "list"


class ListLimitReached(APIException):
    """The owner already holds MAX_LISTS_PER_USER lists: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "You have as many lists as one account may hold; delete one first."


class ListNameTaken(APIException):
    """Another of the owner's lists has this name, case-insensitively: 409 naming `name`."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "You have a list of this name already (names ignore case)."

    def __init__(self) -> None:
        super().__init__()
        self.errors = {"name": [str(self.default_detail)]}


class ListNotEmpty(APIException):
    """A list with live tasks deleted without saying where they go: 409."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, count: int) -> None:
        super().__init__(
            f"This list holds {count} tasks; nothing was deleted. Send `?tasks=trash` to "
            "trash them with it, or `?tasks=move&to=<list id>` to move them first."
        )


class InboxUndeletable(APIException):
    """The Inbox can be renamed and moved, not deleted: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The Inbox can't be deleted; rename it or move it instead."
