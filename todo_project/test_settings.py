"""The test suite's settings: production's, with `.env` unread and the settings the
tests rely on pinned.

The environment below is set before the production settings read it, so a
developer's `.env` never reaches the tests and their shell can't change these
settings (other variables of the shell still pass through, as they would to the
service). DATABASE_URL comes from outside: CI runs the suite on SQLite and on
PostgreSQL.
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
    "ALLOW_SQLITE_IN_PRODUCTION": "true",
    "RATE_LIMIT_STORE": "per-process",
    "WEB_CONCURRENCY": "2",
    "CACHE_URL": "locmemcache://",
    "CORS_ALLOWED_ORIGINS": "",
    "ADMIN_URL": "admin/",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "RATE_LIMIT_USER": "600/m",
    "RATE_LIMIT_ANON": "120/m",
    "MAX_BODY_BYTES": "65536",
    "MAX_TASKS_PER_USER": "100000",
    "BULK_MAX_TASKS": "1000",
    "TRASH_RETENTION_DAYS": "30",
    "MAX_KEPT_RESPONSE_BYTES": "5242880",
    "MAX_TOMBSTONES_PER_USER": "10000",
    "REMINDER_GRACE_MINUTES": "60",
    "METRICS_TOKEN": "",
    "METRICS_ALLOWED_IPS": "127.0.0.1,::1",
    # A VAPID key for the tests alone; the tests that push to loopback turn the flag on.
    "VAPID_PRIVATE_KEY": "qv5YvQAmzQzPjlWip4pi2r4FgVvfzDwfWh0POLtdH4c",
    "VAPID_SUBJECT": "mailto:tests@example.com",
    "PUSH_ALLOW_LOOPBACK": "false",
    "PUSH_MAX_ATTEMPTS": "8",
    "CLIENT_IP_HEADER": "",
    "TRUSTED_PROXY_COUNT": "1",
    "FORWARDED_ALLOW_IPS": "127.0.0.1,::1",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1]",
    "JWT_LEEWAY_SECONDS": "30",
    "JWT_MAX_LIFETIME_SECONDS": "2592000",
    "JWT_ALGORITHMS": "EdDSA,ES256,ES512,RS256,PS256,HS256,HS384,HS512",
    "USER_MIRROR_REFRESH_SECONDS": "300",
    "ADMIN_LOGIN_FAILURE_LIMIT": "10",
    "ADMIN_LOCKOUT_MINUTES": "15",
    "ADMIN_SESSION_HOURS": "8",
    "DATABASE_POOLER": "true",
    "DB_STATEMENT_TIMEOUT_MS": "5000",
    "WORKER_REDIS_URL": "",
    "WORKER_QUEUE_NAME": "todo",
    "WORKER_PROCESSES": "2",
    "WORKER_TASK_TIMEOUT_SECONDS": "120",
    "WORKER_SCHEDULE_SCAN_SECONDS": "5",
    # No model: a developer's shell never sends the tests' chats to a real provider; the
    # chat tests point these at a scripted model on loopback (testing/chat_model.py).
    "CHAT_API_BASE_URL": "",
    "CHAT_API_KEY": "",
    "CHAT_MODEL": "",
    "CHAT_MAX_TOOL_CALLS": "8",
    "CHAT_TIMEOUT_SECONDS": "60",
    "CHAT_HISTORY_MESSAGES": "20",
    "CHAT_MAX_CONCURRENT": "2",
}
os.environ.update(SUITE_ENVIRONMENT)

from todo_project.settings import *  # noqa: E402, F403
from todo_project.settings import DATABASES  # noqa: E402

# Staff passwords are hashed for real in production; here the admin tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A test database of this run's own (Django's default is `test_<NAME>`), so two suites
# on one PostgreSQL server at once, from two checkouts, never drop each other's. (On
# SQLite each run's test database is in its own memory.)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
