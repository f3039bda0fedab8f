"""The live stream's routes, mounted under `/api/`."""

from django.urls import re_path

from live.views import EventStreamViewSet, EventTicketViewSet

urlpatterns = [
    re_path(
        r"^(?P<user_id>[^/]+)/events/?$",
        EventStreamViewSet.as_view({"get": "stream"}),
        name="events",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/events/ticket/?$",
        EventTicketViewSet.as_view({"post": "create"}),
        name="events-ticket",
    ),
]
