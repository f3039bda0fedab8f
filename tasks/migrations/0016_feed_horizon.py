"""Each user's changes-feed horizon: how far back tombstones beyond
MAX_TOMBSTONES_PER_USER were forgotten (`tasks.queries.trash`, `tasks.changes`).

A table of its own, not columns on tasks_taskcount: on SQLite adding a column
rebuilds the table, and nothing here needs to touch a table the task triggers write.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0015_kept_response_size"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedHorizon",
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
                ("change_id", models.BigIntegerField()),
                ("task_id", models.BigIntegerField()),
                ("epoch", models.BigIntegerField()),
            ],
        ),
    ]
