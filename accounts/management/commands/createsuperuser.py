"""`createsuperuser`, whose `--noinput` (DJANGO_SUPERUSER_PASSWORD) meets the password
validators too: Django's skips them without a prompt, so a deploy script could give
the admin the password `admin`."""

import os
from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password is not None:
            staff = User(
                username=options["username"] or os.environ.get("DJANGO_SUPERUSER_USERNAME", ""),
                email=options.get("email") or os.environ.get("DJANGO_SUPERUSER_EMAIL", ""),
            )
            try:
                validate_password(password, staff)
            except ValidationError as error:
                raise CommandError(
                    f"DJANGO_SUPERUSER_PASSWORD: {' '.join(error.messages)}"
                ) from None
        super().handle(*args, **options)
