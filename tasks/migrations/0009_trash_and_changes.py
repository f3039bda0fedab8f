"""The trash (`deleted_at`) and the changes feed (`change_id`, tombstones).

- The counts of 0007 now keep live tasks (pending, completed) apart from the trash
  (`trashed`): the list's `X-Total-Count` leaves the trash out, the cap counts it.
- `change_id` is written by a trigger on every insert and every version step, and a
  trigger buries every deleted task in `tasks_tasktombstone`, whichever code writes:
  on PostgreSQL the writing transaction's id (`pg_current_xact_id()`), on SQLite the
  next value of a one-row clock. `tasks.changes` says why that can't skip a change.

On SQLite, adding a column rebuilds the table, which drops its triggers and starts
its ids after the highest live one: all of them are created here after the new
columns, and ids are kept past every tombstone's. A later migration that changes
tasks_task must run SQLITE's statements again after it.
"""

import importlib

from django.db import migrations, models

task_counts = importlib.import_module("tasks.migrations.0007_task_counts")

# A task counts as live and pending, live and completed, or in the trash; an update
# trigger fires only when a task moves between those (or to another owner).
POSTGRESQL = (
    [
        """
        CREATE OR REPLACE FUNCTION tasks_task_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tasks_taskcount AS counted (user_id, pending, completed, trashed)
            SELECT user_id,
                   COUNT(*) FILTER (WHERE deleted_at IS NULL AND NOT completed),
                   COUNT(*) FILTER (WHERE deleted_at IS NULL AND completed),
                   COUNT(*) FILTER (WHERE deleted_at IS NOT NULL)
            FROM new_rows GROUP BY user_id
            ON CONFLICT (user_id) DO UPDATE SET
                pending = counted.pending + EXCLUDED.pending,
                completed = counted.completed + EXCLUDED.completed,
                trashed = counted.trashed + EXCLUDED.trashed;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION tasks_task_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tasks_taskcount AS counted SET
                pending = counted.pending - gone.pending,
                completed = counted.completed - gone.completed,
                trashed = counted.trashed - gone.trashed
            FROM (
                SELECT user_id,
                       COUNT(*) FILTER (WHERE deleted_at IS NULL AND NOT completed) AS pending,
                       COUNT(*) FILTER (WHERE deleted_at IS NULL AND completed) AS completed,
                       COUNT(*) FILTER (WHERE deleted_at IS NOT NULL) AS trashed
                FROM old_rows GROUP BY user_id
            ) AS gone
            WHERE counted.user_id = gone.user_id;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION tasks_task_recounted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_pending integer := (OLD.deleted_at IS NULL AND NOT OLD.completed)::integer;
            old_completed integer := (OLD.deleted_at IS NULL AND OLD.completed)::integer;
            old_trashed integer := (OLD.deleted_at IS NOT NULL)::integer;
            new_pending integer := (NEW.deleted_at IS NULL AND NOT NEW.completed)::integer;
            new_completed integer := (NEW.deleted_at IS NULL AND NEW.completed)::integer;
            new_trashed integer := (NEW.deleted_at IS NOT NULL)::integer;
        BEGIN
            IF OLD.user_id = NEW.user_id THEN  -- one row write
                UPDATE tasks_taskcount SET
                    pending = pending + new_pending - old_pending,
                    completed = completed + new_completed - old_completed,
                    trashed = trashed + new_trashed - old_trashed
                WHERE user_id = NEW.user_id;
                RETURN NULL;
            END IF;
            UPDATE tasks_taskcount SET
                pending = pending - old_pending,
                completed = completed - old_completed,
                trashed = trashed - old_trashed
            WHERE user_id = OLD.user_id;
            INSERT INTO tasks_taskcount AS counted (user_id, pending, completed, trashed)
            VALUES (NEW.user_id, new_pending, new_completed, new_trashed)
            ON CONFLICT (user_id) DO UPDATE SET
                pending = counted.pending + EXCLUDED.pending,
                completed = counted.completed + EXCLUDED.completed,
                trashed = counted.trashed + EXCLUDED.trashed;
            RETURN NULL;
        END
        $$
        """,
        "DROP TRIGGER tasks_task_recounted ON tasks_task",
        """
        CREATE TRIGGER tasks_task_recounted
        AFTER UPDATE OF completed, user_id, deleted_at ON tasks_task
        FOR EACH ROW
        WHEN (OLD.completed <> NEW.completed OR OLD.user_id <> NEW.user_id
              OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
        EXECUTE FUNCTION tasks_task_recounted()
        """,
        # xid8 as text as bigint: 64 bits with the epoch, so it never wraps around.
        """
        CREATE FUNCTION tasks_task_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.change_id := pg_current_xact_id()::text::bigint; RETURN NEW; END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_changed_on_insert BEFORE INSERT ON tasks_task
        FOR EACH ROW EXECUTE FUNCTION tasks_task_changed()
        """,
        """
        CREATE TRIGGER tasks_task_changed_on_update BEFORE UPDATE OF version ON tasks_task
        FOR EACH ROW WHEN (OLD.version <> NEW.version) EXECUTE FUNCTION tasks_task_changed()
        """,
        """
        CREATE FUNCTION tasks_task_buried() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tasks_tasktombstone (task_id, user_id, change_id, deleted_at)
            SELECT id, user_id, pg_current_xact_id()::text::bigint, now() FROM old_rows
            ON CONFLICT (task_id) DO UPDATE SET user_id = EXCLUDED.user_id,
                change_id = EXCLUDED.change_id, deleted_at = EXCLUDED.deleted_at;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_buried AFTER DELETE ON tasks_task
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_buried()
        """,
    ],
    [
        "DROP TRIGGER tasks_task_buried ON tasks_task",
        "DROP TRIGGER tasks_task_changed_on_update ON tasks_task",
        "DROP TRIGGER tasks_task_changed_on_insert ON tasks_task",
        "DROP FUNCTION tasks_task_buried()",
        "DROP FUNCTION tasks_task_changed()",
        # The counts' triggers and functions as 0007 made them.
        *task_counts.POSTGRESQL[1],
        *task_counts.POSTGRESQL[0],
    ],
)

_SQLITE_ADD = """
    INSERT INTO tasks_taskcount (user_id, pending, completed, trashed)
    VALUES (
        NEW.user_id,
        NEW.deleted_at IS NULL AND NOT NEW.completed,
        NEW.deleted_at IS NULL AND NEW.completed,
        NEW.deleted_at IS NOT NULL
    )
    ON CONFLICT (user_id) DO UPDATE SET
        pending = pending + excluded.pending,
        completed = completed + excluded.completed,
        trashed = trashed + excluded.trashed;
"""
_SQLITE_REMOVE = """
    UPDATE tasks_taskcount SET
        pending = pending - (OLD.deleted_at IS NULL AND NOT OLD.completed),
        completed = completed - (OLD.deleted_at IS NULL AND OLD.completed),
        trashed = trashed - (OLD.deleted_at IS NOT NULL)
    WHERE user_id = OLD.user_id;
"""
# SQLite has one writer at a time, holding the write lock from its first write to its
# commit, so change ids drawn from a one-row clock commit in their order. The triggers
# run AFTER, with a second UPDATE (SQLite's can't assign to NEW) of `change_id` alone,
# which fires none of them again.
_SQLITE_CHANGED = """
    UPDATE tasks_changeclock SET last = last + 1;
    UPDATE tasks_task SET change_id = (SELECT last FROM tasks_changeclock) WHERE id = NEW.id;
"""
SQLITE = (
    [
        "CREATE TABLE IF NOT EXISTS tasks_changeclock (last integer NOT NULL)",
        "INSERT INTO tasks_changeclock SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM tasks_changeclock)",
        f"CREATE TRIGGER tasks_task_counted AFTER INSERT ON tasks_task BEGIN {_SQLITE_ADD} END",
        f"CREATE TRIGGER tasks_task_uncounted AFTER DELETE ON tasks_task "
        f"BEGIN {_SQLITE_REMOVE} END",
        f"""
        CREATE TRIGGER tasks_task_recounted AFTER UPDATE OF completed, user_id, deleted_at
        ON tasks_task
        WHEN OLD.completed IS NOT NEW.completed OR OLD.user_id IS NOT NEW.user_id
            OR (OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL)
        BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END
        """,
        f"""
        CREATE TRIGGER tasks_task_changed_on_insert AFTER INSERT ON tasks_task
        BEGIN {_SQLITE_CHANGED} END
        """,
        f"""
        CREATE TRIGGER tasks_task_changed_on_update AFTER UPDATE OF version ON tasks_task
        WHEN OLD.version IS NOT NEW.version BEGIN {_SQLITE_CHANGED} END
        """,
        """
        CREATE TRIGGER tasks_task_buried AFTER DELETE ON tasks_task BEGIN
            UPDATE tasks_changeclock SET last = last + 1;
            INSERT INTO tasks_tasktombstone (task_id, user_id, change_id, deleted_at)
            SELECT OLD.id, OLD.user_id, last, strftime('%Y-%m-%d %H:%M:%f', 'now')
            FROM tasks_changeclock WHERE true
            ON CONFLICT (task_id) DO UPDATE SET user_id = excluded.user_id,
                change_id = excluded.change_id, deleted_at = excluded.deleted_at;
        END
        """,
        # A rebuilt table's AUTOINCREMENT starts after its highest live id; ids of
        # tasks deleted for good must not come back (their tombstones name them).
        """
        INSERT INTO sqlite_sequence (name, seq)
        SELECT 'tasks_task', 0 WHERE NOT EXISTS (
            SELECT 1 FROM sqlite_sequence WHERE name = 'tasks_task'
        )
        """,
        """
        UPDATE sqlite_sequence SET seq = MAX(seq, (
            SELECT COALESCE(MAX(task_id), 0) FROM tasks_tasktombstone
        )) WHERE name = 'tasks_task'
        """,
    ],
    [
        "DROP TRIGGER IF EXISTS tasks_task_buried",
        "DROP TRIGGER IF EXISTS tasks_task_changed_on_update",
        "DROP TRIGGER IF EXISTS tasks_task_changed_on_insert",
        *task_counts.SQLITE[1],
    ],
)


def _dialect(schema_editor):
    return POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE


def create_triggers(apps, schema_editor):
    create, drop = _dialect(schema_editor)
    # SQLite's rebuild of the table dropped the old triggers; IF EXISTS, to be sure.
    for statement in [*drop, *create] if schema_editor.connection.vendor == "sqlite" else create:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in _dialect(schema_editor)[1]:
        schema_editor.execute(statement)
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS tasks_changeclock")


def wait_briefly_for_the_table(apps, schema_editor):
    """Indexes on a large table may outlast the statement timeout; waiting long for its
    lock would queue every write behind it, so that fails instead (PostgreSQL)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")
        schema_editor.execute("SET LOCAL lock_timeout = '5s'")


def restore_0008(apps, schema_editor):
    """Going back: 0007's triggers (SQLite's table rebuild dropped them) and counts
    made again, now that the trash is gone and its tasks are live."""
    if schema_editor.connection.vendor == "sqlite":
        create, drop = task_counts.SQLITE
        for statement in [*drop, *create]:
            schema_editor.execute(statement)
    schema_editor.execute("DELETE FROM tasks_taskcount")
    schema_editor.execute(task_counts.BACKFILL)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0008_task_version"),
    ]

    # Going back runs these in reverse: the new triggers dropped (0007's made again on
    # PostgreSQL), the columns removed, then 0007's triggers and counts restored.
    operations = [
        migrations.RunPython(wait_briefly_for_the_table, migrations.RunPython.noop),
        migrations.RunPython(migrations.RunPython.noop, restore_0008),
        migrations.CreateModel(
            name="TaskTombstone",
            fields=[
                ("task_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("user_id", models.CharField(max_length=255)),
                ("change_id", models.BigIntegerField()),
                ("deleted_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="task",
            name="change_id",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="task",
            name="deleted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="taskcount",
            name="trashed",
            field=models.IntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["user", "change_id", "id"], name="task_user_changed"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["user", "deleted_at", "id"],
                name="task_user_trashed",
            ),
        ),
        migrations.AddIndex(
            model_name="tasktombstone",
            index=models.Index(
                fields=["user_id", "change_id", "task_id"], name="tombstone_user_changed"
            ),
        ),
        migrations.AddIndex(
            model_name="tasktombstone",
            index=models.Index(fields=["deleted_at"], name="tombstone_deleted"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
