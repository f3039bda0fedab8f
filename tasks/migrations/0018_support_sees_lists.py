"""Support staff see each user's lists (view only: a list's writes keep rules that
only the API applies)."""

from django.db import migrations

from accounts import support_group

PERMISSIONS = [("tasks", "view_tasklist")]


def grant(apps, schema_editor):
    support_group.grant(apps, PERMISSIONS)


def revoke(apps, schema_editor):
    support_group.revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0017_lists_and_subtasks")]

    operations = [migrations.RunPython(grant, revoke)]
