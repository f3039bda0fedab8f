"""Routes of the task resource, mounted under `/api/`."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from tasks.views import (
    ChangesViewSet,
    ListViewSet,
    NotificationViewSet,
    TaskViewSet,
    TrashViewSet,
)

router = SimpleRouter()
# A trailing slash is optional: both spellings are the same resource, no redirect.
# (DRF's constructor only takes True/False, hence the attribute.)
router.trailing_slash = "/?"
router.register(r"(?P<user_id>[^/]+)/tasks", TaskViewSet, basename="task")
router.register(r"(?P<user_id>[^/]+)/lists", ListViewSet, basename="list")

urlpatterns = [
    *router.urls,
    # The trash's routes aren't a router's: DELETE on the collection empties it.
    re_path(
        r"^(?P<user_id>[^/]+)/changes/?$",
        ChangesViewSet.as_view({"get": "poll"}),
        name="changes",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/notifications/?$",
        NotificationViewSet.as_view({"get": "list"}),
        name="notification-list",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/notifications/(?P<pk>[^/]+)/read/?$",
        NotificationViewSet.as_view({"post": "read"}),
        name="notification-read",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/trash/?$",
        TrashViewSet.as_view({"get": "list", "delete": "empty"}),
        name="trash-list",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/trash/(?P<pk>[^/]+)/?$",
        TrashViewSet.as_view({"delete": "destroy"}),
        name="trash-detail",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/trash/(?P<pk>[^/]+)/restore/?$",
        TrashViewSet.as_view({"post": "restore"}),
        name="trash-restore",
    ),
]
