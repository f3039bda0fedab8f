"""The ways opening a live stream is refused, as DRF exceptions."""

from rest_framework import status
from rest_framework.exceptions import APIException


class TooManyStreams(APIException):
    """The user has EVENTS_MAX_STREAMS_PER_USER streams open already: 429."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = (
        "You have as many live streams open as one account may; close one (another tab) first."
    )

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.wait = wait
