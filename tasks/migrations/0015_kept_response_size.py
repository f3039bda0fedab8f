"""Each kept Idempotency-Key response records its size, and an index that leads with
the user adds a user's up (`tasks.idempotency`: MAX_KEPT_RESPONSE_BYTES). The user's
own index goes: that one and the unique constraint lead with the user.

Rows kept before this count 0 bytes; they are all forgotten within a day. On SQLite
the field rebuilds tasks_idempotentrequest, which has no triggers.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("tasks", "0014_support_sees_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotentrequest",
            name="size",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="idempotentrequest",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="accounts.betterauthuser",
            ),
        ),
        migrations.AddIndex(
            model_name="idempotentrequest",
            index=models.Index(fields=["user", "created_at", "size"], name="idempotency_user_kept"),
        ),
    ]
