"""The service's URLs: the API, its schema and docs, the admin, health probes."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from todo_project import health, observability, openapi

admin.site.site_title = "Todo API support"
# The admin shows every time in the server's zone (TIME_ZONE), not the user's.
admin.site.site_header = "Todo API support · times in UTC"
admin.site.site_url = None  # the service has no public site to link to

urlpatterns = [
    path("api/schema/", openapi.SchemaView.as_view(), name="schema"),
    path("api/docs/", openapi.SwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", openapi.RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("tasks.urls")),
    path("api/", include("accounts.urls")),
    path("api/", include("delivery.urls")),
    path("api/", include("live.urls")),
    path("", include("agents.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", health.Healthz.as_view(), name="healthz"),
    path("readyz", health.Readyz.as_view(), name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
]

handler400 = "todo_project.problems.bad_request_view"
handler403 = "todo_project.problems.permission_denied_view"
handler404 = "todo_project.problems.not_found_view"
handler500 = "todo_project.problems.server_error_view"
