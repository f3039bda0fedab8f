"""On PostgreSQL, every statement that records events notifies each of their users
once on the channel `todo_live`, at commit (NOTIFY is transactional: a rolled-back
change wakes nobody). Web processes LISTEN for it (live.wakeups). SQLite has no
NOTIFY: there the processes poll the events table instead."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION live_notify_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('todo_live', user_id) FROM (SELECT DISTINCT user_id FROM recorded) AS users;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER live_notify_users AFTER INSERT ON delivery_event
    REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION live_notify_users()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS live_notify_users ON delivery_event",
    "DROP FUNCTION IF EXISTS live_notify_users()",
]


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL:
            schema_editor.execute(sql)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0001_streams_and_tickets"),
        ("delivery", "0006_support_sees_push_attempts"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
