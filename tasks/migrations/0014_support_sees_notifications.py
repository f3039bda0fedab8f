"""Support staff see each user's notifications and the completions of recurring tasks
(view only: both are written by the service alone)."""

from django.db import migrations

from accounts import support_group

PERMISSIONS = [("tasks", "view_notification"), ("tasks", "view_taskcompletion")]


def grant(apps, schema_editor):
    support_group.grant(apps, PERMISSIONS)


def revoke(apps, schema_editor):
    support_group.revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0013_recurrence_and_reminders")]

    operations = [migrations.RunPython(grant, revoke)]
