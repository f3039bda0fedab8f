"""Support staff see each user's activity, webhooks and waiting deliveries (view only:
the service writes them, the owner changes their webhooks through the API). The
admin never shows a webhook's secret."""

from django.db import migrations

from accounts import support_group

PERMISSIONS = [
    ("delivery", "view_event"),
    ("delivery", "view_webhook"),
    ("delivery", "view_delivery"),
]


def grant(apps, schema_editor):
    support_group.grant(apps, PERMISSIONS)


def revoke(apps, schema_editor):
    support_group.revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_push_moved_in"),
        # The support group is made there (or by grant, on a database without it).
        ("tasks", "0003_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
