"""Request guards that apply before any view runs."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from todo_project.problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse a body declared larger than `MAX_BODY_BYTES` with 413, before reading it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return problem_response(400, "The Content-Length header is not a number.")
        if length > settings.MAX_BODY_BYTES:
            return problem_response(
                413, f"The request body is larger than {settings.MAX_BODY_BYTES} bytes."
            )
        return self.get_response(request)
