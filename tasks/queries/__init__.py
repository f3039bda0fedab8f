"""How tasks are stored: the one package that reads and writes the task table.

Security invariant: every statement the API runs here is scoped to one owner, by
construction: the statements on existing tasks take an `Owned` scope, which starts
at one owner's tasks and can only be narrowed (tasks.queries.owned); inserts name
their owner. The admin's bulk actions, the one door across users, name their tasks
by id. No identifier in a statement comes from a caller (tasks.queries.rows).

One module per concern:
- `rows`: the table's names, a row as the ORM would read it, values as columns take them;
- `owned`: the owner's scope, the owned UPDATE, and the rules every update keeps;
- `writes`: one task created, updated, completed;
- `order`: the manual order;
- `tree`: subtasks and lists of tasks: moves, and completion, trash and restore of a
  task with its subtree;
- `lists`: the lists themselves;
- `batch`: many tasks at once (bulk actions, the admin's);
- `listing`: one task, a page of the list, counts;
- `trash`: into and out of the trash, and deleting for good;
- `feed`: the changes feed's read.

The hot statements are SQL written once per shape, not built by the ORM per request:
building a query cost more than the database spends answering it. The ORM does what
costs no extra round trip and isn't on a hot path (deletes, bulk loads). The SQL is
plain enough for PostgreSQL and SQLite alike.
"""

from tasks.queries.batch import (
    BULK_LOCAL_TIME,
    TooManyOneByOne,
    tasks_set_completed,
    tasks_set_trashed,
    tasks_update_owned,
)
from tasks.queries.feed import (
    Change,
    FeedPosition,
    ListChanges,
    feed_position,
    list_changes,
    task_changes,
)
from tasks.queries.listing import (
    SORT_FIELDS,
    TRASH_SORT,
    page_statement,
    sort_field,
    task_completions,
    task_count,
    task_get,
    task_page,
)
from tasks.queries.lists import (
    ListMoveAnchorMissing,
    list_create,
    list_delete,
    list_get,
    list_move,
    list_update,
    lists_all,
)
from tasks.queries.order import MoveAnchorMissing, MoveAnchorNotSibling, task_move
from tasks.queries.rows import WRITABLE_FIELDS, TaskRow
from tasks.queries.trash import task_purge, trash_empty, trash_purge
from tasks.queries.tree import task_place, task_restore, task_trash
from tasks.queries.writes import (
    task_check_write,
    task_insert,
    task_reminders_spent,
    task_set_completed,
    task_update,
    tasks_held,
    tasks_load,
)

__all__ = [
    "BULK_LOCAL_TIME",
    "SORT_FIELDS",
    "TRASH_SORT",
    "WRITABLE_FIELDS",
    "Change",
    "FeedPosition",
    "ListChanges",
    "ListMoveAnchorMissing",
    "MoveAnchorMissing",
    "MoveAnchorNotSibling",
    "TaskRow",
    "TooManyOneByOne",
    "feed_position",
    "list_changes",
    "list_create",
    "list_delete",
    "list_get",
    "list_move",
    "list_update",
    "lists_all",
    "page_statement",
    "sort_field",
    "task_changes",
    "task_check_write",
    "task_completions",
    "task_count",
    "task_get",
    "task_insert",
    "task_move",
    "task_page",
    "task_place",
    "task_purge",
    "task_reminders_spent",
    "task_restore",
    "task_set_completed",
    "task_trash",
    "task_update",
    "tasks_held",
    "tasks_load",
    "tasks_set_completed",
    "tasks_set_trashed",
    "tasks_update_owned",
    "trash_empty",
    "trash_purge",
]
