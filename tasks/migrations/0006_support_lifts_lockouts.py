"""Support staff see the admin's sign-in lockouts and lift them (django-axes' attempts)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

LOCKOUT_PERMISSIONS = [("axes", "view_accessattempt"), ("axes", "delete_accessattempt")]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; axes' are needed now.
    axes = apps.get_app_config("axes")
    axes.models_module = True
    create_permissions(axes, apps=apps, verbosity=0)
    axes.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.get(name="support")
    for app_label, codename in LOCKOUT_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="support").first()
    if group:
        for app_label, codename in LOCKOUT_PERMISSIONS:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0010_accessattemptexpiration"),
        ("tasks", "0005_search_trigram_indexes"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
