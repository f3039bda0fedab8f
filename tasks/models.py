"""The task (one to-do item of one Better Auth user) and the lists that hold tasks."""

from collections.abc import Iterable

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import MAX_ROW_ID
from accounts.timezones import MAX_LENGTH as TIME_ZONE_LENGTH
from accounts.timezones import validate_time_zone
from tasks.recurrence import validate_recurrence

# A larger number in a URL or cursor can name no task.
MAX_TASK_ID = MAX_ROW_ID
# A chain of subtasks holds at most this many tasks: a task with MAX_DEPTH - 1
# ancestors can have no child.
MAX_DEPTH = 5
# The Inbox's place among a user's lists: before every list made later (their
# positions are creation times, `tasks.ordering.stamp`), until it is moved.
INBOX_POSITION = "1"
INBOX_NAME = "Inbox"


class RepeatFrom(models.TextChoices):
    """What a recurring task's next due date follows (tasks.recurrence)."""

    DUE = "due"
    COMPLETION = "completion"


class Priority(models.IntegerChoices):
    """Stored as a number so that sorting by priority runs low to high."""

    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"


# `tag_keys` holds each tag case-folded and fenced by this separator
# ("\x1flunch\x1fwork\x1f"), so one `LIKE '%\x1fwork\x1f%'` finds a tag on SQLite and
# PostgreSQL alike. Tags may contain the separator itself, so it (and the escape
# character) are escaped inside a key.
TAG_SEPARATOR = "\x1f"


def tag_key(tag: str) -> str:
    """The form of a tag that `tag_keys` stores and the `tag` filter looks for."""
    folded = tag.casefold().replace("%", "%25").replace(TAG_SEPARATOR, "%1F")
    return f"{TAG_SEPARATOR}{folded}{TAG_SEPARATOR}"


def tag_keys(tags: Iterable[str]) -> str:
    return "".join(tag_key(tag) for tag in tags)


class TaskList(models.Model):
    """A list of one user's tasks. Every user has exactly one Inbox, made by a trigger
    when their mirror row is (migration 0017), which can't be deleted.

    `task_count` and `open_count` (its live tasks, and those not completed) are kept
    by triggers inside every statement that writes a task, as TaskCount is; each
    change of them is a change of the list (its version steps). Every write goes
    through `tasks.queries.lists`.
    """

    # No index of its own: the unique constraints lead with it.
    user = models.ForeignKey(
        "accounts.BetterAuthUser", on_delete=models.CASCADE, related_name="lists", db_index=False
    )
    name = models.CharField(max_length=100)
    # `name` case-folded: what "unique per user, case-insensitively" compares (SQL's
    # LOWER folds ASCII alone on SQLite).
    name_key = models.CharField(max_length=400, editable=False)
    color = models.CharField(max_length=7, null=True, blank=True)  # noqa: DJ001
    is_inbox = models.BooleanField(default=False, editable=False)
    position = models.CharField(max_length=64, default="", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    task_count = models.IntegerField(default=0, editable=False)
    open_count = models.IntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # The changes feed's position of its last change, written by a trigger.
    change_id = models.BigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name_key"], name="list_name_once"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_inbox=True), name="list_one_inbox"
            ),
        ]
        # No index on `change_id`: the feed reads a user's few lists by the owner, and
        # the triggers' updates of the counts (and change id) stay HOT, in place.
        indexes = [models.Index(fields=["user", "position", "id"], name="list_user_position")]

    def __str__(self) -> str:
        return self.name


class ListTombstone(models.Model):
    """A list deleted, kept for the changes feed as long as a task's tombstone is:
    written by a trigger on every delete of a list (migration 0017)."""

    list_id = models.BigIntegerField(primary_key=True)
    user_id = models.CharField(max_length=255)
    change_id = models.BigIntegerField()
    deleted_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "change_id", "list_id"], name="list_tomb_user_changed"),
            models.Index(fields=["deleted_at"], name="list_tomb_deleted"),
        ]

    def __str__(self) -> str:
        return f"List {self.list_id} of {self.user_id}, deleted {self.deleted_at:%Y-%m-%d}"


class Task(models.Model):
    """Every write goes through `tasks.queries`, which keeps the server-managed fields."""

    # No index of its own: every composite index below leads with it.
    user = models.ForeignKey(
        "accounts.BetterAuthUser", on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=1000, blank=True, default="")
    completed = models.BooleanField(default=False)
    # Server-managed fields are not editable: tasks.queries writes them by its rules.
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateTimeField(null=True, blank=True)
    # An all-day task's date, answered as its `due_date`; `due_date` then holds the end
    # of that day in the task's zone, the instant that filters and sorts compare.
    due_day = models.DateField(null=True, blank=True, editable=False)
    tags = models.JSONField(default=list, blank=True)
    # The zone of the task's local times (null: UTC). Null rather than "", as the JSON
    # answers it; a new task without one takes its owner's (accounts' settings).
    time_zone = models.CharField(  # noqa: DJ001
        max_length=TIME_ZONE_LENGTH, null=True, blank=True, validators=[validate_time_zone]
    )
    # An RFC 5545 RRULE (tasks.recurrence); null for a task that does not repeat.
    recurrence = models.CharField(  # noqa: DJ001
        max_length=500, null=True, blank=True, validators=[validate_recurrence]
    )
    repeat_from = models.CharField(
        max_length=10, choices=RepeatFrom.choices, default=RepeatFrom.DUE
    )
    # Where the series goes on from: the wall-clock time (ISO 8601, no offset) in the
    # task's zone of the occurrence now due, and how many of COUNT came before it.
    series_start = models.CharField(  # noqa: DJ001
        max_length=26, null=True, blank=True, editable=False
    )
    series_done = models.PositiveIntegerField(default=0, editable=False)
    # Up to 10 of `{"before_minutes": n}` or `{"at": instant}`, each with the
    # `remind_at` it fires at (null once fired or when it can't): tasks.schedule.
    reminders = models.JSONField(default=list, blank=True)
    # The earliest `remind_at` of the reminders, which the worker looks for.
    next_remind_at = models.DateTimeField(null=True, blank=True, editable=False)
    tag_keys = models.TextField(default="", blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # 1 when created, +1 on every real change: the task's ETag, compared by If-Match.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The task's place in the owner's manual order (`tasks.ordering`): digits, compared
    # as strings, ties by id.
    position = models.CharField(max_length=64, default="", editable=False)
    # Set when the task goes to the trash, cleared when it is restored.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where the task's last change stands in the changes feed (`tasks.changes`); a
    # trigger writes it on every insert and every version step (migration 0009).
    change_id = models.BigIntegerField(default=0, editable=False)
    # The door its last change came through (delivery.models.Source): the events
    # the database records of its changes take it (delivery's migration 0002).
    changed_via = models.CharField(max_length=8, default="api", editable=False)
    # Last in the class: a field named `list` shadows the builtin below it.
    # RESTRICT: a list goes only once its tasks have gone (or with its owner).
    list = models.ForeignKey(
        TaskList, on_delete=models.RESTRICT, related_name="tasks", db_index=False
    )
    # Null for a top-level task. A task deleted for good leaves its children (in the
    # trash: those that went with it) top-level.
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subtasks",
        db_index=False,
    )
    # How many live children the task has, kept by triggers (migration 0017): a write
    # that completes a task can see on the task's own row whether any must follow.
    children = models.IntegerField(default=0, editable=False)

    class Meta:
        # One index per sort the list allows; each leads with the owner and ends
        # with the id, the tie-breaker of every order, so keyset paging seeks.
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="task_user_created"),
            models.Index(fields=["user", "updated_at", "id"], name="task_user_updated"),
            models.Index(fields=["user", "title", "id"], name="task_user_title"),
            models.Index(fields=["user", "due_date", "id"], name="task_user_due"),
            models.Index(fields=["user", "priority", "id"], name="task_user_priority"),
            models.Index(fields=["user", "position", "id"], name="task_user_position"),
            models.Index(fields=["user", "change_id", "id"], name="task_user_changed"),
            # One list's tasks, in the default order and the manual one.
            models.Index(
                fields=["user", "list", "created_at", "id"], name="task_user_list_created"
            ),
            models.Index(fields=["user", "list", "position", "id"], name="task_user_list_position"),
            models.Index(
                fields=["parent", "id"], name="task_parent", condition=Q(parent__isnull=False)
            ),
            # The reminders due, across users: what the worker fires.
            models.Index(
                fields=["next_remind_at"],
                name="task_reminder_due",
                condition=Q(next_remind_at__isnull=False),
            ),
            # The trash alone: a live task is never in it.
            models.Index(
                fields=["user", "deleted_at", "id"],
                name="task_user_trashed",
                condition=Q(deleted_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed=True, completed_at__isnull=False)
                | Q(completed=False, completed_at__isnull=True),
                name="task_completed_at_iff_completed",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="task_priority_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskCount(models.Model):
    """How many tasks a user has, live (pending, completed) and in the trash: what
    `X-Total-Count` reads for a list filtered by status alone, in place of counting the
    user's whole history, and what the cap on a user's tasks counts (trash included).

    Database triggers (migrations 0007 and 0009) keep it, inside every statement that
    inserts, deletes, completes, reopens, trashes, restores or moves a task, whichever
    code runs it; nothing else writes it, so it is exact under concurrent writes.
    """

    user = models.OneToOneField(
        "accounts.BetterAuthUser", on_delete=models.CASCADE, primary_key=True
    )
    pending = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    trashed = models.IntegerField(default=0)

    def __str__(self) -> str:
        return (
            f"{self.user_id}: {self.pending} pending, {self.completed} completed, "
            f"{self.trashed} in the trash"
        )


class TaskTombstone(models.Model):
    """A task deleted for good, kept for the changes feed for TRASH_RETENTION_DAYS
    (and a day, see `tasks.changes`): written by a trigger on every delete of a task,
    whichever code runs it (migration 0009)."""

    task_id = models.BigIntegerField(primary_key=True)
    # No foreign key: a user's tasks are buried as the user is deleted.
    user_id = models.CharField(max_length=255)
    change_id = models.BigIntegerField()
    deleted_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "change_id", "task_id"], name="tombstone_user_changed"),
            models.Index(fields=["deleted_at"], name="tombstone_deleted"),
        ]

    def __str__(self) -> str:
        return f"Task {self.task_id} of {self.user_id}, deleted {self.deleted_at:%Y-%m-%d}"


class FeedHorizon(models.Model):
    """How far back a user's changes feed has forgotten tombstones beyond
    MAX_TOMBSTONES_PER_USER (`tasks.queries.trash`): the position (change id, task id)
    of the newest one forgotten, and how many times it has forgotten any (`epoch`).
    A token from before both is a 410 (`tasks.changes`). No row: nothing forgotten
    so far. Only ever moves forward; the epoch never goes back, so the row is kept as
    long as its user."""

    user = models.OneToOneField(
        "accounts.BetterAuthUser", on_delete=models.CASCADE, primary_key=True
    )
    change_id = models.BigIntegerField()
    task_id = models.BigIntegerField()
    epoch = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.user_id}: forgotten up to ({self.change_id}, {self.task_id})"


class IdempotentRequest(models.Model):
    """A request sent with an `Idempotency-Key`, and the response it got, kept for a
    day so that a retry gets that response again instead of doing the work twice
    (`tasks.idempotency`). No status yet: the first request is still running."""

    # No index of its own: the unique constraint and the index below lead with it.
    user = models.ForeignKey("accounts.BetterAuthUser", on_delete=models.CASCADE, db_index=False)
    # The method and path, the user as their id: `me` and the sub are one path.
    scope = models.CharField(max_length=400)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the body, as JSON.")
    created_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    # The bytes the row keeps (`tasks.idempotency.kept_size`), what the cap on a user's
    # kept responses (MAX_KEPT_RESPONSE_BYTES) adds up; while the request runs, a
    # reservation for its response.
    size = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_once")
        ]
        indexes = [
            models.Index(fields=["created_at"], name="idempotency_created"),
            # A user's kept bytes, summed from the index alone, and their oldest.
            models.Index(fields=["user", "created_at", "size"], name="idempotency_user_kept"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class TaskCompletion(models.Model):
    """One completed occurrence of a recurring task (`GET …/tasks/{id}/completions`)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField()
    # The occurrence completed: its due date (the end of its day, for an all-day task).
    due_date = models.DateTimeField()
    due_day = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["task", "completed_at", "id"], name="completion_task")]

    def __str__(self) -> str:
        return f"{self.task_id} completed {self.completed_at:%Y-%m-%d %H:%M}"


class NotPushed(models.TextChoices):
    """Why a reminder that fired was queued for no browser."""

    LATE = "late", "late beyond REMINDER_GRACE_MINUTES"
    NO_SUBSCRIPTION = "no_subscription", "no subscription"
    PUSH_OFF = "push_off", "push is off (no VAPID key)"


class Notification(models.Model):
    """A reminder that fired (`GET /api/{user_id}/notifications`), kept with the task's
    title as it was then, and how many browsers its push was queued for, or why none."""

    user = models.ForeignKey("accounts.BetterAuthUser", on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    remind_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    read = models.BooleanField(default=False)
    # What support staff read first when a reminder didn't reach a browser (the push
    # attempts, delivery.models.PushAttempt, say the rest).
    pushes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many browsers its push was queued for; empty: fired before this was kept.",
    )
    not_pushed = models.CharField(
        max_length=16,
        choices=NotPushed,
        blank=True,
        default="",
        help_text="Why no push was queued, when none was.",
    )

    class Meta:
        # Newest first: by id, as they are numbered when they fire.
        indexes = [models.Index(fields=["user", "id"], name="notification_user")]

    def __str__(self) -> str:
        return f"{self.title} ({self.remind_at:%Y-%m-%d %H:%M})"
