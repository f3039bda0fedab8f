"""Tasks belong to a mirrored Better Auth user; existing owners are mirrored first.

The column stays `user_id` with its values: the database gains only the foreign
key, while Django's state swaps the CharField `user_id` for the ForeignKey `user`.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max, Min


def mirror_existing_owners(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    BetterAuthUser = apps.get_model("accounts", "BetterAuthUser")
    owners = Task.objects.values("user_id").annotate(first=Min("created_at"), last=Max("updated_at"))
    BetterAuthUser.objects.bulk_create(
        [BetterAuthUser(id=o["user_id"], first_seen=o["first"], last_seen=o["last"]) for o in owners],
        ignore_conflicts=True,
    )


INDEXES = {
    "task_user_created": "created_at",
    "task_user_updated": "updated_at",
    "task_user_title": "title",
    "task_user_due": "due_date",
    "task_user_priority": "priority",
}


def user_foreign_key(**kwargs):
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="tasks",
        to="accounts.betterauthuser",
        **kwargs,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(mirror_existing_owners, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="task", name="user_id", field=user_foreign_key(db_column="user_id")
                ),
            ],
            state_operations=[
                *(migrations.RemoveIndex(model_name="task", name=name) for name in INDEXES),
                migrations.RemoveField(model_name="task", name="user_id"),
                migrations.AddField(model_name="task", name="user", field=user_foreign_key()),
                *(
                    migrations.AddIndex(
                        model_name="task",
                        index=models.Index(fields=["user", column, "id"], name=name),
                    )
                    for name, column in INDEXES.items()
                ),
            ],
        ),
    ]
