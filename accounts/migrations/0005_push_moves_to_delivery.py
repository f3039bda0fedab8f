"""Web Push's models move to the delivery app (delivery's migration 0003): in the
state alone; their tables stay as they are, under their names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_app_user_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
        migrations.RemoveField(
            model_name='pushmessage',
            name='subscription',
        ),
        migrations.RemoveField(
            model_name='pushsubscription',
            name='user',
        ),
        migrations.DeleteModel(
            name='PushFailure',
        ),
        migrations.DeleteModel(
            name='PushMessage',
        ),
        migrations.DeleteModel(
            name='PushSubscription',
        ),
            ],
        ),
    ]
