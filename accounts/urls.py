"""The route of the user's own settings, mounted under `/api/`."""

from django.urls import re_path

from accounts.views import SettingsViewSet

urlpatterns = [
    re_path(
        r"^(?P<user_id>[^/]+)/settings/?$",
        SettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="settings",
    ),
]
