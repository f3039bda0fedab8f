"""Routes of the user's webhooks, activity log and push subscriptions, and the push
key, mounted under `/api/`."""

from django.urls import re_path

from delivery.views import (
    ActivityViewSet,
    PushPublicKeyView,
    PushSubscriptionViewSet,
    WebhookViewSet,
)

# A trailing slash is optional on the API's routes, as on tasks/urls.py's.
urlpatterns = [
    re_path(
        r"^(?P<user_id>[^/]+)/webhooks/?$",
        WebhookViewSet.as_view({"get": "list", "post": "create"}),
        name="webhook-list",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/webhooks/(?P<pk>[^/]+)/?$",
        WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="webhook-detail",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/webhooks/(?P<pk>[^/]+)/test/?$",
        WebhookViewSet.as_view({"post": "test"}),
        name="webhook-test",
    ),
    re_path(
        r"^(?P<user_id>[^/]+)/activity/?$",
        ActivityViewSet.as_view({"get": "list"}),
        name="activity",
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
