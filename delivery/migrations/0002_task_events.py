"""Every change of a task is an event, written by the database in the statement that
writes the task: a change that commits has its events, one that rolls back has none,
whichever path wrote it, at no extra round trip.

- an insert is `task.created`;
- a version step (tasks.queries steps it on every real change) is `task.deleted`
  into the trash, `task.restored` out of it, `task.completed` when the task (or an
  occurrence of its series) is completed, else `task.updated`;
- deleting a live task for good (the admin's delete, or its owner's) is `task.deleted`;
  a task already in the trash was reported when it went there.

`data` is the task's row as written, but `tag_keys` and `changed_via`; `source` is
`changed_via`. On PostgreSQL one statement-level trigger per kind of write inserts the
events of all its rows at once, in task id order; on SQLite a row-level trigger does.
A later migration that rebuilds tasks_task on SQLite (adding a column does) drops
them: it must run `install` again, as tasks' 0019 does for that app's own triggers.
"""

from django.db import migrations

# The columns an event's data leaves out: an index's copy, and the event's own source.
NOT_DATA = ("tag_keys", "changed_via")
COLUMNS = "user_id, type, task_id, list_id, title, data, source, at, pending"
KIND = """CASE
    WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'task.deleted'
    WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'task.restored'
    WHEN (n.completed AND NOT o.completed) OR n.series_done > o.series_done
        THEN 'task.completed'
    ELSE 'task.updated' END"""
DATA = "to_jsonb({row}) - " + " - ".join(f"'{column}'" for column in NOT_DATA)

POSTGRESQL = [
    f"""
    CREATE FUNCTION delivery_task_created() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_event ({COLUMNS})
        SELECT n.user_id, 'task.created', n.id, n.list_id, n.title, {DATA.format(row="n")},
               n.changed_via, now(), true
        FROM new_rows n ORDER BY n.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER delivery_task_created AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_task_created()
    """,
    f"""
    CREATE FUNCTION delivery_task_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_event ({COLUMNS})
        SELECT n.user_id, {KIND}, n.id, n.list_id, n.title, {DATA.format(row="n")},
               n.changed_via, now(), true
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.version <> o.version ORDER BY n.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER delivery_task_changed AFTER UPDATE ON tasks_task
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_task_changed()
    """,
    f"""
    CREATE FUNCTION delivery_task_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_event ({COLUMNS})
        SELECT o.user_id, 'task.deleted', o.id, o.list_id, o.title, {DATA.format(row="o")},
               'admin', now(), true
        FROM old_rows o WHERE o.deleted_at IS NULL ORDER BY o.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER delivery_task_removed AFTER DELETE ON tasks_task
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_task_removed()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER delivery_task_removed ON tasks_task",
    "DROP FUNCTION delivery_task_removed()",
    "DROP TRIGGER delivery_task_changed ON tasks_task",
    "DROP FUNCTION delivery_task_changed()",
    "DROP TRIGGER delivery_task_created ON tasks_task",
    "DROP FUNCTION delivery_task_created()",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS delivery_task_removed",
    "DROP TRIGGER IF EXISTS delivery_task_changed",
    "DROP TRIGGER IF EXISTS delivery_task_created",
]
NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite(apps) -> list[str]:
    """SQLite has no row-to-JSON: the task's columns (as of this migration) are named.
    A later migration that adds a column to tasks_task installs these again."""
    from django.db.models import JSONField

    task = apps.get_model("tasks", "Task")
    pairs = []
    for field in task._meta.concrete_fields:
        if field.column in NOT_DATA:
            continue
        value = "{row}." + field.column
        pairs.append(f"'{field.attname}', " + (f"json({value})" if isinstance(field, JSONField) else value))
    data = "json_object(" + ", ".join(pairs) + ")"
    kind = KIND.replace("o.", "OLD.").replace("n.", "NEW.")
    return [
        f"""
        CREATE TRIGGER delivery_task_created AFTER INSERT ON tasks_task BEGIN
            INSERT INTO delivery_event ({COLUMNS}) VALUES (NEW.user_id, 'task.created', NEW.id,
                NEW.list_id, NEW.title, {data.format(row="NEW")}, NEW.changed_via, {NOW}, 1);
        END
        """,
        f"""
        CREATE TRIGGER delivery_task_changed AFTER UPDATE OF version ON tasks_task
        WHEN OLD.version <> NEW.version BEGIN
            INSERT INTO delivery_event ({COLUMNS}) VALUES (NEW.user_id, {kind}, NEW.id,
                NEW.list_id, NEW.title, {data.format(row="NEW")}, NEW.changed_via, {NOW}, 1);
        END
        """,
        f"""
        CREATE TRIGGER delivery_task_removed AFTER DELETE ON tasks_task
        WHEN OLD.deleted_at IS NULL BEGIN
            INSERT INTO delivery_event ({COLUMNS}) VALUES (OLD.user_id, 'task.deleted', OLD.id,
                OLD.list_id, OLD.title, {data.format(row="OLD")}, 'admin', {NOW}, 1);
        END
        """,
    ]


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in POSTGRESQL if vendor == "postgresql" else _sqlite(apps):
        schema_editor.execute(sql)


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in POSTGRESQL_REVERSE if vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0001_initial"),
        ("tasks", "0019_task_changed_via"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
