"""Every push attempt is kept (PushAttempt), delivered ones too, for support's trail of
a reminder; the failures become a view of them (PushFailure, a proxy: its content
type and support's permission stay), so no failure is written twice. The failures kept
so far move in, their outcome read from their reason."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def outcome_of(reason):
    if reason.startswith("gave up after"):
        return "given_up"
    if reason.startswith("the subscription is gone"):
        return "gone"
    if reason.startswith("refused:"):
        return "refused"
    if "; retrying in " in reason:
        return "retrying"
    return "given_up"


def failures_to_attempts(apps, schema_editor):
    failure = apps.get_model("delivery", "OldPushFailure")
    attempt = apps.get_model("delivery", "PushAttempt")
    for old in failure.objects.order_by("id").iterator():
        attempt.objects.create(
            user_id=old.user_id,
            endpoint_host=old.endpoint_host,
            status_code=old.status_code,
            outcome=outcome_of(old.reason),
            reason=old.reason,
            created_at=old.created_at,
        )


def attempts_to_failures(apps, schema_editor):
    failure = apps.get_model("delivery", "OldPushFailure")
    attempt = apps.get_model("delivery", "PushAttempt")
    for new in attempt.objects.exclude(outcome="delivered").order_by("id").iterator():
        failure.objects.create(
            user_id=new.user_id,
            endpoint_host=new.endpoint_host,
            status_code=new.status_code,
            reason=new.reason,
            created_at=new.created_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_push_moves_to_delivery"),
        ("delivery", "0004_support_sees_delivery"),
        ("tasks", "0020_notification_pushes"),
    ]

    operations = [
        # Out of the way of the proxy's name; the table and content type are untouched.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameModel("PushFailure", "OldPushFailure"),
            ]
        ),
        migrations.CreateModel(
            name="PushAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subscription_id", models.BigIntegerField(blank=True, help_text="Empty for failures kept before the attempts were.", null=True)),
                ("endpoint_host", models.CharField(max_length=255)),
                ("status_code", models.PositiveSmallIntegerField(blank=True, help_text="The push service's answer; empty if none came.", null=True)),
                ("outcome", models.CharField(choices=[("delivered", "Delivered"), ("retrying", "Retrying"), ("gone", "gone: subscription removed"), ("given_up", "given up"), ("refused", "refused: not a public address")], max_length=9)),
                ("reason", models.CharField(max_length=200)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ("notification", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="push_attempts", to="tasks.notification")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="push_attempts", to="accounts.betterauthuser")),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.RunPython(failures_to_attempts, attempts_to_failures),
        migrations.DeleteModel(name="OldPushFailure"),
        migrations.CreateModel(
            name="PushFailure",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("delivery.pushattempt",),
        ),
    ]
