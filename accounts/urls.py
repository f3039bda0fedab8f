"""Routes of the user's own settings and push subscriptions, and the push key, mounted
under `/api/`."""

from django.urls import re_path

from accounts.views import PushPublicKeyView, PushSubscriptionViewSet, SettingsViewSet

urlpatterns = [
    re_path(
        r"^(?P<user_id>[^/]+)/settings/?$",
        SettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="settings",
    ),
    re_path(
        r"^push/public-key/?$",
        PushPublicKeyView.as_view({"get": "retrieve"}),
        name="push-public-key",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/push-subscriptions/?$",
        PushSubscriptionViewSet.as_view({"get": "list", "post": "create"}),
        name="push-subscriptions",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/push-subscriptions/(?P<pk>[^/]+)/?$",
        PushSubscriptionViewSet.as_view({"delete": "destroy"}),
        name="push-subscription",
    ),
]
