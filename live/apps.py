from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live updates: the changes feed as Server-Sent Events, woken across processes
    by the events the delivery app records."""

    name = "live"
