"""Support staff see every push attempt (view only: the delivery loop writes them), the
trail of each reminder to its user's browsers."""

from django.db import migrations

from accounts import support_group

PERMISSIONS = [("delivery", "view_pushattempt")]


def grant(apps, schema_editor):
    support_group.grant(apps, PERMISSIONS)


def revoke(apps, schema_editor):
    support_group.revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0005_push_attempts"),
        ("tasks", "0003_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
