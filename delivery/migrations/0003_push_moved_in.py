"""Web Push moves in from accounts (its migration 0005): its models in the state alone,
their tables kept under their names, and their content types renamed, so support
staff keep their permissions. A push message now names its user too, for the delivery
loop's turns per user."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models




def rename_content_types(apps, schema_editor, *, source="accounts", target="delivery"):
    content_type = apps.get_model("contenttypes", "ContentType")
    models_ = ["pushsubscription", "pushmessage", "pushfailure"]
    content_type.objects.filter(app_label=target, model__in=models_).delete()
    content_type.objects.filter(app_label=source, model__in=models_).update(app_label=target)


def rename_back(apps, schema_editor):
    rename_content_types(apps, schema_editor, source="delivery", target="accounts")


def name_the_users(apps, schema_editor):
    message = apps.get_model("delivery", "PushMessage")
    subscription = apps.get_model("delivery", "PushSubscription")
    owner = subscription.objects.filter(id=models.OuterRef("subscription_id")).values("user_id")
    message.objects.update(user_id=models.Subquery(owner))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_push_moves_to_delivery"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("delivery", "0002_task_events"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
        migrations.CreateModel(
            name='PushFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('endpoint_host', models.CharField(max_length=255)),
                ('status_code', models.PositiveSmallIntegerField(blank=True, help_text="The push service's answer; empty if none came.", null=True)),
                ('reason', models.CharField(max_length=200)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='push_failures', to='accounts.betterauthuser')),
            ],
            options={
                'db_table': 'accounts_pushfailure',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PushSubscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('endpoint', models.CharField(help_text="The push service's URL for it.", max_length=2048)),
                ('p256dh', models.CharField(help_text="The browser's P-256 public key (base64url, 65 bytes).", max_length=88)),
                ('auth', models.CharField(help_text="The browser's authentication secret (base64url, 16 bytes).", max_length=24)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='push_subscriptions', to='accounts.betterauthuser')),
            ],
            options={
                'db_table': 'accounts_pushsubscription',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='PushMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('payload', models.JSONField()),
                ('topic', models.CharField(help_text='RFC 8030 Topic: a newer message with it replaces an undelivered one.', max_length=32, validators=[django.core.validators.RegexValidator('^[A-Za-z0-9_-]+$')])),
                ('ttl', models.PositiveIntegerField(help_text='Seconds the push service may keep it.')),
                ('urgency', models.CharField(choices=[('very-low', 'Very Low'), ('low', 'Low'), ('normal', 'Normal'), ('high', 'High')], default='normal', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='delivery.pushsubscription')),
            ],
            options={
                'db_table': 'accounts_pushmessage',
            },
        ),
        migrations.AddIndex(
            model_name='pushsubscription',
            index=models.Index(fields=['endpoint'], name='push_subscription_endpoint'),
        ),
        migrations.AddConstraint(
            model_name='pushsubscription',
            constraint=models.UniqueConstraint(fields=('user', 'endpoint'), name='push_subscription_unique_endpoint'),
        ),
            ],
        ),
        migrations.RunPython(rename_content_types, rename_back),
        migrations.AddField(
            model_name="pushmessage",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.betterauthuser",
            ),
        ),
        migrations.RunPython(name_the_users, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="pushmessage",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.betterauthuser",
            ),
        ),
    ]
