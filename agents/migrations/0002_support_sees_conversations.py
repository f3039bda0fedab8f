"""Support staff see each user's conversations with the agent and their messages
(view only: they are the user's record of what was said and done)."""

from django.db import migrations

from accounts import support_group

PERMISSIONS = [("agents", "view_conversation"), ("agents", "view_message")]


def grant(apps, schema_editor):
    support_group.grant(apps, PERMISSIONS)


def revoke(apps, schema_editor):
    support_group.revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_conversations"),
        # The support group is made there (or by grant, on a database without it).
        ("tasks", "0003_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
