"""Which door a request's changes come through, for the events they record."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from delivery.events import changes_from, source_of_path


class ChangeSourceMiddleware:
    """Record the changes a request makes as its door's: the admin, the MCP server,
    the chat, or the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with changes_from(source_of_path(request.path_info)):
            return self.get_response(request)
