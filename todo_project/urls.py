"""The service's URLs: the API, its schema and docs, the admin, health probes."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.permissions import AllowAny

from todo_project import health, observability

public = {"authentication_classes": [], "permission_classes": [AllowAny]}

admin.site.site_header = admin.site.site_title = "Todo API support"
admin.site.site_url = None  # the service has no public site to link to

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(**public), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no
    # inline script.
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", **public), name="docs"
    ),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", **public), name="redoc"),
    path("api/", include("tasks.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
]

handler400 = "todo_project.problems.bad_request_view"
handler403 = "todo_project.problems.permission_denied_view"
handler404 = "todo_project.problems.not_found_view"
handler500 = "todo_project.problems.server_error_view"
