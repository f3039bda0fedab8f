"""The test suite's settings: production's, read from a fixed environment.

The environment is set here before the production settings read it, so neither a
developer's `.env` nor their shell changes a test's outcome. Only DATABASE_URL comes
from outside: CI runs the suite on SQLite and on PostgreSQL.
"""

import os

SUITE_ENVIRONMENT = {
    "DJANGO_READ_DOT_ENV_FILE": "false",
    "DEBUG": "false",
    "SECRET_KEY": "test-only-secret-key-" + "k" * 50,
    "BETTER_AUTH_SECRET": "test-only-better-auth-secret-" + "s" * 40,
    "BETTER_AUTH_URL": "",
    "BETTER_AUTH_JWKS_URL": "",
    "JWT_ISSUER": "",
    "JWT_AUDIENCE": "",
    # The test client speaks plain HTTP; production's HTTPS settings have their own tests.
    "SECURE_HTTPS": "false",
    "CACHE_URL": "locmemcache://",
    "CORS_ALLOWED_ORIGINS": "",
    "ADMIN_URL": "admin/",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "RATE_LIMIT_USER": "600/m",
    "RATE_LIMIT_ANON": "120/m",
    "MAX_BODY_BYTES": "65536",
    "METRICS_TOKEN": "",
}
os.environ.update(SUITE_ENVIRONMENT)

from todo_project.settings import *  # noqa: E402, F403

# Staff passwords are hashed for real in production; here the admin tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
