"""Django settings for the todo API.

Every value comes from the environment. `.env` beside `manage.py` (the local one `make
run` writes) is read too, under the environment, only where DJANGO_READ_DOT_ENV_FILE
is true: `manage.py` and `make run` set it, the Procfile's processes never do.
Defaults are the production-safe choice; `.env.example` lists every setting.

A value that can't be read is noted, not raised (todo_project/environment.py); the
system checks (todo_project/checks.py) report every note, and every setting that
production needs and lacks, at once: `manage.py check --deploy`, and the web, worker
and release processes refuse to start on them.
"""

import re
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

import corsheaders.defaults
from django.core.exceptions import ImproperlyConfigured

from todo_project.database import database_settings
from todo_project.environment import Environment

BASE_DIR = Path(__file__).resolve().parent.parent

env = Environment()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    Environment.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Unset, Django refuses to start; the checks name it (todo_project/checks.py).
SECRET_KEY = env.str("SECRET_KEY", default="") or "django-insecure-unset"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Where the Django admin lives; somewhere less guessable than admin/ in production.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

INSTALLED_APPS = [
    # First, so that its createsuperuser stands in for django.contrib.auth's.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_q",
    "todo_project",
    "tasks",
    "agents",
    "delivery",
    "live",
]

MIDDLEWARE = [
    "todo_project.observability.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "todo_project.middleware.ContentSecurityPolicyMiddleware",
    "todo_project.middleware.PrivateApiResponsesMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "todo_project.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "todo_project.middleware.BrowserOnlyMiddleware",
    "todo_project.middleware.CommonMiddleware",
    "delivery.middleware.ChangeSourceMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "todo_project.urls"
WSGI_APPLICATION = "todo_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "todo_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
# Unset (or empty), a SQLite file beside manage.py: development and tests. Production
# refuses SQLite unless ALLOW_SQLITE_IN_PRODUCTION says it is meant (todo_project/checks.py).
LOCAL_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASE_URL = env.str("DATABASE_URL", default="") or LOCAL_DATABASE_URL
ALLOW_SQLITE_IN_PRODUCTION = env.bool("ALLOW_SQLITE_IN_PRODUCTION", default=False)
# Any host may be a transaction pooler; `false` declares a direct connection.
DATABASE_POOLER = env.bool("DATABASE_POOLER", default=True)
try:
    _database = database_settings(
        DATABASE_URL,
        conn_max_age=env.int("CONN_MAX_AGE", default=60),
        health_checks=env.bool("CONN_HEALTH_CHECKS", default=False),
        connect_timeout_s=env.int("DB_CONNECT_TIMEOUT_SECONDS", default=5),
        pooler=DATABASE_POOLER,
    )
except ImproperlyConfigured as error:
    env.problem(str(error))
    _database = database_settings(
        LOCAL_DATABASE_URL, conn_max_age=0, health_checks=False, connect_timeout_s=5, pooler=True
    )
DATABASES = {"default": _database}
# Longest statement, in ms (0: none); `migrate` sets it on the role (todo_project.database).
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=5000)
# How long a client is told to wait when the database is unreachable (503).
DB_UNAVAILABLE_RETRY_AFTER_SECONDS = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate-limit counters) ------------------------------------------------
# The default is per process; point CACHE_URL at Redis to share counters
# between workers and machines. With more than one web process (WEB_CONCURRENCY, as
# gunicorn.conf.py reads it) a production start refuses counters per process, each
# of which would let a client through that many times over, unless
# RATE_LIMIT_STORE=per-process says so is meant (todo_project/checks.py).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
WEB_PROCESSES = env.int("WEB_CONCURRENCY", default=2)
RATE_LIMIT_STORE = env.str("RATE_LIMIT_STORE", default="shared")
if RATE_LIMIT_STORE not in ("shared", "per-process"):
    env.problem("RATE_LIMIT_STORE must be shared (the default) or per-process.")
SILENCED_SYSTEM_CHECKS = [
    "django_ratelimit.E003",
    "django_ratelimit.W001",
    # Sessions, auth, messages and axes middleware run inside BrowserOnlyMiddleware.
    "admin.E408",
    "admin.E409",
    "admin.E410",
    "axes.W002",
    # todo_project/checks.py refuses a weak SECRET_KEY as an error, with advice.
    "security.W009",
]

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (admin, API docs) ---------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Request limits -------------------------------------------------------------
MAX_BODY_BYTES = env.int("MAX_BODY_BYTES", default=65536)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

_RATE = re.compile(r"^(off|[1-9][0-9]*/[smhd])$")


def _rate(name: str, default: str) -> str | None:
    """Read a rate such as `600/m`; `off` disables the limit (returns None)."""
    value = env.str(name, default=default).strip().lower()
    if not _RATE.match(value):
        env.problem(f"{name} must look like 600/m (N/s, N/m, N/h, N/d) or off.")
        value = default
    return None if value == "off" else value


RATE_LIMIT_USER = _rate("RATE_LIMIT_USER", "600/m")
RATE_LIMIT_ANON = _rate("RATE_LIMIT_ANON", "120/m")
# A bulk action's `where` may change at most this many tasks (else 409, tasks.bulk).
BULK_MAX_TASKS = env.int("BULK_MAX_TASKS", default=1000)
# A create beyond this many tasks of one user is refused (409).
MAX_TASKS_PER_USER = env.int("MAX_TASKS_PER_USER", default=100_000)
# A new list beyond this many lists of one user is refused (409).
MAX_LISTS_PER_USER = env.int("MAX_LISTS_PER_USER", default=1000)
# What one user's kept Idempotency-Key responses may add up to, in bytes (counted as
# the rows take them, tasks.idempotency): a request with a new key beyond it is
# refused (429) until the oldest is forgotten a day after it was kept.
MAX_KEPT_RESPONSE_BYTES = env.int("MAX_KEPT_RESPONSE_BYTES", default=5 * 1024 * 1024)
if MAX_KEPT_RESPONSE_BYTES < 1:
    env.problem("MAX_KEPT_RESPONSE_BYTES must be at least 1.")
# The changes feed keeps at most this many tombstones (tasks deleted for good) per
# user; deleting for good forgets the oldest beyond it, and a token from before them
# is refused (410) as an old one is (tasks.queries.trash, tasks.changes).
MAX_TOMBSTONES_PER_USER = env.int("MAX_TOMBSTONES_PER_USER", default=10_000)
if MAX_TOMBSTONES_PER_USER < 1:
    env.problem("MAX_TOMBSTONES_PER_USER must be at least 1.")
# Trashed tasks are deleted for good after this many days (`manage.py purge_trash`);
# a changes-feed token older than that is refused (410).
TRASH_RETENTION_DAYS = env.int("TRASH_RETENTION_DAYS", default=30)
if TRASH_RETENTION_DAYS < 1:
    env.problem("TRASH_RETENTION_DAYS must be at least 1.")
# A reminder missed by more than this while the service was down is listed in the
# notifications but not pushed: a push that late would only confuse.
REMINDER_GRACE_MINUTES = env.int("REMINDER_GRACE_MINUTES", default=60)
if REMINDER_GRACE_MINUTES < 0:
    env.problem("REMINDER_GRACE_MINUTES must be 0 or more.")
# Notifications are deleted this many days after they fired (the daily purge).
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=90)
if NOTIFICATION_RETENTION_DAYS < 1:
    env.problem("NOTIFICATION_RETENTION_DAYS must be at least 1.")

# --- The admin's door (staff sign-in) -----------------------------------------------
# django-axes refuses sign-in (429, the lockout page, the right password too) for
# ADMIN_LOCKOUT_MINUTES once a username, or an address, has failed this many times
# within that long; support lifts a lockout by deleting its access attempt.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.ratelimit.client_address"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # accounts/staff.py writes the security log lines
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions serve the admin alone: a staff session ends this long after sign-in.
SESSION_COOKIE_AGE = env.int("ADMIN_SESSION_HOURS", default=8) * 3600

# --- Better Auth tokens ---------------------------------------------------------
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
# Each asymmetric algorithm Better Auth's jwt plugin offers, and the JWK key type
# (`kty`, allowed `crv`) that may verify it.
ASYMMETRIC_ALGORITHMS = {
    "EdDSA": ("OKP", ("Ed25519",)),
    "ES256": ("EC", ("P-256",)),
    "ES512": ("EC", ("P-521",)),
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
}

# One of the two is needed: the secret the frontend's Better Auth signs HS256 tokens
# with, or its URL, for the JWKS of its jwt plugin's key pair.
BETTER_AUTH_SECRET = env.str("BETTER_AUTH_SECRET", default="")
BETTER_AUTH_URL = env.str("BETTER_AUTH_URL", default="").rstrip("/")
BETTER_AUTH_JWKS_URL = env.str(
    "BETTER_AUTH_JWKS_URL", default=f"{BETTER_AUTH_URL}/api/auth/jwks" if BETTER_AUTH_URL else ""
)
if BETTER_AUTH_JWKS_URL and urlsplit(BETTER_AUTH_JWKS_URL).scheme not in ("http", "https"):
    env.problem("BETTER_AUTH_JWKS_URL (or BETTER_AUTH_URL) must be an http(s) URL.")
# Better Auth's jwt plugin sets both `iss` and `aud` to its base URL's origin.
_auth_origin = urlsplit(BETTER_AUTH_URL)._replace(path="", query="", fragment="").geturl()
JWT_ISSUER = env.str("JWT_ISSUER", default=_auth_origin) or None
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default=_auth_origin) or None
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=30)
# Above the 7-day tokens Better Auth deployments use, far below a forged "never expires".
JWT_MAX_LIFETIME_SECONDS = env.int("JWT_MAX_LIFETIME_SECONDS", default=30 * 24 * 3600)
JWT_ALGORITHMS = env.list("JWT_ALGORITHMS", default=[*ASYMMETRIC_ALGORITHMS, *HMAC_ALGORITHMS])
if unknown := set(JWT_ALGORITHMS) - {*ASYMMETRIC_ALGORITHMS, *HMAC_ALGORITHMS}:
    env.problem(f"JWT_ALGORITHMS has algorithms Better Auth does not use: {sorted(unknown)}")
# The JWKS is kept this long, refetched at most once per cool-down for a token
# whose `kid` it lacks, and a fetch gives up after the timeout.
JWKS_CACHE_SECONDS = env.int("JWKS_CACHE_SECONDS", default=600)
JWKS_REFETCH_COOLDOWN_SECONDS = env.int("JWKS_REFETCH_COOLDOWN_SECONDS", default=30)
JWKS_FETCH_TIMEOUT_SECONDS = env.float("JWKS_FETCH_TIMEOUT_SECONDS", default=3.0)
# The user mirror is written at most once per user in this many seconds.
USER_MIRROR_REFRESH_SECONDS = env.int("USER_MIRROR_REFRESH_SECONDS", default=300)

# simplejwt's TokenUser reads the user id from this claim.
SIMPLE_JWT = {"USER_ID_CLAIM": "sub"}

# --- REST framework and the OpenAPI document ------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BetterAuthJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.IsPathUser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["todo_project.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["todo_project.parsers.JSONObjectParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "todo_project.problems.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "todo_project.negotiation.JSONNegotiation",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    # Operation ids and tags come from the path after it, whatever else Django routes
    # (`/mcp`, which the document leaves out, would otherwise make the prefix `/`).
    "SCHEMA_PATH_PREFIX": "/api",
    "TITLE": "Todo API",
    "DESCRIPTION": (
        "Per-user tasks for the todo frontend. Every `/api/` route needs "
        "`Authorization: Bearer <JWT>` issued by Better Auth; errors are RFC 9457 "
        "`application/problem+json`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema to validator.swagger.io. A pasted token
    # is not kept in the browser's storage, where any script of the origin could read it.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "persistAuthorization": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # Every enum's labels are its values; listing them again in each description
    # would add the ~600 time zone names to every field that takes one.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "todo_project.openapi.complete_operations",
    ],
}

# --- Security -------------------------------------------------------------------
# Production serves HTTPS behind the platform's proxy, which says so in
# X-Forwarded-Proto. gunicorn takes that header only from the addresses of
# FORWARDED_ALLOW_IPS (as it reads the variable itself: loopback by default; `*` where
# nothing but the proxy can reach the process) and gives Django the scheme; Django
# reads no such header itself, so a client can't claim HTTPS over plain HTTP.
# `make run` (plain HTTP on loopback) sets SECURE_HTTPS=false.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=True)
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
try:
    for _entry in FORWARDED_ALLOW_IPS:
        if _entry != "*":
            ip_network(_entry, strict=False)
except ValueError as error:
    env.problem(f"FORWARDED_ALLOW_IPS must list addresses, networks or *: {error}.")
    FORWARDED_ALLOW_IPS = []
SECURE_SSL_REDIRECT = SECURE_HTTPS
# The platform's probes and the metrics scraper call over plain HTTP inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading commits the whole domain to HTTPS in browsers for good: the domain
# owner's decision, so off by default and its deploy-check warning silenced.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTML pages load everything from this origin alone. Swagger UI and Redoc set styles
# from script and show inline images; Redoc parses the schema in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The client address for rate limits and logs: REMOTE_ADDR, unless the platform's
# proxy (a caller from FORWARDED_ALLOW_IPS) puts it in a header. With
# X-Forwarded-For, each proxy appends the address it saw, so the client is the entry
# TRUSTED_PROXY_COUNT from the right; anything further left was written by the client
# and can't be trusted.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- The web process (gunicorn.conf.py, todo_project/asgi.py) ----------------------
# How long a new connection may take to send its first request head
# (todo_project/http_worker.py), and a client may take to send a whole body
# (todo_project/asgi.py). Keep both under GUNICORN_TIMEOUT, gunicorn's own wait.
WEB_HEADER_TIMEOUT_SECONDS = env.int("WEB_HEADER_TIMEOUT_SECONDS", default=10)
WEB_BODY_TIMEOUT_SECONDS = env.int("WEB_BODY_TIMEOUT_SECONDS", default=10)
# A connection whose client has read nothing of its answers for this long, while
# they wait to be sent, is closed (todo_project/http_worker.py).
WEB_SEND_TIMEOUT_SECONDS = env.float("WEB_SEND_TIMEOUT_SECONDS", default=30.0)
# How long a connection the server closes reads and drops what its client still sends
# (a refused body) before closing, so that the answer reaches the client.
WEB_LINGER_SECONDS = env.float("WEB_LINGER_SECONDS", default=2.0)
# Open connections one client address may hold in one worker (a trusted proxy's,
# FORWARDED_ALLOW_IPS, are not counted): one address can't fill the worker.
WEB_MAX_CONNECTIONS_PER_ADDRESS = env.int("WEB_MAX_CONNECTIONS_PER_ADDRESS", default=100)

# --- The background worker (todo_project/worker.py, django-q2) ---------------------
# Jobs go through the database (the ORM broker) unless WORKER_REDIS_URL names a Redis
# of the queue's own: CACHE_URL's Redis may evict keys, and a queue must lose none.
WORKER_REDIS_URL = env.str("WORKER_REDIS_URL", default="")
WORKER_PROCESSES = env.int("WORKER_PROCESSES", default=2)
# A job still running after this is stopped with its process (and counted a failure).
WORKER_TASK_TIMEOUT_SECONDS = env.int("WORKER_TASK_TIMEOUT_SECONDS", default=120)
# How often the worker looks for schedules that are due: django-q2's own look, every
# 30 s and not configurable, is off: the daily jobs run on time.
WORKER_SCHEDULE_SCAN_SECONDS = env.float("WORKER_SCHEDULE_SCAN_SECONDS", default=5)
if WORKER_PROCESSES < 1 or WORKER_TASK_TIMEOUT_SECONDS < 1 or WORKER_SCHEDULE_SCAN_SECONDS <= 0:
    env.problem(
        "WORKER_PROCESSES, WORKER_TASK_TIMEOUT_SECONDS and WORKER_SCHEDULE_SCAN_SECONDS "
        "must be positive."
    )
    WORKER_PROCESSES, WORKER_TASK_TIMEOUT_SECONDS, WORKER_SCHEDULE_SCAN_SECONDS = 2, 120, 5
Q_CLUSTER = {
    # The queue's name, and the salt its jobs are signed with (with SECRET_KEY): every
    # web process and worker of one deployment must share both, and two deployments
    # sharing one Redis need names of their own.
    "name": env.str("WORKER_QUEUE_NAME", default="todo"),
    "label": "Background jobs",
    "workers": WORKER_PROCESSES,
    # A job is taken from the queue for `retry` seconds; one still unacknowledged then
    # (its worker was killed) is handed out again, so `retry` must outlast `timeout`.
    "timeout": WORKER_TASK_TIMEOUT_SECONDS,
    "retry": WORKER_TASK_TIMEOUT_SECONDS + 60,
    # Every scheduled job runs again soon: a failure is logged and kept (the admin's
    # "Failed tasks"), not retried, so max_attempts has nothing more to bound.
    "ack_failures": True,
    "max_attempts": 1,
    # A cluster takes at most this many jobs ahead of its free processes, so none
    # waits out its `retry` in a busy cluster while another machine's is idle.
    "queue_limit": WORKER_PROCESSES,
    # A schedule missed while no worker ran runs once, not once per missed interval.
    "catch_up": False,
    "scheduler": False,
    # Successful runs kept for the admin; failures are forgotten after a week.
    "save_limit": 100,
    # Seconds between two looks at an empty ORM queue (one small query each).
    "poll": 1,
    **({"redis": WORKER_REDIS_URL} if WORKER_REDIS_URL else {"orm": "default"}),
}

# --- CORS (the Next.js frontend on another origin) --------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api/.*|mcp/?|\.well-known/oauth-protected-resource.*)$"
CORS_ALLOW_HEADERS = [
    *corsheaders.defaults.default_headers,
    "if-match",
    "if-none-match",
    "idempotency-key",
    "x-request-id",
    "mcp-protocol-version",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "X-Total-Count",
    "X-Request-ID",
    "Idempotency-Replayed",
    # A browser's MCP client reads where to get a token from a 401.
    "WWW-Authenticate",
]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Metrics ---------------------------------------------------------------------
# /metrics answers a bearer of METRICS_TOKEN, or a caller from METRICS_ALLOWED_IPS. In
# production the token is required and no address is trusted by default: behind a
# proxy on the same host, every request comes from loopback.
# Required in production (todo_project/checks.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list(
    "METRICS_ALLOWED_IPS", default=[] if SECURE_HTTPS else ["127.0.0.1", "::1"]
)

# --- Web Push (delivery/push.py) --------------------------------------------------
# The VAPID key signs every push (RFC 8292): a raw P-256 private key in base64url, as
# `manage.py generate_vapid_keys` prints it; browsers subscribe with its public half.
# Optional: without one, push is off (503 to subscribe) and reminders still reach
# /notifications. `make run` writes one to .env.
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
if VAPID_PRIVATE_KEY and not re.fullmatch(r"[A-Za-z0-9_-]{43}=?", VAPID_PRIVATE_KEY):
    env.problem(
        "VAPID_PRIVATE_KEY is not a raw P-256 private key in base64url (43 characters): "
        "use the private key `python manage.py generate_vapid_keys` prints, or unset it "
        "to turn Web Push off."
    )
    VAPID_PRIVATE_KEY = ""
# Who push services may contact about this sender: a mailto: or https: URL.
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
_VAPID_SUBJECT = re.compile(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+\S*")
if VAPID_PRIVATE_KEY and not _VAPID_SUBJECT.fullmatch(VAPID_SUBJECT):
    env.problem("VAPID_SUBJECT must be a mailto: or https: URL, e.g. mailto:ops@example.com.")
# Also admit http(s) endpoints on 127.0.0.1, [::1] and localhost: development and tests.
PUSH_ALLOW_LOOPBACK = env.bool("PUSH_ALLOW_LOOPBACK", default=False)
# A push failing this many times (5xx, 429, network) is given up.
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=8)

# --- Outbound delivery: events, webhooks, the Dapr publisher (delivery/) --------------
# Every outbound request (webhooks, Dapr, Web Push) ends within this many seconds,
# connecting, sending and reading all counted: a receiver that answers slowly is cut off.
DELIVERY_TIMEOUT_SECONDS = env.float("DELIVERY_TIMEOUT_SECONDS", default=10.0)
# Requests the delivery loop has in flight at once (threads of the worker process).
DELIVERY_THREADS = env.int("DELIVERY_THREADS", default=8)
# How long a message a worker took stays its own: one taken by a worker that died is
# sent again after this. Well beyond DELIVERY_TIMEOUT_SECONDS, so no live send outlasts it.
DELIVERY_LEASE_SECONDS = env.float("DELIVERY_LEASE_SECONDS", default=120.0)
if DELIVERY_LEASE_SECONDS <= DELIVERY_TIMEOUT_SECONDS:
    env.problem("DELIVERY_LEASE_SECONDS must be more than DELIVERY_TIMEOUT_SECONDS.")
# How long the delivery loop sleeps when it found nothing to do.
DELIVERY_IDLE_SECONDS = env.float("DELIVERY_IDLE_SECONDS", default=0.5)
if DELIVERY_TIMEOUT_SECONDS <= 0 or DELIVERY_THREADS < 1 or DELIVERY_IDLE_SECONDS <= 0:
    env.problem(
        "DELIVERY_TIMEOUT_SECONDS, DELIVERY_THREADS and DELIVERY_IDLE_SECONDS must be positive."
    )
    DELIVERY_TIMEOUT_SECONDS, DELIVERY_THREADS, DELIVERY_IDLE_SECONDS = 10.0, 8, 0.5


# Delays after each failed webhook delivery; after the last, the webhook is disabled.
WEBHOOK_RETRY_SCHEDULE = env.schedule("WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h")
# Publish every change through a Dapr sidecar's pub/sub (`dapr`), or not at all ("").
EVENTS_PUBLISHER = env.str("EVENTS_PUBLISHER", default="")
if EVENTS_PUBLISHER not in ("", "dapr"):
    env.problem("EVENTS_PUBLISHER must be dapr, or empty for none.")
    EVENTS_PUBLISHER = ""
DAPR_HTTP_ENDPOINT = env.str(
    "DAPR_HTTP_ENDPOINT", default=f"http://127.0.0.1:{env.int('DAPR_HTTP_PORT', default=3500)}"
).rstrip("/")
if urlsplit(DAPR_HTTP_ENDPOINT).scheme not in ("http", "https"):
    env.problem("DAPR_HTTP_ENDPOINT must be an http(s) URL, e.g. http://127.0.0.1:3500.")
DAPR_PUBSUB_NAME = env.str("DAPR_PUBSUB_NAME", default="pubsub")
if not re.fullmatch(r"[A-Za-z0-9_.-]+", DAPR_PUBSUB_NAME):
    env.problem("DAPR_PUBSUB_NAME must be a Dapr component's name (letters, digits, . _ -).")
# The sidecar's API token (Dapr's own variable), when it requires one.
DAPR_API_TOKEN = env.str("DAPR_API_TOKEN", default="")
# Delays after each failed publication; the last repeats for as long as it takes.
EVENTS_RETRY_SCHEDULE = env.schedule("EVENTS_RETRY_SCHEDULE", "1s,5s,30s,2m,5m")
# How long the activity log (GET /api/{user_id}/activity) keeps an event.
ACTIVITY_RETENTION_DAYS = env.int("ACTIVITY_RETENTION_DAYS", default=90)
if ACTIVITY_RETENTION_DAYS < 1:
    env.problem("ACTIVITY_RETENTION_DAYS must be 1 or more.")
    ACTIVITY_RETENTION_DAYS = 90

# --- Live updates: the changes feed as Server-Sent Events (live/) -------------------
# Streams one user may have open at once, across every web process.
EVENTS_MAX_STREAMS_PER_USER = env.int("EVENTS_MAX_STREAMS_PER_USER", default=20)
# A comment on every idle stream this often, so no proxy closes it (at most 25).
EVENTS_HEARTBEAT_SECONDS = env.float("EVENTS_HEARTBEAT_SECONDS", default=20.0)
# A stream reads the feed this often even when nothing woke it (a lost wake-up).
EVENTS_RECHECK_SECONDS = env.float("EVENTS_RECHECK_SECONDS", default=30.0)
# A direct (not pooled) PostgreSQL URL to LISTEN on for wake-ups: Neon's host without
# `-pooler`. Unset, DATABASE_URL is used when DATABASE_POOLER=false; otherwise each
# web process polls the events table every EVENTS_POLL_SECONDS while it holds streams.
EVENTS_LISTEN_URL = env.str("EVENTS_LISTEN_URL", default="")
if EVENTS_LISTEN_URL and urlsplit(EVENTS_LISTEN_URL).scheme not in ("postgres", "postgresql"):
    env.problem("EVENTS_LISTEN_URL must be a postgres:// URL (a direct connection).")
    EVENTS_LISTEN_URL = ""
EVENTS_POLL_SECONDS = env.float("EVENTS_POLL_SECONDS", default=0.5)
if (
    EVENTS_MAX_STREAMS_PER_USER < 1
    or not 0 < EVENTS_HEARTBEAT_SECONDS <= 25
    or EVENTS_RECHECK_SECONDS <= 0
    or EVENTS_POLL_SECONDS <= 0
):
    env.problem(
        "EVENTS_MAX_STREAMS_PER_USER, EVENTS_RECHECK_SECONDS and EVENTS_POLL_SECONDS must be "
        "positive, and EVENTS_HEARTBEAT_SECONDS between 0 and 25."
    )

# --- Agents: the MCP server and the chat endpoint (agents/) ------------------------
# The chat endpoint's model, through the OpenAI Chat Completions API of any compatible
# provider (OpenAI, Gemini's or Groq's compatible endpoints, Ollama, vLLM). Unset, the
# chat route answers 503; the MCP server needs none of them.
CHAT_API_BASE_URL = env.str("CHAT_API_BASE_URL", default="").rstrip("/")
CHAT_API_KEY = env.str("CHAT_API_KEY", default="")
CHAT_MODEL = env.str("CHAT_MODEL", default="")
# Tool calls the agent may make for one message before it must answer.
CHAT_MAX_TOOL_CALLS = env.int("CHAT_MAX_TOOL_CALLS", default=8)
# The model's whole time for one message, every round of tool calls included.
CHAT_TIMEOUT_SECONDS = env.float("CHAT_TIMEOUT_SECONDS", default=60.0)
# The last messages of a conversation the model sees.
CHAT_HISTORY_MESSAGES = env.int("CHAT_HISTORY_MESSAGES", default=20)
# Messages one web process answers at once. Each holds one of its GUNICORN_THREADS
# for as long as the model takes (up to CHAT_TIMEOUT_SECONDS), so a slow provider
# must not take them all: a chat beyond this is a 503 to retry, and the API goes on.
CHAT_MAX_CONCURRENT = env.int("CHAT_MAX_CONCURRENT", default=2)
if CHAT_API_BASE_URL and urlsplit(CHAT_API_BASE_URL).scheme not in ("http", "https"):
    env.problem("CHAT_API_BASE_URL must be an http(s) URL, e.g. https://api.openai.com/v1.")
if bool(CHAT_API_BASE_URL) != bool(CHAT_MODEL):
    env.problem("CHAT_API_BASE_URL and CHAT_MODEL go together: set both for the chat, or neither.")
if CHAT_MAX_TOOL_CALLS < 1:
    env.problem("CHAT_MAX_TOOL_CALLS must be at least 1.")
if CHAT_TIMEOUT_SECONDS < 1:
    env.problem("CHAT_TIMEOUT_SECONDS must be at least 1.")
if CHAT_HISTORY_MESSAGES < 1:
    env.problem("CHAT_HISTORY_MESSAGES must be at least 1.")
if CHAT_MAX_CONCURRENT < 1:
    env.problem("CHAT_MAX_CONCURRENT must be at least 1 (0 would refuse every chat).")

# --- Logging --------------------------------------------------------------------
# One JSON object per line (LOG_FORMAT=plain for people); each carries the request
# id. Django's own 4xx warnings are left out: the request log line has them.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING_CONFIG = "todo_project.logformat.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "todo_project.request_context.RequestIdFilter"},
        "request_without_query": {"()": "todo_project.logformat.RequestWithoutQuery"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {
            "()": "todo_project.logformat.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "request_without_query"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # django-q2 logs four INFO lines per job run (8 runs a minute); failures are ERRORs.
        "django-q": {"level": "WARNING"},
        # The MCP SDK logs a line or two per stateless request; the access log has it.
        "mcp": {"level": "WARNING"},
        # The model's HTTP client logs each call it makes; agents.chat logs failures.
        "httpx2": {"level": "WARNING"},
        # Its debug lines name each request's path: a push endpoint's is its capability.
        "urllib3": {"level": "WARNING"},
    },
}

# Every value above that couldn't be used, for the system checks (todo_project/checks.py).
SETTINGS_PROBLEMS = env.problems
