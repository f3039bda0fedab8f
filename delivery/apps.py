from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    """Outbound delivery: the events outbox and activity log, webhooks, the Dapr
    publisher and Web Push, sent by one delivery loop through one hardened client."""

    name = "delivery"

    def ready(self) -> None:
        from delivery import signals  # noqa: F401  (it registers itself)
