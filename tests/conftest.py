import os

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from curation.services.team import roles_sync

CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery-staple"


def require(condition, reason: str) -> None:
    """Skip a test whose external dependency is missing; under CI=true fail instead."""
    if condition:
        return
    if CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


@pytest.fixture
def roles(db):
    return {group.name: group for group in roles_sync()}


@pytest.fixture
def make_user(db, roles):
    def make(username: str, role: str | None = None):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        if role:
            user.groups.add(roles[role])
        return user

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
