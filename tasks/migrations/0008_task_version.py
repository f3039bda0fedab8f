"""`version`: 1 for every existing task, +1 on every change from now on (the ETag).

On SQLite, adding a column rebuilds the table, which drops its triggers: the count
triggers of 0007 are created again right after.
"""

import importlib

from django.db import migrations, models

task_counts = importlib.import_module("tasks.migrations.0007_task_counts")


def wait_briefly_for_the_table(apps, schema_editor):
    """Adding the column and its check locks the table; queueing every write behind a
    long transaction would be an outage, so the migration fails instead (PostgreSQL)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL lock_timeout = '5s'")


def recreate_sqlite_count_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    create, drop = task_counts.SQLITE
    for statement in [*drop, *create]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0007_task_counts")]

    # Both ways: the rebuild that drops the triggers is the AddField's, or its reverse's.
    operations = [
        migrations.RunPython(wait_briefly_for_the_table, migrations.RunPython.noop),
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_count_triggers),
        migrations.AddField(
            model_name="task",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.RunPython(recreate_sqlite_count_triggers, migrations.RunPython.noop),
    ]
