"""Lists and subtasks (contract Part 4).

- `tasks_tasklist`: each user's lists. A trigger on the user mirror makes a user's
  Inbox as their row is inserted, whichever code inserts it; existing users get
  theirs here. Lists carry a `change_id` (the changes feed) as tasks do, from the
  same function, and a deleted list leaves a tombstone, as a task does.
- Every task gets a `list_id` (existing ones: their owner's Inbox) and a `parent_id`.
  The backfill runs in batches of ids, each statement well inside the timeout set
  here; it writes no version, so the changes feed isn't flooded by a migration.
- Triggers keep each list's `task_count`/`open_count` (stepping its version) and
  each task's `children` (its live children), inside every statement that writes a
  task, as 0007/0009 keep the per-user counts.

On SQLite, adding a column rebuilds tasks_task, which drops its triggers: 0009's and
these are created again after it (`recreate_sqlite_triggers`, which a later
migration that changes tasks_task runs again).
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

trash_and_changes = importlib.import_module("tasks.migrations.0009_trash_and_changes")
position = importlib.import_module("tasks.migrations.0011_task_position")

# Each task statement in one batch of the backfill: about 0.1 s for 20,000 tasks here.
BATCH = 20_000
# What each statement of this migration may take on PostgreSQL; none comes near.
STATEMENT_TIMEOUT = "60s"

_LIVE = "deleted_at IS NULL"
_OPEN = "deleted_at IS NULL AND NOT completed"

POSTGRESQL = (
    [
        # A list's change id comes from the same function as a task's.
        """
        CREATE TRIGGER tasks_tasklist_changed_on_insert BEFORE INSERT ON tasks_tasklist
        FOR EACH ROW EXECUTE FUNCTION tasks_task_changed()
        """,
        # The count triggers below write the change id themselves, saving a trigger
        # call for each task they count.
        """
        CREATE TRIGGER tasks_tasklist_changed_on_update BEFORE UPDATE OF version
        ON tasks_tasklist FOR EACH ROW
        WHEN (OLD.version <> NEW.version AND OLD.change_id = NEW.change_id)
        EXECUTE FUNCTION tasks_task_changed()
        """,
        """
        CREATE FUNCTION tasks_tasklist_buried() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tasks_listtombstone (list_id, user_id, change_id, deleted_at)
            SELECT id, user_id, pg_current_xact_id()::text::bigint, now() FROM old_rows
            ON CONFLICT (list_id) DO UPDATE SET user_id = EXCLUDED.user_id,
                change_id = EXCLUDED.change_id, deleted_at = EXCLUDED.deleted_at;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_tasklist_buried AFTER DELETE ON tasks_tasklist
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_tasklist_buried()
        """,
        """
        CREATE FUNCTION tasks_inbox_made() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tasks_tasklist (user_id, name, name_key, color, is_inbox, position,
                version, task_count, open_count, created_at, updated_at, change_id)
            VALUES (NEW.id, 'Inbox', 'inbox', NULL, true, '1', 1, 0, 0, now(), now(), 0)
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_inbox_made AFTER INSERT ON accounts_betterauthuser
        FOR EACH ROW EXECUTE FUNCTION tasks_inbox_made()
        """,
    ],
    [
        "DROP TRIGGER tasks_inbox_made ON accounts_betterauthuser",
        "DROP FUNCTION tasks_inbox_made()",
        "DROP TRIGGER tasks_tasklist_buried ON tasks_tasklist",
        "DROP FUNCTION tasks_tasklist_buried()",
        "DROP TRIGGER tasks_tasklist_changed_on_update ON tasks_tasklist",
        "DROP TRIGGER tasks_tasklist_changed_on_insert ON tasks_tasklist",
    ],
)

# A transaction that writes many tasks in one statement (tasks.queries.tree, under its
# lock) sets `tasks.counting` to `statement`: then each UPDATE is counted once, from
# its transition tables, instead of once per row (a subtree of 1,000 tasks would update
# each count row 1,000 times). Either way the counts are exact; one task's write keeps
# the row triggers, which cost it less.
_BY_STATEMENT = "current_setting('tasks.counting', true) = 'statement'"
_BY_ROW = f"({_BY_STATEMENT}) IS NOT TRUE"

# Named after 0009's count triggers, which PostgreSQL fires first (by name): a write
# takes its owner's count row before its list's, whatever it writes.
POSTGRESQL_TASKS = (
    [
        f"""
        CREATE FUNCTION tasks_task_counted_in_list() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tasks_tasklist AS listed SET
                task_count = listed.task_count + added.live,
                open_count = listed.open_count + added.open,
                version = listed.version + 1, updated_at = now(),
                change_id = pg_current_xact_id()::text::bigint
            FROM (
                SELECT list_id, COUNT(*) FILTER (WHERE {_LIVE}) AS live,
                       COUNT(*) FILTER (WHERE {_OPEN}) AS open
                FROM new_rows GROUP BY list_id
            ) AS added
            WHERE listed.id = added.list_id AND added.live > 0;
            RETURN NULL;
        END
        $$
        """,
        f"""
        CREATE FUNCTION tasks_task_uncounted_in_list() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tasks_tasklist AS listed SET
                task_count = listed.task_count - gone.live,
                open_count = listed.open_count - gone.open,
                version = listed.version + 1, updated_at = now(),
                change_id = pg_current_xact_id()::text::bigint
            FROM (
                SELECT list_id, COUNT(*) FILTER (WHERE {_LIVE}) AS live,
                       COUNT(*) FILTER (WHERE {_OPEN}) AS open
                FROM old_rows GROUP BY list_id
            ) AS gone
            WHERE listed.id = gone.list_id AND gone.live > 0;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE FUNCTION tasks_task_recounted_in_list() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_live integer := (OLD.deleted_at IS NULL)::integer;
            old_open integer := (OLD.deleted_at IS NULL AND NOT OLD.completed)::integer;
            new_live integer := (NEW.deleted_at IS NULL)::integer;
            new_open integer := (NEW.deleted_at IS NULL AND NOT NEW.completed)::integer;
        BEGIN
            IF OLD.list_id = NEW.list_id THEN
                IF old_live <> new_live OR old_open <> new_open THEN
                    UPDATE tasks_tasklist SET
                        task_count = task_count + new_live - old_live,
                        open_count = open_count + new_open - old_open,
                        version = version + 1, updated_at = now(),
                        change_id = pg_current_xact_id()::text::bigint
                    WHERE id = NEW.list_id;
                END IF;
                RETURN NULL;
            END IF;
            IF old_live > 0 THEN
                UPDATE tasks_tasklist SET task_count = task_count - 1,
                    open_count = open_count - old_open, version = version + 1,
                    updated_at = now(), change_id = pg_current_xact_id()::text::bigint
                WHERE id = OLD.list_id;
            END IF;
            IF new_live > 0 THEN
                UPDATE tasks_tasklist SET task_count = task_count + 1,
                    open_count = open_count + new_open, version = version + 1,
                    updated_at = now(), change_id = pg_current_xact_id()::text::bigint
                WHERE id = NEW.list_id;
            END IF;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_counted_in_list AFTER INSERT ON tasks_task
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_counted_in_list()
        """,
        """
        CREATE TRIGGER tasks_task_uncounted_in_list AFTER DELETE ON tasks_task
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_uncounted_in_list()
        """,
        f"""
        CREATE TRIGGER tasks_task_recounted_in_list
        AFTER UPDATE OF list_id, completed, deleted_at ON tasks_task
        FOR EACH ROW
        WHEN ({_BY_ROW} AND (OLD.list_id <> NEW.list_id OR OLD.completed <> NEW.completed
              OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)))
        EXECUTE FUNCTION tasks_task_recounted_in_list()
        """,
        # A live task counts among its parent's children; moving, trashing, restoring
        # or deleting it moves that count.
        """
        CREATE FUNCTION tasks_task_children_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.parent_id IS NOT NULL AND OLD.deleted_at IS NULL THEN
                UPDATE tasks_task SET children = children - 1 WHERE id = OLD.parent_id;
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL THEN
                UPDATE tasks_task SET children = children + 1 WHERE id = NEW.parent_id;
            END IF;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_children_on_insert AFTER INSERT ON tasks_task FOR EACH ROW
        WHEN (NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL)
        EXECUTE FUNCTION tasks_task_children_counted()
        """,
        """
        CREATE TRIGGER tasks_task_children_on_delete AFTER DELETE ON tasks_task FOR EACH ROW
        WHEN (OLD.parent_id IS NOT NULL AND OLD.deleted_at IS NULL)
        EXECUTE FUNCTION tasks_task_children_counted()
        """,
        f"""
        CREATE TRIGGER tasks_task_children_on_update
        AFTER UPDATE OF parent_id, deleted_at ON tasks_task FOR EACH ROW
        WHEN ({_BY_ROW} AND (OLD.parent_id IS DISTINCT FROM NEW.parent_id
              OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)))
        EXECUTE FUNCTION tasks_task_children_counted()
        """,
        # 0009's count of the owner's tasks, by row unless the statement counts.
        "DROP TRIGGER tasks_task_recounted ON tasks_task",
        f"""
        CREATE TRIGGER tasks_task_recounted
        AFTER UPDATE OF completed, user_id, deleted_at ON tasks_task
        FOR EACH ROW
        WHEN ({_BY_ROW} AND (OLD.completed <> NEW.completed OR OLD.user_id <> NEW.user_id
              OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)))
        EXECUTE FUNCTION tasks_task_recounted()
        """,
        f"""
        CREATE FUNCTION tasks_task_recounted_by_statement() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- An UPDATE of no row fires it too: its own UPDATE of no parent, below.
            IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
                RETURN NULL;
            END IF;
            INSERT INTO tasks_taskcount AS counted (user_id, pending, completed, trashed)
            SELECT user_id, SUM(pending), SUM(completed), SUM(trashed) FROM (
                SELECT user_id, ({_OPEN})::integer AS pending,
                       ({_LIVE} AND completed)::integer AS completed,
                       (deleted_at IS NOT NULL)::integer AS trashed FROM new_rows
                UNION ALL
                SELECT user_id, -({_OPEN})::integer, -({_LIVE} AND completed)::integer,
                       -(deleted_at IS NOT NULL)::integer FROM old_rows
            ) AS moved GROUP BY user_id
            HAVING SUM(pending) <> 0 OR SUM(completed) <> 0 OR SUM(trashed) <> 0
            ON CONFLICT (user_id) DO UPDATE SET
                pending = counted.pending + EXCLUDED.pending,
                completed = counted.completed + EXCLUDED.completed,
                trashed = counted.trashed + EXCLUDED.trashed;
            UPDATE tasks_tasklist AS listed SET
                task_count = listed.task_count + moved.live,
                open_count = listed.open_count + moved.open,
                version = listed.version + 1, updated_at = now(),
                change_id = pg_current_xact_id()::text::bigint
            FROM (
                SELECT list_id, SUM(live) AS live, SUM(open) AS open FROM (
                    SELECT list_id, ({_LIVE})::integer AS live, ({_OPEN})::integer AS open
                    FROM new_rows
                    UNION ALL
                    SELECT list_id, -({_LIVE})::integer, -({_OPEN})::integer FROM old_rows
                ) AS counted GROUP BY list_id
            ) AS moved
            WHERE listed.id = moved.list_id AND (moved.live <> 0 OR moved.open <> 0);
            -- Updates only `children`: this trigger, fired again by it, finds nothing.
            UPDATE tasks_task AS task SET children = task.children + moved.children
            FROM (
                SELECT parent_id, SUM(children) AS children FROM (
                    SELECT parent_id, 1 AS children FROM new_rows
                    WHERE parent_id IS NOT NULL AND {_LIVE}
                    UNION ALL
                    SELECT parent_id, -1 FROM old_rows WHERE parent_id IS NOT NULL AND {_LIVE}
                ) AS counted GROUP BY parent_id
            ) AS moved
            WHERE task.id = moved.parent_id AND moved.children <> 0;
            RETURN NULL;
        END
        $$
        """,
        f"""
        CREATE TRIGGER tasks_task_recounted_by_statement AFTER UPDATE ON tasks_task
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT WHEN ({_BY_STATEMENT})
        EXECUTE FUNCTION tasks_task_recounted_by_statement()
        """,
    ],
    [
        "DROP TRIGGER tasks_task_recounted_by_statement ON tasks_task",
        "DROP FUNCTION tasks_task_recounted_by_statement()",
        "DROP TRIGGER tasks_task_recounted ON tasks_task",
        # 0009's, as it made it.
        next(
            statement
            for statement in trash_and_changes.POSTGRESQL[0]
            if "CREATE TRIGGER tasks_task_recounted" in statement
        ),
        "DROP TRIGGER tasks_task_children_on_update ON tasks_task",
        "DROP TRIGGER tasks_task_children_on_delete ON tasks_task",
        "DROP TRIGGER tasks_task_children_on_insert ON tasks_task",
        "DROP FUNCTION tasks_task_children_counted()",
        "DROP TRIGGER tasks_task_recounted_in_list ON tasks_task",
        "DROP TRIGGER tasks_task_uncounted_in_list ON tasks_task",
        "DROP TRIGGER tasks_task_counted_in_list ON tasks_task",
        "DROP FUNCTION tasks_task_recounted_in_list()",
        "DROP FUNCTION tasks_task_uncounted_in_list()",
        "DROP FUNCTION tasks_task_counted_in_list()",
    ],
)

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_LIST_CHANGED = """
    UPDATE tasks_changeclock SET last = last + 1;
    UPDATE tasks_tasklist SET change_id = (SELECT last FROM tasks_changeclock) WHERE id = NEW.id;
"""
SQLITE = (
    [
        f"""
        CREATE TRIGGER tasks_tasklist_changed_on_insert AFTER INSERT ON tasks_tasklist
        BEGIN {_SQLITE_LIST_CHANGED} END
        """,
        f"""
        CREATE TRIGGER tasks_tasklist_changed_on_update AFTER UPDATE OF version ON tasks_tasklist
        WHEN OLD.version IS NOT NEW.version BEGIN {_SQLITE_LIST_CHANGED} END
        """,
        f"""
        CREATE TRIGGER tasks_tasklist_buried AFTER DELETE ON tasks_tasklist BEGIN
            UPDATE tasks_changeclock SET last = last + 1;
            INSERT INTO tasks_listtombstone (list_id, user_id, change_id, deleted_at)
            SELECT OLD.id, OLD.user_id, last, {_SQLITE_NOW} FROM tasks_changeclock WHERE true
            ON CONFLICT (list_id) DO UPDATE SET user_id = excluded.user_id,
                change_id = excluded.change_id, deleted_at = excluded.deleted_at;
        END
        """,
        f"""
        CREATE TRIGGER tasks_inbox_made AFTER INSERT ON accounts_betterauthuser BEGIN
            INSERT INTO tasks_tasklist (user_id, name, name_key, color, is_inbox, position,
                version, task_count, open_count, created_at, updated_at, change_id)
            VALUES (NEW.id, 'Inbox', 'inbox', NULL, 1, '1', 1, 0, 0, {_SQLITE_NOW},
                {_SQLITE_NOW}, 0)
            ON CONFLICT DO NOTHING;
        END
        """,
    ],
    [
        "DROP TRIGGER IF EXISTS tasks_inbox_made",
        "DROP TRIGGER IF EXISTS tasks_tasklist_buried",
        "DROP TRIGGER IF EXISTS tasks_tasklist_changed_on_update",
        "DROP TRIGGER IF EXISTS tasks_tasklist_changed_on_insert",
    ],
)


def _sqlite_list_delta(list_id: str, live: str, open_: str) -> str:
    return f"""
        UPDATE tasks_tasklist SET task_count = task_count + ({live}),
            open_count = open_count + ({open_}), version = version + 1,
            updated_at = {_SQLITE_NOW}
        WHERE id = {list_id};
    """


_OLD_LIVE = "OLD.deleted_at IS NULL"
_OLD_OPEN = "OLD.deleted_at IS NULL AND NOT OLD.completed"
_NEW_LIVE = "NEW.deleted_at IS NULL"
_NEW_OPEN = "NEW.deleted_at IS NULL AND NOT NEW.completed"
SQLITE_TASKS = (
    [
        f"""
        CREATE TRIGGER tasks_task_counted_in_list AFTER INSERT ON tasks_task
        WHEN {_NEW_LIVE} BEGIN {_sqlite_list_delta("NEW.list_id", "1", _NEW_OPEN)} END
        """,
        f"""
        CREATE TRIGGER tasks_task_uncounted_in_list AFTER DELETE ON tasks_task
        WHEN {_OLD_LIVE} BEGIN {_sqlite_list_delta("OLD.list_id", "-1", f"-({_OLD_OPEN})")} END
        """,
        f"""
        CREATE TRIGGER tasks_task_recounted_in_list
        AFTER UPDATE OF completed, deleted_at ON tasks_task
        WHEN OLD.list_id IS NEW.list_id AND (({_OLD_LIVE}) IS NOT ({_NEW_LIVE})
            OR ({_OLD_OPEN}) IS NOT ({_NEW_OPEN}))
        BEGIN {
            _sqlite_list_delta(
                "NEW.list_id",
                f"({_NEW_LIVE}) - ({_OLD_LIVE})",
                f"({_NEW_OPEN}) - ({_OLD_OPEN})",
            )
        } END
        """,
        f"""
        CREATE TRIGGER tasks_task_relisted AFTER UPDATE OF list_id ON tasks_task
        WHEN OLD.list_id IS NOT NEW.list_id BEGIN
            {_sqlite_list_delta(f"OLD.list_id AND {_OLD_LIVE}", "-1", f"-({_OLD_OPEN})")}
            {_sqlite_list_delta(f"NEW.list_id AND {_NEW_LIVE}", "1", _NEW_OPEN)}
        END
        """,
        """
        CREATE TRIGGER tasks_task_children_on_insert AFTER INSERT ON tasks_task
        WHEN NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL BEGIN
            UPDATE tasks_task SET children = children + 1 WHERE id = NEW.parent_id;
        END
        """,
        """
        CREATE TRIGGER tasks_task_children_on_delete AFTER DELETE ON tasks_task
        WHEN OLD.parent_id IS NOT NULL AND OLD.deleted_at IS NULL BEGIN
            UPDATE tasks_task SET children = children - 1 WHERE id = OLD.parent_id;
        END
        """,
        """
        CREATE TRIGGER tasks_task_children_on_update AFTER UPDATE OF parent_id, deleted_at
        ON tasks_task
        WHEN OLD.parent_id IS NOT NEW.parent_id
            OR (OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL)
        BEGIN
            UPDATE tasks_task SET children = children - 1
            WHERE id = OLD.parent_id AND OLD.deleted_at IS NULL;
            UPDATE tasks_task SET children = children + 1
            WHERE id = NEW.parent_id AND NEW.deleted_at IS NULL;
        END
        """,
    ],
    [
        "DROP TRIGGER IF EXISTS tasks_task_children_on_update",
        "DROP TRIGGER IF EXISTS tasks_task_children_on_delete",
        "DROP TRIGGER IF EXISTS tasks_task_children_on_insert",
        "DROP TRIGGER IF EXISTS tasks_task_relisted",
        "DROP TRIGGER IF EXISTS tasks_task_recounted_in_list",
        "DROP TRIGGER IF EXISTS tasks_task_uncounted_in_list",
        "DROP TRIGGER IF EXISTS tasks_task_counted_in_list",
    ],
)

_POSTGRESQL_INBOXES = """
    INSERT INTO tasks_tasklist (user_id, name, name_key, color, is_inbox, position, version,
        task_count, open_count, created_at, updated_at, change_id)
    SELECT id, 'Inbox', 'inbox', NULL, true, '1', 1, 0, 0, now(), now(), 0
    FROM accounts_betterauthuser
    ON CONFLICT DO NOTHING
"""
_SQLITE_INBOXES = f"""
    INSERT INTO tasks_tasklist (user_id, name, name_key, color, is_inbox, position, version,
        task_count, open_count, created_at, updated_at, change_id)
    SELECT id, 'Inbox', 'inbox', NULL, 1, '1', 1, 0, 0, {_SQLITE_NOW}, {_SQLITE_NOW}, 0
    FROM accounts_betterauthuser WHERE true
    ON CONFLICT DO NOTHING
"""
_POSTGRESQL_IN_INBOX = """
    UPDATE tasks_task AS task SET list_id = inbox.id
    FROM tasks_tasklist AS inbox
    WHERE inbox.user_id = task.user_id AND inbox.is_inbox
        AND task.id >= %s AND task.id < %s AND task.list_id IS NULL
"""
_SQLITE_IN_INBOX = """
    UPDATE tasks_task SET list_id = (
        SELECT id FROM tasks_tasklist AS inbox
        WHERE inbox.user_id = tasks_task.user_id AND inbox.is_inbox
    ) WHERE list_id IS NULL
"""
# One pass over the tasks (a correlated count per list would scan them per list).
_COUNT_LISTS = f"""
    UPDATE tasks_tasklist SET task_count = counted.live, open_count = counted.open
    FROM (
        SELECT list_id, SUM(CASE WHEN {_LIVE} THEN 1 ELSE 0 END) AS live,
               SUM(CASE WHEN {_OPEN} THEN 1 ELSE 0 END) AS open
        FROM tasks_task GROUP BY list_id
    ) AS counted
    WHERE tasks_tasklist.id = counted.list_id
"""


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def bound_each_statement(apps, schema_editor):
    """Every statement here must end within STATEMENT_TIMEOUT; waiting long for the
    table's lock would queue every write behind it, so that fails instead."""
    if _postgresql(schema_editor):
        schema_editor.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        schema_editor.execute("SET LOCAL lock_timeout = '5s'")


def make_inboxes(apps, schema_editor):
    create, _ = POSTGRESQL if _postgresql(schema_editor) else SQLITE
    for statement in create:
        schema_editor.execute(statement)
    schema_editor.execute(_POSTGRESQL_INBOXES if _postgresql(schema_editor) else _SQLITE_INBOXES)


def drop_inbox_triggers(apps, schema_editor):
    for statement in (POSTGRESQL if _postgresql(schema_editor) else SQLITE)[1]:
        schema_editor.execute(statement)


def put_tasks_in_inboxes(apps, schema_editor):
    """Every task into its owner's Inbox: on PostgreSQL in batches of BATCH ids."""
    if not _postgresql(schema_editor):
        schema_editor.execute(_SQLITE_IN_INBOX)
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM tasks_task")
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH):
            cursor.execute(_POSTGRESQL_IN_INBOX, [start, start + BATCH])


def recreate_sqlite_triggers(apps, schema_editor):
    """SQLite's rebuild of tasks_task dropped its triggers: 0009's and these, again."""
    if schema_editor.connection.vendor == "sqlite":
        for create, drop in (trash_and_changes.SQLITE, SQLITE_TASKS):
            for statement in [*drop, *create]:
                schema_editor.execute(statement)


def count_and_keep_counting(apps, schema_editor):
    """The list counts, and the triggers that keep them and `children` from now on
    (no task has a parent yet)."""
    if _postgresql(schema_editor):
        for statement in POSTGRESQL_TASKS[0]:
            schema_editor.execute(statement)
    recreate_sqlite_triggers(apps, schema_editor)
    schema_editor.execute(_COUNT_LISTS)


def drop_task_triggers(apps, schema_editor):
    if _postgresql(schema_editor):
        for statement in POSTGRESQL_TASKS[1]:
            schema_editor.execute(statement)
    else:
        for statement in SQLITE_TASKS[1]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_app_user_name"),
        ("tasks", "0016_feed_horizon"),
    ]

    # Going back runs these in reverse: the task triggers dropped, the columns removed
    # (0009's SQLite triggers made again after each rebuild), the lists dropped.
    operations = [
        migrations.RunPython(bound_each_statement, bound_each_statement),
        migrations.RunPython(migrations.RunPython.noop, position.recreate_sqlite_triggers),
        migrations.CreateModel(
            name="ListTombstone",
            fields=[
                ("list_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("user_id", models.CharField(max_length=255)),
                ("change_id", models.BigIntegerField()),
                ("deleted_at", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["user_id", "change_id", "list_id"], name="list_tomb_user_changed"
                    ),
                    models.Index(fields=["deleted_at"], name="list_tomb_deleted"),
                ],
            },
        ),
        migrations.CreateModel(
            name="TaskList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("name_key", models.CharField(editable=False, max_length=400)),
                ("color", models.CharField(blank=True, max_length=7, null=True)),
                ("is_inbox", models.BooleanField(default=False, editable=False)),
                ("position", models.CharField(default="", editable=False, max_length=64)),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
                ("task_count", models.IntegerField(default=0, editable=False)),
                ("open_count", models.IntegerField(default=0, editable=False)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("change_id", models.BigIntegerField(default=0, editable=False)),
                (
                    "user",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lists",
                        to="accounts.betterauthuser",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "name_key"), name="list_name_once"),
                    models.UniqueConstraint(
                        condition=models.Q(("is_inbox", True)),
                        fields=("user",),
                        name="list_one_inbox",
                    ),
                ],
                "indexes": [
                    models.Index(fields=["user", "position", "id"], name="list_user_position"),
                ],
            },
        ),
        migrations.RunPython(make_inboxes, drop_inbox_triggers),
        migrations.AddField(
            model_name="task",
            name="children",
            field=models.IntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="task",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="subtasks",
                to="tasks.task",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="list",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="tasks",
                to="tasks.tasklist",
            ),
        ),
        migrations.RunPython(put_tasks_in_inboxes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="task",
            name="list",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="tasks",
                to="tasks.tasklist",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                fields=["user", "list", "created_at", "id"], name="task_user_list_created"
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                fields=["user", "list", "position", "id"], name="task_user_list_position"
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("parent__isnull", False)),
                fields=["parent", "id"],
                name="task_parent",
            ),
        ),
        migrations.RunPython(count_and_keep_counting, drop_task_triggers),
    ]
