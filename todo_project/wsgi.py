"""Django's WSGI application, which todo_project/asgi.py serves on threads (and any
WSGI server can serve as it is)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")

application = get_wsgi_application()
