"""Support staff see each user's notifications and the completions of recurring tasks
(view only: both are written by the service alone)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [("tasks", "view_notification"), ("tasks", "view_taskcompletion")]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    tasks = apps.get_app_config("tasks")
    tasks.models_module = True
    create_permissions(tasks, apps=apps, verbosity=0)
    tasks.models_module = None
    Permission = apps.get_model("auth", "Permission")
    # 0003 creates the group; a database flushed since (as tests do) may lack it.
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="support")
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="support").first()
    if group:
        for app_label, codename in PERMISSIONS:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [("tasks", "0013_recurrence_and_reminders")]

    operations = [migrations.RunPython(grant, revoke)]
