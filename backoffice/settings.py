"""Settings for the privacy back-office, read from environment variables.

Development defaults are safe to run locally; production (DJANGO_DEBUG=0)
refuses to start without a real secret key.
"""

import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()  # a blank key is no key
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "core",
    "orders",
    "promotions",
    "erasure",
    "privacy",
    "epcc",
    "connector",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's, the pages' and the API docs' static files under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL character anywhere in a request is a 400 before anything reads it (PostgreSQL refuses NUL).
    "backoffice.middleware.RefuseNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # `next=` of a login redirect names the page, never its query (a search carries an email).
    "backoffice.middleware.LoginRedirectWithoutQuery",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backoffice.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

WSGI_APPLICATION = "backoffice.wsgi.application"

# PostgreSQL only. DATABASE_URL (postgres://user@host:port/name) names a server;
# without it, the embedded server (backoffice.embedded_db: PostgreSQL 18 from
# PyPI, data in var/pgdata, a Unix socket there) starts on the first connection.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL server (postgres://...).")
else:
    from backoffice import embedded_db

    DATABASES = {
        "default": {
            "ENGINE": "backoffice.embedded_db",
            "NAME": embedded_db.DATABASE,
            "USER": embedded_db.USER,
            "HOST": str(embedded_db.socket_dir()),
            "PORT": str(embedded_db.PORT),
        }
    }
    PROCRASTINATE_ON_APP_READY = "backoffice.embedded_db.procrastinate_ready"
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DJANGO_CONN_MAX_AGE", "0"))
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DJANGO_TEST_DB_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# "20,002 results": every page and the admin group thousands (numbers in URLs use |unlocalize).
USE_THOUSAND_SEPARATOR = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Without `collectstatic` WhiteNoise finds files where runserver would; with it, it serves STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
# ...so a missing STATIC_ROOT (no collectstatic yet) is expected, not worth a warning on every start.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# Where `demo_setup` (make run) writes the demo API token the README's curl lines read.
DEMO_TOKEN_FILE = BASE_DIR / "var" / "demo-api-token"

LOGIN_URL = "/privacy/login/"
LOGIN_REDIRECT_URL = "/privacy/"
LOGOUT_REDIRECT_URL = "/privacy/login/"

# --- The product's own settings -------------------------------------------
# The value written over every personal field (EPCC's published responses show "**").
PRIVACY_MASK = os.environ.get("PRIVACY_MASK", "**")
# Most ids one anonymize request may carry; past it the API answers 400.
PRIVACY_BATCH_LIMIT = int(os.environ.get("PRIVACY_BATCH_LIMIT", "1000"))
# The key of the erasure requests' subject hashes (HMAC-SHA256 of the email or id searched): a
# request keeps that hash, never the email. Changing it unlinks open requests from records
# imported later; by default it is derived from DJANGO_SECRET_KEY (required in production).
PRIVACY_SUBJECT_KEY = os.environ.get("PRIVACY_SUBJECT_KEY", "").strip() or f"subject:{SECRET_KEY}"
# When the follow-up of waiting erasure request items runs (a cron line; blank: never).
ERASURE_FOLLOW_UP_CRON = os.environ.get("ERASURE_FOLLOW_UP_CRON", "0 * * * *").strip()
# Lifetime of tokens issued by POST /oauth/access_token.
API_ACCESS_TOKEN_SECONDS = 3600
# Records per chunk of a job (core/jobs.py): each chunk commits on its own, with its audit records.
JOBS_CHUNK_SIZE = int(os.environ.get("JOBS_CHUNK_SIZE", "1000"))
# A worker told to stop waits this long for its jobs, then stops them between chunks (they go back
# to the queue and resume there).
PROCRASTINATE_WORKER_DEFAULTS = {
    "shutdown_graceful_timeout": float(os.environ.get("JOBS_SHUTDOWN_SECONDS", "5")),
}
# A job that changed this many records or more VACUUMs the tables it masked when it ends, so no dead
# row version keeps a personal value until autovacuum comes (core/jobs.py vacuum_masked).
JOBS_VACUUM_AFTER = int(os.environ.get("JOBS_VACUUM_AFTER", "1000"))
# A worker whose last heartbeat is older than this is taken for dead: its jobs go back to the queue.
JOBS_STALLED_SECONDS = int(os.environ.get("JOBS_STALLED_SECONDS", "60"))
# Runs of one job that may work at once, on different chunks: with several workers, a big job
# (the retention run) is shared between them. 1: a job runs on one worker at a time.
JOBS_RUNS_PER_JOB = int(os.environ.get("JOBS_RUNS_PER_JOB", "1"))
# The retention run on a schedule (privacy/tasks.py, docs/jobs.md): a cron line, e.g. "0 3 * * *"
# (every day at 03:00 UTC); empty, the default, leaves it off. Each run queues
# a job for orders older than RETENTION_ORDERS_DAYS and, when set, usages older than RETENTION_USAGES_DAYS.
RETENTION_SCHEDULE = os.environ.get("RETENTION_SCHEDULE", "").strip()
RETENTION_ORDERS_DAYS = int(os.environ.get("RETENTION_ORDERS_DAYS", "365"))
RETENTION_USAGES_DAYS = (
    int(os.environ["RETENTION_USAGES_DAYS"]) if os.environ.get("RETENTION_USAGES_DAYS") else None
)

# The EPCC store this back-office mirrors (the connector: sync_ep, the push of anonymizations;
# docs/connector.md). The names EPCC's own CLI uses; the base URL is the part before /v2/.
# With all three set, every anonymization here is also sent to the store.
EPCC_API_BASE_URL = os.environ.get("EPCC_API_BASE_URL", "").strip().rstrip("/")
EPCC_CLIENT_ID = os.environ.get("EPCC_CLIENT_ID", "").strip()
EPCC_CLIENT_SECRET = os.environ.get("EPCC_CLIENT_SECRET", "").strip()
# Seconds a request to the store may take; anonymizations sent per request.
EPCC_HTTP_TIMEOUT = float(os.environ.get("EPCC_HTTP_TIMEOUT", "30"))
EPCC_PUSH_BATCH_SIZE = int(os.environ.get("EPCC_PUSH_BATCH_SIZE", "100"))
# The first wait before a push is tried again (timeouts, connection errors, 429, 5xx); it doubles
# on each attempt, up to EPCC_PUSH_BACKOFF_MAX_SECONDS.
EPCC_PUSH_BACKOFF_SECONDS = float(os.environ.get("EPCC_PUSH_BACKOFF_SECONDS", "10"))
EPCC_PUSH_BACKOFF_MAX_SECONDS = float(os.environ.get("EPCC_PUSH_BACKOFF_MAX_SECONDS", "3600"))
# A cron line ("*/15 * * * *") to run sync_ep as a periodic job on the workers; empty: never.
EPCC_SYNC_CRON = os.environ.get("EPCC_SYNC_CRON", "").strip()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["epcc.authentication.BearerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["epcc.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "epcc.errors.exception_handler",
    # EPCC answers no OPTIONS; without metadata DRF answers 405 (in the envelope).
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["epcc.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_RATE", "6000/min"),
        "anon": os.environ.get("API_THROTTLE_ANON_RATE", "60/min"),
    },
    # How many proxies in front of the app append to X-Forwarded-For: the client address
    # is the one the outermost of them added. 0: the header is ignored (a client could make
    # it up), the address is the connection's.
    "NUM_PROXIES": int(os.environ.get("API_TRUSTED_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy back-office API (EPCC-compatible)",
    "DESCRIPTION": (
        "Mirrors Elastic Path Commerce Cloud's orders and promotion code usages "
        "and the endpoints that anonymize them."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_query_strings": {"()": "core.logging.StripQueryStrings"},
        # Exception messages can quote a row (and so a personal value): frames only.
        "no_exception_messages": {"()": "core.logging.WithholdExceptionMessages"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["no_query_strings", "no_exception_messages"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request logs would carry query strings, and filters can carry an email.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.db.backends": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Every process loading procrastinate's Django app says how it registered its tasks, and
        # every defer says so: the worker's own log (procrastinate.worker) says what ran.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},
        # httpx logs each request to the EPCC store with its query string at INFO.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
