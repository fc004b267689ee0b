"""Test settings: the production settings module, with a test secret and a fast hasher.

Two test runs may share a machine (CI beside a developer's run): each run names its own test
databases (SQLite file, PostgreSQL database) and takes a Redis database of its own, so neither
sees the other's rows or tasks. The run's id and Redis database travel to the worker processes
that tests start through the environment.
"""

import atexit
import os


def _claim_redis_db(run: str) -> int:
    """A Redis database (2-15) no other live test run holds, held by a key that expires."""
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
        for number in range(15, 1, -1):
            key = f"storyapp:test-run:redis-db:{number}"
            if client.set(key, run, nx=True, ex=3 * 60 * 60):
                atexit.register(_release_redis_db, client, key, run)
                return number
    except Exception:  # noqa: BLE001  (no Redis here: the tests that need it say so)
        pass
    return 15


def _release_redis_db(client, key: str, run: str) -> None:
    try:
        if client.get(key) == run.encode():
            client.delete(key)
    except Exception:  # noqa: BLE001
        pass


TEST_RUN = os.environ.get("STORYAPP_TEST_RUN", "")
if not TEST_RUN:
    TEST_RUN = os.environ["STORYAPP_TEST_RUN"] = str(os.getpid())
    os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{_claim_redis_db(TEST_RUN)}")
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
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-storyapp-{TEST_RUN}.sqlite3")  # noqa: F405
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_storyapp_{TEST_RUN}"}  # noqa: F405
# A kind of tracked work made from storyapp's base and skeleton alone (tests/toywork).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.toywork"]  # noqa: F405

# The stories tests write are a sentence or two a paragraph: "too short" is off for them.
# tests/curation/test_verdicts.py judges with the production minimums (storyapp.settings).
STORYAPP_MIN_STORY_WORDS = 0
STORYAPP_MIN_PARAGRAPH_WORDS = 0
