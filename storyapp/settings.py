"""storyapp settings: one module, driven by environment variables with safe local defaults.

Production-like use (see README): DEBUG off (the default), SECRET_KEY set, ALLOWED_HOSTS set,
STORYAPP_HTTPS=1 behind TLS. Nothing production-only is hard-coded here.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STORYAPP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


DEBUG = env_bool("DEBUG", False)

# A local install keeps a generated key in var/secret_key (mode 600), written by the first run
# with DEBUG on (make run) and read by every later command, DEBUG or not. A deploy sets
# SECRET_KEY itself; without it and without that file the app refuses to start.
SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _local_secret_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if SECRET_KEY_FILE.exists():
        SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
    elif DEBUG:
        SECRET_KEY = _local_secret_key(SECRET_KEY_FILE)
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value (python -c 'import secrets; print(secrets.token_urlsafe(50))'), or run "
            f"`make run` once so a local key is written to {SECRET_KEY_FILE}."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "storyapp",
    "curation",
    "generation",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes must come last: it turns lockouts raised by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "storyapp.urls"
WSGI_APPLICATION = "storyapp.wsgi.application"

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
                "storyapp.context_processors.nav",
            ],
            "builtins": [
                "django_htmx.templatetags.django_htmx",
                "template_partials.templatetags.partials",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "storyapp.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout
            # instead of failing with "database is locked" when a read upgrades to a write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: five failures for one username from one address lock that pair out.
AXES_FAILURE_LIMIT = env_int("STORYAPP_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STORYAPP_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "storyapp.auth.client_ip"
AXES_USERNAME_CALLABLE = "storyapp.auth.lockout_username"

# --- Security -----------------------------------------------------------------------------
HTTPS = env_bool("STORYAPP_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# A load balancer's health probe speaks plain http to the app: answer it, never redirect it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client address for the
# sign-in lockout from X-Forwarded-For, trusting exactly STORYAPP_PROXY_COUNT proxies
# (storyapp.auth.client_ip). Direct: REMOTE_ADDR.
STORYAPP_BEHIND_PROXY = env_bool("STORYAPP_BEHIND_PROXY", False)
STORYAPP_PROXY_COUNT = env_int("STORYAPP_PROXY_COUNT", 1)
if STORYAPP_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict CSP: scripts and styles only from our own origin; no inline code, no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Uploads: theme files are refused above 1 MiB by the import service; keep request bodies small.
STORYAPP_IMPORT_MAX_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Shared by all processes (web, workers): the dashboard's aggregates live here for a while.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "storyapp_cache",
        "TIMEOUT": 300,
    }
}

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- i18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Background tasks ---------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TASKS_BACKEND = os.environ.get("STORYAPP_TASKS_BACKEND", "db").strip().lower()
# Queues are named by model role; a model profile may name another queue listed here.
TASK_QUEUES = env_list("STORYAPP_QUEUES", "default,teacher,student,train")
# How `make run` (``manage.py run_workers``) splits the queues among worker processes: ';'
# between processes, ',' inside one; "*" is one process per queue, so an export or a model
# test (default) never waits behind a stories job or a fine-tune.
STORYAPP_WORKER_LAYOUT = os.environ.get("STORYAPP_WORKER_LAYOUT", "*")
# A generation task may run for many minutes; the queue must never kill it first.
TASK_TIMEOUT_SECONDS = env_int("STORYAPP_TASK_TIMEOUT_SECONDS", 6 * 60 * 60)
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": TASK_TIMEOUT_SECONDS} for name in TASK_QUEUES
}
# RQ's default worker forks a work-horse per job while the worker's heartbeat thread holds
# database connections (and SQLite's locks): a child forked then can deadlock on its first
# query. The simple worker runs each job in the worker process itself, so nothing is forked
# with threads alive (``run_worker`` and ``manage.py rqworker`` both use it).
RQ = {"WORKER_CLASS": "rq.worker.SimpleWorker"}
if TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
elif TASKS_BACKEND == "celery":
    TASKS = {"default": {"BACKEND": "storyapp.celery_backend.CeleryBackend", "QUEUES": TASK_QUEUES}}
else:
    raise ImproperlyConfigured(
        f"STORYAPP_TASKS_BACKEND must be one of db, rq, celery; got {TASKS_BACKEND!r}"
    )
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged message after the visibility timeout; keep it above the
# longest task so a long generation is not delivered twice while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TASK_TIMEOUT_SECONDS + 3600}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Model-server keys and bearer tokens never reach a log line (storyapp.redaction).
    "filters": {
        "redact": {"()": "storyapp.redaction.RedactingFilter"},
        "client_errors": {"()": "storyapp.logs.ClientErrorsInOneLine"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own logs through this handler only (its default adds a second console
        # handler under DEBUG: every line twice).
        "django": {
            "handlers": ["console"],
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- Product settings ---
STORYAPP_VERSION = "0.1.0"
STORYAPP_PAGE_SIZE = env_int("STORYAPP_PAGE_SIZE", 50)
# Long lists (stories, topics, the review queue's "waiting for you") count at most this many
# rows and say "more than" past it: an exact count of a million rows scans them all.
STORYAPP_COUNT_CAP = env_int("STORYAPP_COUNT_CAP", 1000)
STORYAPP_DEMO_PASSWORD = os.environ.get("STORYAPP_DEMO_PASSWORD", "")
CSRF_FAILURE_VIEW = "storyapp.views.csrf_failure"

# --- Generation ---------------------------------------------------------------------------
# Hosts a model profile's base URL may point at (exact host names; loopback by default).
STORYAPP_MODEL_HOSTS = env_list("STORYAPP_MODEL_HOSTS", "127.0.0.1,localhost,::1")
STORYAPP_HTTP_TIMEOUT = env_float("STORYAPP_HTTP_TIMEOUT", 120)
STORYAPP_HTTP_MAX_RETRIES = env_int("STORYAPP_HTTP_MAX_RETRIES", 3)
# The longest model text stored (a reply, a topic list, an evaluation sample): longer replies
# are cut here and flagged. Far above a real two-paragraph story (a few thousand characters).
STORYAPP_MAX_TEXT_CHARS = env_int("STORYAPP_MAX_TEXT_CHARS", 50_000)
# A claimed item whose heartbeat is older than this goes back to the queue (its worker died).
STORYAPP_CLAIM_STALE_SECONDS = env_float("STORYAPP_CLAIM_STALE_SECONDS", 90)
STORYAPP_HEARTBEAT_SECONDS = env_float("STORYAPP_HEARTBEAT_SECONDS", 10)
STORYAPP_MAX_ATTEMPTS = env_int("STORYAPP_MAX_ATTEMPTS", 3)
# Work still queued this long after its task was handed to the queue, while a worker of that
# queue sits idle, had its task lost: the sweeper hands it again (at most MAX_ATTEMPTS times).
STORYAPP_REQUEUE_SECONDS = env_float("STORYAPP_REQUEUE_SECONDS", 120)
# A model test still queued after this long fails with that reason instead of waiting forever.
STORYAPP_MODEL_TEST_WAIT_MINUTES = env_int("STORYAPP_MODEL_TEST_WAIT_MINUTES", 30)
# At most this many tasks are enqueued for one job (each claims batches until none is left).
STORYAPP_TASKS_PER_JOB = env_int("STORYAPP_TASKS_PER_JOB", 4)

# --- Review policy --------------------------------------------------------------------------
# A story is approved with at least OVERLAP reviews, no reject among them and a mean overall
# score of at least APPROVE_MEAN; rejected when a majority of OVERLAP rejects; otherwise an admin
# adjudicates.
STORYAPP_REVIEW_OVERLAP = env_int("STORYAPP_REVIEW_OVERLAP", 2)
STORYAPP_APPROVE_MEAN = env_float("STORYAPP_APPROVE_MEAN", 4.0)
STORYAPP_RESERVATION_MINUTES = env_int("STORYAPP_RESERVATION_MINUTES", 10)
# rapidfuzz token-set similarity (0-100) above which texts are flagged as near-duplicates.
STORYAPP_TOPIC_SIMILARITY = env_float("STORYAPP_TOPIC_SIMILARITY", 85)
# Near-duplicate stories, across every theme: the share of word 3-grams two stories share
# (Jaccard, percent) at or above which the later one is flagged as repeating the earlier one.
STORYAPP_NEAR_DUPLICATE_SIMILARITY = env_float("STORYAPP_NEAR_DUPLICATE_SIMILARITY", 70)
# Quality gates (curation.gates): <check>=<off|flag|reject>, over the defaults (every check
# rejects but repetitive and near_duplicate, which flag). Checked at startup.
STORYAPP_GATES = os.environ.get("STORYAPP_GATES", "")
# Repair: a story that ended on its own in more than two paragraphs (and at most
# STORYAPP_REPAIR_MAX_WORDS words) is re-paragraphed into two, its ending kept.
STORYAPP_GATE_REPAIR = env_bool("STORYAPP_GATE_REPAIR", True)
STORYAPP_REPAIR_MAX_WORDS = env_int("STORYAPP_REPAIR_MAX_WORDS", 350)
# "Too short": fewer words in the story, or in any of its paragraphs.
STORYAPP_MIN_STORY_WORDS = env_int("STORYAPP_MIN_STORY_WORDS", 60)
STORYAPP_MIN_PARAGRAPH_WORDS = env_int("STORYAPP_MIN_PARAGRAPH_WORDS", 15)
# A model judge whose agreement with people on the same pairs is under this is "untrusted".
STORYAPP_JUDGE_MIN_AGREEMENT = env_float("STORYAPP_JUDGE_MIN_AGREEMENT", 0.7)
