"""`python manage.py issue_token USER_ID`: print a bearer token for trying the API."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.tokens import issue_token


class Command(BaseCommand):
    help = "Print a JWT for USER_ID signed with BETTER_AUTH_SECRET, as Better Auth would issue it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="the token's `sub`: the Better Auth user id")
        parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (3600)")
        parser.add_argument("--algorithm", default="HS256", help="HS256, HS384 or HS512")
        parser.add_argument("--email", help="an `email` claim, as Better Auth adds")
        parser.add_argument("--name", help="a `name` claim, as Better Auth adds")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ttl"] <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        claims = {key: options[key] for key in ("email", "name") if options[key]}
        try:
            token = issue_token(
                options["user_id"],
                ttl_seconds=options["ttl"],
                algorithm=options["algorithm"],
                **claims,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(token)
