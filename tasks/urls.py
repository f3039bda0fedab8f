"""Routes of the task resource, mounted under `/api/`."""

from rest_framework.routers import SimpleRouter

from tasks.views import TaskViewSet

router = SimpleRouter()
# A trailing slash is optional: both spellings are the same resource, no redirect.
# (DRF's constructor only takes True/False, hence the attribute.)
router.trailing_slash = "/?"
router.register(r"(?P<user_id>[^/]+)/tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
