import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="BetterAuthUser",
            fields=[
                (
                    "id",
                    models.CharField(
                        help_text="Better Auth's user id (`sub`).",
                        max_length=255,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("email", models.CharField(blank=True, db_index=True, default="", max_length=320)),
                ("name", models.CharField(blank=True, default="", max_length=255)),
                ("email_verified", models.BooleanField(default=False)),
                (
                    "first_seen",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "last_seen",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
            ],
            options={"verbose_name": "user", "ordering": ["-last_seen"]},
        ),
    ]
