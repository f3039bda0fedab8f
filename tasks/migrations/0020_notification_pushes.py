"""A notification says how many browsers its push was queued for, or why none, where
it said only whether it was late: `pushed` goes. One that fired before is late if it
was not pushed; how many browsers a pushed one reached was not kept (empty)."""

from django.db import migrations, models


def from_pushed(apps, schema_editor):
    notification = apps.get_model("tasks", "Notification")
    notification.objects.filter(pushed=False).update(pushes=0, not_pushed="late")


def to_pushed(apps, schema_editor):
    notification = apps.get_model("tasks", "Notification")
    notification.objects.exclude(not_pushed="late").update(pushed=True)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0019_task_changed_via")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="pushes",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="How many browsers its push was queued for; empty: fired before this was kept.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="not_pushed",
            field=models.CharField(
                blank=True,
                choices=[
                    ("late", "late beyond REMINDER_GRACE_MINUTES"),
                    ("no_subscription", "no subscription"),
                    ("push_off", "push is off (no VAPID key)"),
                ],
                default="",
                help_text="Why no push was queued, when none was.",
                max_length=16,
            ),
        ),
        migrations.RunPython(from_pushed, to_pushed),
        migrations.RemoveField(model_name="notification", name="pushed"),
    ]
