"""The ways a task write is refused beyond validation, as DRF exceptions."""

from rest_framework import status
from rest_framework.exceptions import APIException


class TaskLimitReached(APIException):
    """The owner already holds MAX_TASKS_PER_USER tasks: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "You have as many tasks as one account may hold; delete some first."
