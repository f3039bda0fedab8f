"""The door a task's last change came through (`changed_via`), for the events the
database records of its changes (delivery's migration 0002).

On SQLite, adding a column rebuilds tasks_task, which drops its triggers: 0009's and
0017's are created again after it, as 0017 does.
"""

import importlib

from django.db import migrations, models

trash_and_changes = importlib.import_module("tasks.migrations.0009_trash_and_changes")
lists_and_subtasks = importlib.import_module("tasks.migrations.0017_lists_and_subtasks")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0018_support_sees_lists"),
    ]

    operations = [
        migrations.RunPython(
            trash_and_changes.wait_briefly_for_the_table, migrations.RunPython.noop
        ),
        migrations.RunPython(
            migrations.RunPython.noop, lists_and_subtasks.recreate_sqlite_triggers
        ),
        migrations.AddField(
            model_name="task",
            name="changed_via",
            field=models.CharField(default="api", editable=False, max_length=8),
        ),
        migrations.RunPython(
            lists_and_subtasks.recreate_sqlite_triggers, migrations.RunPython.noop
        ),
    ]
