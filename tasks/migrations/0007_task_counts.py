"""Per-user task counts, kept by triggers, so `X-Total-Count` costs the same for a user
with a hundred tasks and one with a hundred thousand.

The triggers run inside each statement that writes a task (the API's, the admin's,
the ORM's cascades alike), so every write stays one statement and the counts commit
or roll back with it. On PostgreSQL the count row's lock orders concurrent writes of
one user; SQLite has a single writer. Creating the triggers locks the table against
writes until the backfill commits, so no write falls between the two.

A later migration that changes tasks_task must keep them: on SQLite, Django rebuilds
a table to alter it, which drops its triggers (create them again after it); on
PostgreSQL, the update trigger's WHEN names `completed` and `user_id`.
"""

import django.db.models.deletion
from django.db import migrations, models

# Each dialect: (statements to create, statements to drop). Booleans are 0/1 integers
# in SQLite; PostgreSQL casts them. SQLite has row triggers alone, and updates a row in
# place, so its triggers count row by row.

# On PostgreSQL, inserts and deletes are counted once per statement, from its transition table: one
# count row updated per row would be updated 100,000 times in the transaction that
# loads or deletes a long history, each time through all its earlier versions.
# Updates are per row, and only those that complete, reopen or move a task.
POSTGRESQL = (
    [
        # The backfill may outlast the statement timeout on a large table; waiting
        # long for the table's lock would queue every write behind it, so that fails.
        "SET LOCAL statement_timeout = 0",
        "SET LOCAL lock_timeout = '5s'",
        """
        CREATE FUNCTION tasks_task_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tasks_taskcount AS counted (user_id, pending, completed)
            SELECT user_id, COUNT(*) FILTER (WHERE NOT completed),
                   COUNT(*) FILTER (WHERE completed)
            FROM new_rows GROUP BY user_id
            ON CONFLICT (user_id) DO UPDATE SET
                pending = counted.pending + EXCLUDED.pending,
                completed = counted.completed + EXCLUDED.completed;
            RETURN NULL;
        END
        $$
        """,
        # No upsert on removal: when a user is deleted, their count row may be gone first.
        """
        CREATE FUNCTION tasks_task_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tasks_taskcount AS counted SET
                pending = counted.pending - gone.pending,
                completed = counted.completed - gone.completed
            FROM (
                SELECT user_id, COUNT(*) FILTER (WHERE NOT completed) AS pending,
                       COUNT(*) FILTER (WHERE completed) AS completed
                FROM old_rows GROUP BY user_id
            ) AS gone
            WHERE counted.user_id = gone.user_id;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE FUNCTION tasks_task_recounted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.user_id = NEW.user_id THEN  -- completed or reopened: one row write
                UPDATE tasks_taskcount SET
                    pending = pending + (NOT NEW.completed)::integer
                        - (NOT OLD.completed)::integer,
                    completed = completed + NEW.completed::integer - OLD.completed::integer
                WHERE user_id = NEW.user_id;
                RETURN NULL;
            END IF;
            UPDATE tasks_taskcount SET
                pending = pending - (NOT OLD.completed)::integer,
                completed = completed - OLD.completed::integer
            WHERE user_id = OLD.user_id;
            INSERT INTO tasks_taskcount AS counted (user_id, pending, completed)
            VALUES (NEW.user_id, (NOT NEW.completed)::integer, NEW.completed::integer)
            ON CONFLICT (user_id) DO UPDATE SET
                pending = counted.pending + EXCLUDED.pending,
                completed = counted.completed + EXCLUDED.completed;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_counted AFTER INSERT ON tasks_task
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_counted()
        """,
        """
        CREATE TRIGGER tasks_task_uncounted AFTER DELETE ON tasks_task
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_uncounted()
        """,
        """
        CREATE FUNCTION tasks_task_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM tasks_taskcount; RETURN NULL; END
        $$
        """,
        """
        CREATE TRIGGER tasks_task_truncated AFTER TRUNCATE ON tasks_task
        FOR EACH STATEMENT EXECUTE FUNCTION tasks_task_truncated()
        """,
        """
        CREATE TRIGGER tasks_task_recounted AFTER UPDATE OF completed, user_id ON tasks_task
        FOR EACH ROW
        WHEN (OLD.completed <> NEW.completed OR OLD.user_id <> NEW.user_id)
        EXECUTE FUNCTION tasks_task_recounted()
        """,
    ],
    [
        "DROP TRIGGER tasks_task_recounted ON tasks_task",
        "DROP TRIGGER tasks_task_truncated ON tasks_task",
        "DROP TRIGGER tasks_task_uncounted ON tasks_task",
        "DROP TRIGGER tasks_task_counted ON tasks_task",
        "DROP FUNCTION tasks_task_recounted()",
        "DROP FUNCTION tasks_task_truncated()",
        "DROP FUNCTION tasks_task_uncounted()",
        "DROP FUNCTION tasks_task_counted()",
    ],
)

_SQLITE_ADD = """
    INSERT INTO tasks_taskcount (user_id, pending, completed)
    VALUES (NEW.user_id, NOT NEW.completed, NEW.completed)
    ON CONFLICT (user_id) DO UPDATE SET
        pending = pending + excluded.pending, completed = completed + excluded.completed;
"""
# As on PostgreSQL, no upsert on removal.
_SQLITE_REMOVE = """
    UPDATE tasks_taskcount
    SET pending = pending - NOT OLD.completed, completed = completed - OLD.completed
    WHERE user_id = OLD.user_id;
"""
SQLITE = (
    [
        f"CREATE TRIGGER tasks_task_counted AFTER INSERT ON tasks_task BEGIN {_SQLITE_ADD} END",
        f"CREATE TRIGGER tasks_task_uncounted AFTER DELETE ON tasks_task "
        f"BEGIN {_SQLITE_REMOVE} END",
        f"""
        CREATE TRIGGER tasks_task_recounted AFTER UPDATE OF completed, user_id ON tasks_task
        WHEN OLD.completed IS NOT NEW.completed OR OLD.user_id IS NOT NEW.user_id
        BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END
        """,
    ],
    [
        # IF EXISTS: 0008 runs these too, after a table rebuild has dropped them.
        "DROP TRIGGER IF EXISTS tasks_task_recounted",
        "DROP TRIGGER IF EXISTS tasks_task_uncounted",
        "DROP TRIGGER IF EXISTS tasks_task_counted",
    ],
)

BACKFILL = """
    INSERT INTO tasks_taskcount (user_id, pending, completed)
    SELECT user_id,
           SUM(CASE WHEN completed THEN 0 ELSE 1 END),
           SUM(CASE WHEN completed THEN 1 ELSE 0 END)
    FROM tasks_task GROUP BY user_id
"""


def _dialect(schema_editor):
    return POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE


def create_triggers(apps, schema_editor):
    for statement in _dialect(schema_editor)[0]:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    for statement in _dialect(schema_editor)[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0006_support_lifts_lockouts"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskCount",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        serialize=False,
                        to="accounts.betterauthuser",
                    ),
                ),
                ("pending", models.IntegerField(default=0)),
                ("completed", models.IntegerField(default=0)),
            ],
        ),
        # Going back drops the triggers; the table goes with the model.
        migrations.RunPython(create_triggers, drop_triggers),
    ]
