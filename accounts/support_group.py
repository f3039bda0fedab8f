"""The `support` group's permissions, as migrations grant and revoke them.

Permissions are normally created after all migrations have run; a migration that
grants some of its app's own creates them first. The group is tasks' migration 0003's,
made here too when a migration runs first (or on a database flushed since, as tests do).
"""

from typing import Any

from django.contrib.auth.management import create_permissions

Permissions = list[tuple[str, str]]  # (app label, codename)
GROUP = "support"


def grant(apps: Any, permissions: Permissions) -> None:
    """Give the support group these permissions, creating them as needed."""
    for app_label in {app_label for app_label, _ in permissions}:
        app = apps.get_app_config(app_label)
        app.models_module = True
        create_permissions(app, apps=apps, verbosity=0)
        app.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    for app_label, codename in permissions:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps: Any, permissions: Permissions) -> None:
    """Take these permissions from the support group, if it exists."""
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group:
        for app_label, codename in permissions:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
