from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Better Auth identity: token verification, the caller's permissions, rate limits."""

    name = "accounts"

    def ready(self) -> None:
        from accounts import schema, signals, staff  # noqa: F401  (they register themselves)
