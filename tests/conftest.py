import os
import socket

import pytest
from django.test import Client

from curation.services.team import roles_sync
from tests.factories import PASSWORD, UserFactory

CI = os.environ.get("CI", "").lower() == "true"
# Headers of a request htmx sends (django-htmx reads HX-Request).
HX = {"HTTP_HX_REQUEST": "true"}
__all__ = ["HX", "PASSWORD", "require", "redis_up"]


def require(condition, reason: str) -> None:
    """Skip a test whose external dependency is missing; under CI=true fail instead."""
    if condition:
        return
    if CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def var_dir(settings, tmp_path):
    """Everything the app writes (exports, models) goes to a fresh folder for the test."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def roles(db):
    return {group.name: group for group in roles_sync()}


@pytest.fixture
def make_user(db, roles):
    def make(username: str, role: str | None = None):
        return UserFactory(username=username, role=role)

    return make


@pytest.fixture
def editor(make_user):
    return make_user("ed", "Editor")


@pytest.fixture
def reviewer(make_user):
    return make_user("rev", "Reviewer")


@pytest.fixture
def admin_user(make_user):
    return make_user("boss", "Admin")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(editor):
    return _client_for(editor)


@pytest.fixture
def reviewer_client(reviewer):
    return _client_for(reviewer)


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)
