"""`position`: the manual order. Existing tasks keep the order they were created in
(their position is their creation time, as a new task's is).

On SQLite, a table rebuild drops its triggers: 0009's are created again after it.
"""

import importlib

from django.db import migrations, models

from tasks.ordering import stamp

trash_and_changes = importlib.import_module("tasks.migrations.0009_trash_and_changes")


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        create, drop = trash_and_changes.SQLITE
        for statement in [*drop, *create]:
            schema_editor.execute(statement)


def place_existing_tasks(apps, schema_editor):
    # Positions only: no version step, so the changes feed isn't flooded by a migration.
    Task = apps.get_model("tasks", "Task")
    batch = []
    for task in Task.objects.only("id", "created_at").iterator(chunk_size=2000):
        task.position = stamp(task.created_at)
        batch.append(task)
        if len(batch) == 2000:
            Task.objects.bulk_update(batch, ["position"])
            batch = []
    Task.objects.bulk_update(batch, ["position"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0010_idempotent_requests"),
    ]

    operations = [
        migrations.RunPython(
            trash_and_changes.wait_briefly_for_the_table, migrations.RunPython.noop
        ),
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers),
        migrations.AddField(
            model_name="task",
            name="position",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["user", "position", "id"], name="task_user_position"),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
        migrations.RunPython(place_existing_tasks, migrations.RunPython.noop),
    ]
