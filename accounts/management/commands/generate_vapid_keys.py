"""`python manage.py generate_vapid_keys`: print a new VAPID key pair for Web Push."""

from typing import Any

from django.core.management.base import BaseCommand

from delivery.push import new_key_pair


class Command(BaseCommand):
    help = "Print a new VAPID key pair: the private key for VAPID_PRIVATE_KEY, and its public key."

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = new_key_pair()
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}\n")
        self.stdout.write(
            f"# The public key (browsers get it from /api/push/public-key): {public}\n"
        )
