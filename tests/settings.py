"""Test settings: the production settings module, with a test secret and a fast hasher."""

import os

# A Redis database of its own, so tests never touch a developer's queues.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else-0123456789")

from storyapp.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Static files come from the finders; tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
# In-process tests share one test transaction; claim heartbeats are exercised by the crash
# tests, whose workers run in their own processes with their own settings.
STORYAPP_HEARTBEAT_SECONDS = 0
# A file, not an in-memory database: threads in the concurrency tests need real SQLite locking
# (WAL and busy_timeout), which the shared-cache in-memory database does not have.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405  (a fresh checkout has no var/)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-storyapp.sqlite3")}  # noqa: F405
