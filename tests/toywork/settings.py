"""The production settings with the toy kind of work installed (for its worker processes)."""

from storyapp.settings import *  # noqa: F403
from storyapp.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.toywork"]
