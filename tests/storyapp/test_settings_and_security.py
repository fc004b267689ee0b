import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


LEAVE_OUT = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in LEAVE_OUT}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "storyapp.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = manage("check", env={"STORYAPP_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_deploy_check_passes_with_production_like_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "SECRET_KEY": "a8Z" * 20 + "production-like-secret-key-for-the-check",
            "ALLOWED_HOSTS": "storyapp.example.org",
            "STORYAPP_HTTPS": "1",
            "STORYAPP_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_bad_tasks_backend_setting_is_refused_clearly(tmp_path):
    result = manage(
        "check",
        env={
            "DEBUG": "1",
            "STORYAPP_TASKS_BACKEND": "carrier-pigeon",
            "STORYAPP_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode != 0
    assert "STORYAPP_TASKS_BACKEND must be one of db, rq, celery" in result.stderr


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(editor_client):
    policy = editor_client.get(reverse("curation:theme_list"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_healthz_reports_the_database_without_login():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails():
    with mock.patch("storyapp.views.connection.cursor", side_effect=DatabaseError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["database"]["status"] == "error"


@pytest.mark.django_db
def test_login_page_signs_in_and_the_next_page_works(editor):
    client = Client()
    response = client.post(reverse("login"), {"username": "ed", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["user"] == editor


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_out(editor, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "ed", "password": "wrong"})
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    response = client.post(reverse("login"), {"username": "ed", "password": "wrong"})
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "ed", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session
