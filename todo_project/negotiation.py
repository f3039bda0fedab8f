"""Content negotiation for an API that speaks only JSON."""

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

ANY = {"", "*/*", "application/json"}


class JSONNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, minus parsing the `Accept` header when it allows JSON outright.

    Most API clients send no `Accept`, `*/*` or `application/json`; anything else,
    a `?format=`, or a view whose first renderer isn't JSON (the schema) still goes
    through DRF's full rules (and is a 406 if nothing acceptable is offered).
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str] | Any:
        renderers = list(renderers)
        first = renderers[0]
        if (
            first.media_type == "application/json"
            and request.META.get("HTTP_ACCEPT", "") in ANY
            and not format_suffix
            and "format" not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
