"""The release step (the Procfile's `release`), run once per deploy before the new
version serves: refuse on bad settings, migrate, collect the static files.

    python -m todo_project.release

Like the web and worker processes, and unlike `manage.py`, it never reads `.env`.
"""

import os

import django
from django.core.management import call_command


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    django.setup()
    from todo_project.checks import refuse_to_start

    refuse_to_start("release")
    call_command("migrate", interactive=False)
    call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
