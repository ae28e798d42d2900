"""Settings for the CRM, read from the environment.

With no environment variables set, the project runs on embedded defaults: SQLite under var/,
Celery tasks executed in-process, e-mail written to the console, DEBUG on and a generated dev
secret. Setting any production variable switches to the production stack, where every required
production variable must be present (see REQUIRED_IN_PRODUCTION).
"""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

REQUIRED_IN_PRODUCTION = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
)

DEBUG = env.bool(
    "DJANGO_DEBUG", default=not any(name in os.environ for name in REQUIRED_IN_PRODUCTION)
)

if not DEBUG:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            "Missing required production setting(s): "
            + ", ".join(missing)
            + ". Set them in the environment, or set DJANGO_DEBUG=true for a development run."
        )


def _dev_secret_key() -> str:
    """A per-checkout secret kept in var/, so sessions survive a restart of the dev server."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _dev_secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "crm",
    "stores",
    "customers",
    "orders",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.middleware.UserTimezoneMiddleware",
    "crm.middleware.AuditAddressMiddleware",
    "crm.middleware.DatabaseUnavailableMiddleware",
]

if not DEBUG:
    # Static files served by the app processes themselves, compressed and cache-busted.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

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
                "crm.context_processors.navigation",
                "crm.context_processors.csrf_form_field",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:password@host:5432/name) or SQLite under var/.
if "DATABASE_URL" in os.environ:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "crm.sqlite3",
        }
    }
    # Covering indexes (INCLUDE) are PostgreSQL's; SQLite keys the same indexes on fewer columns.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Reports may read from a replica (CRM_REPORTS_DATABASE_URL, same form as DATABASE_URL); without
# one they read the main database. Tests read the test database through it.
if os.environ.get("CRM_REPORTS_DATABASE_URL"):
    DATABASES["reports"] = env.db_url("CRM_REPORTS_DATABASE_URL")
    DATABASES["reports"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["reports"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def shared_cache(url: str) -> dict[str, object]:
    """The Redis cache shared by all web processes. While Redis is unreachable, reads miss and
    writes are dropped (and logged) instead of failing the request: sessions are then read from
    the database, and rate limits let requests through (RATELIMIT_FAIL_OPEN) rather than turning
    every visitor away. A Redis that does not answer is given up on within half a second."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }


# Cache: CACHE_URL (redis://host:6379/1) or in-process memory. Rate limits and sessions live here.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://crm")}
if env.str("CACHE_URL", default="").startswith(("redis://", "rediss://")):
    CACHES["default"] = shared_cache(env.str("CACHE_URL"))
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
RATELIMIT_FAIL_OPEN = True
if "CACHE_URL" in os.environ:
    # Sessions are read from the shared cache and written through to the database, so a request
    # doesn't query the session table. (A per-process memory cache would keep a session alive in
    # one process after the sign-out in another.)
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail login for staff and customers.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key"}
# Two-factor sign-in, optional, for staff: an authenticator app (TOTP) with recovery codes.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Retail CRM"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Retail CRM] "
ACCOUNT_ADAPTER = "crm.adapters.AccountAdapter"
CRM_SIGNUP_OPEN = env.bool("CRM_SIGNUP_OPEN", default=False)
# How many proxies (the TLS terminator, a load balancer) stand in front of the web processes: the
# client address that rate limits count by is read that far from the right of X-Forwarded-For.
CRM_TRUSTED_PROXY_COUNT = env.int("CRM_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = CRM_TRUSTED_PROXY_COUNT
RATELIMIT_IP_META_KEY = "crm.http.client_ip"

# The product speaks US English only: translation machinery off (it costs about a fifth of a
# page's rendering time), with the formats of "en" that it would have supplied.
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("CRM_DEFAULT_TIME_ZONE", default="America/New_York")
USE_I18N = False
NUMBER_GROUPING = 3
USE_TZ = True

# Phone numbers written without a country code are read in this region.
CRM_DEFAULT_PHONE_REGION = env.str("CRM_DEFAULT_PHONE_REGION", default="US")
# Strip "+tag" sub-addressing from e-mail addresses when normalising them (a+shop@x == a@x).
CRM_STRIP_EMAIL_SUBADDRESS = env.bool("CRM_STRIP_EMAIL_SUBADDRESS", default=False)

# Uploaded and received files (inquiry attachments). Never served as static files: a view checks
# who asks and serves them as downloads. Shared storage when web and workers run on several hosts.
MEDIA_ROOT = Path(os.environ.get("CRM_MEDIA_ROOT", VAR_DIR / "media"))

STATIC_URL = "static/"
# Where collectstatic gathers the static files that whitenoise serves.
STATIC_ROOT = Path(os.environ.get("CRM_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "crm" / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


def _mailer_from_url(url: str) -> dict[str, object]:
    """smtp://user:pass@host:587 (STARTTLS with smtp+tls://, implicit TLS with smtps://)."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps", "smtp+ssl"}:
        raise ImproperlyConfigured(f"EMAIL_URL must be an smtp:// URL, not {parts.scheme}://")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme in {"smtps", "smtp+ssl"} else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": parts.scheme == "smtp+tls",
            "use_ssl": parts.scheme in {"smtps", "smtp+ssl"},
            "timeout": 30,
        },
    }


MAILERS = {
    "default": _mailer_from_url(os.environ["EMAIL_URL"])
    if os.environ.get("EMAIL_URL")
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Customer Service <service@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (crm.services.email_*): a temporary SMTP failure is retried after
# CRM_EMAIL_RETRY_BACKOFF seconds, doubling each time (1, 2, 4 ... 32 min by default), and the
# e-mail is marked failed after CRM_EMAIL_MAX_RETRIES retries.
CRM_EMAIL_RETRY_BACKOFF = env.float("CRM_EMAIL_RETRY_BACKOFF", default=60.0)
CRM_EMAIL_MAX_RETRIES = env.int("CRM_EMAIL_MAX_RETRIES", default=6)
# Outbound webhooks: a receiver answering 5xx, 408 or 429, or unreachable, is tried again after
# CRM_WEBHOOK_RETRY_BACKOFF seconds, doubling each time (30 s ... about 1 h by default), and the
# delivery is marked failed after CRM_WEBHOOK_MAX_RETRIES retries.
CRM_WEBHOOK_RETRY_BACKOFF = env.float("CRM_WEBHOOK_RETRY_BACKOFF", default=30.0)
CRM_WEBHOOK_MAX_RETRIES = env.int("CRM_WEBHOOK_MAX_RETRIES", default=8)

# Where links in e-mail point (tracking pages, rating links).
CRM_SITE_URL = env.str("CRM_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Inquiries (tickets/).
# The shared secret a mail gateway sends with raw MIME to /inbound/email/ (Authorization: Bearer).
CRM_INBOUND_EMAIL_SECRET = env.str("CRM_INBOUND_EMAIL_SECRET", default="")
CRM_INBOUND_MAX_BYTES = env.int("CRM_INBOUND_MAX_BYTES", default=25 * 1024 * 1024)
CRM_ATTACHMENT_MAX_BYTES = env.int("CRM_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# The files of an inquiry are deleted this many days after it was resolved (0: kept for good).
CRM_ATTACHMENT_RETENTION_DAYS = env.int("CRM_ATTACHMENT_RETENTION_DAYS", default=365)
# Our own addresses (besides DEFAULT_FROM_EMAIL's): never acknowledged, so we can't mail ourselves.
CRM_OWN_ADDRESSES = env.list("CRM_OWN_ADDRESSES", default=[])
# At most this many automatic replies to one sender an hour (auto-responder loops).
CRM_AUTO_REPLY_LIMIT = env.int("CRM_AUTO_REPLY_LIMIT", default=5)
# A reply this many days after resolution opens a new, linked inquiry instead of re-opening.
CRM_REOPEN_DAYS = env.int("CRM_REOPEN_DAYS", default=14)
# Default SLA targets where a queue has no policy for the priority.
CRM_SLA_FIRST_RESPONSE_MINUTES = env.int("CRM_SLA_FIRST_RESPONSE_MINUTES", default=6 * 60)
CRM_SLA_RESOLUTION_MINUTES = env.int("CRM_SLA_RESOLUTION_MINUTES", default=3 * 24 * 60)
# Lifetime value (in the store currency) from which a customer is in a tier, for routing rules.
CRM_VALUE_TIERS = {"gold": 1000, "platinum": 5000}
# Inbound e-mail from a Mailgun route forwarding to /inbound/anymail/mailgun/inbound/ (through
# django-anymail; attachments arrive as file uploads, so large mail fits the request limits; the
# raw-MIME variant .../inbound_mime/ posts the whole message as a form field, which
# DATA_UPLOAD_MAX_MEMORY_SIZE caps). Each request is checked against the webhook signing key;
# without one the webhook is off. ANYMAIL_WEBHOOK_SECRET ("user:password") adds basic auth.
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
}

# Celery: with no broker, tasks run in-process at the moment they are enqueued (after commit).
_broker = env.str("CELERY_BROKER_URL", default="")
# In-process tasks still pass through a producer; the in-memory transport needs no server.
CELERY_BROKER_URL = _broker or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not _broker
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Insight recomputes follow every timeline write, and merge suggestions every new customer; on
# their own queue (workers started with `-Q insights`) they never hold up acknowledgements,
# routing or notifications on the default one.
CELERY_TASK_ROUTES = {
    "customers.refresh_insight": {"queue": "insights"},
    "customers.find_merge_suggestions": {"queue": "insights"},
    "customers.refresh_insights": {"queue": "insights"},
    "customers.find_merge_suggestions_batch": {"queue": "insights"},
}
# max_retries 0: a publish while Redis is down fails at once instead of blocking the request for
# seconds of reconnect attempts; the work is in the database and its sweep enqueues it again.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "max_retries": 0}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Re-sends outbox e-mail whose task was lost (broker down at commit, worker gone).
    "sweep-outbox": {"task": "crm.sweep_outbox", "schedule": 60.0},
    # Re-sends webhook deliveries whose task was lost.
    "sweep-webhooks": {"task": "crm.sweep_webhooks", "schedule": 60.0},
    # Uncollected pickups past their store's hold period; reminders two days before.
    "expire-pickups": {"task": "orders.expire_pickups", "schedule": 15 * 60.0},
    "remind-pickups": {"task": "orders.remind_pickups", "schedule": 15 * 60.0},
    # Routes (and so acknowledges) inquiries whose routing task was lost.
    "sweep-inquiries": {"task": "tickets.sweep_inquiries", "schedule": 60.0},
    # Flags SLA breaches, raises priority, tells the queue's supervisor.
    "sla-sweep": {"task": "tickets.sla_sweep", "schedule": 60.0},
    # Folds the agent queue's tally of open inquiries, so its counts read few rows.
    "compact-open-inquiry-tally": {
        "task": "tickets.compact_open_inquiry_tally",
        "schedule": 60.0,
    },
    # Deletes the files of inquiries resolved longer ago than CRM_ATTACHMENT_RETENTION_DAYS.
    "purge-attachments": {"task": "tickets.purge_attachments", "schedule": 6 * 60 * 60.0},
    # The day's backlog snapshot for the reports, taken by the first run of each day.
    "backlog-snapshot": {"task": "crm.backlog_snapshot", "schedule": 15 * 60.0},
}

# The REST API (/api/v1/): integration tokens or the browser's session; scopes per endpoint.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.ScopePermission"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.NewestFirst",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("CRM_API_TOKEN_RATE", default="6000/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retail CRM API",
    "DESCRIPTION": (
        "Push customers, orders, inquiries, marketing touches and web activity from the web "
        "shop, the point of sale and the mail gateway, and read the unified record back. "
        "Authenticate with `Authorization: Bearer crm_<prefix>_<secret>` (an integration token "
        "made in the admin); send an `Idempotency-Key` with every POST you may retry."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation is public: it holds no data, and partners read it before they have a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One name per choice set, whatever the field is called where it appears.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "crm.models.Channel",
        "TouchChannelEnum": "customers.models.TouchChannel",
        "VisitSourceEnum": "customers.models.VisitSource",
        "CheckoutStepEnum": "customers.models.CheckoutStep",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "PickupStatusEnum": "orders.models.PickupStatus",
        "InquiryStatusEnum": "tickets.models.InquiryStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.add_idempotency_header",
        "crm.api.schema.allow_empty_query_parameters",
    ],
}

SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: scripts, styles, fonts and images come only from our own static files
# (front-end packages are served from them, never from a CDN); no inline script or style, no
# plugins, no framing. Bootstrap's form controls draw their icons from data: images. Attachment
# downloads set their own, stricter policy.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
