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


def test_a_local_install_runs_the_readmes_commands_without_debug(tmp_path):
    """The first DEBUG run writes var/secret_key (mode 600); later commands read it."""
    var = {"STORYAPP_VAR_DIR": str(tmp_path)}
    first = manage("check", env={**var, "DEBUG": "1"})
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key_file.read_text().strip()) >= 50
    later = manage("check", env=var)
    assert later.returncode == 0, later.stderr
    again = manage("check", env={**var, "DEBUG": "1"})
    assert again.returncode == 0 and len(key_file.read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"DEBUG": "1", "STORYAPP_PAGE_SIZE": "many"}, "STORYAPP_PAGE_SIZE must be an integer"),
        ({"DEBUG": "1", "STORYAPP_APPROVE_MEAN": "high"}, "STORYAPP_APPROVE_MEAN must be a number"),
    ],
)
def test_configuration_errors_are_one_clear_line(tmp_path, env, message):
    result = manage("check", env={"STORYAPP_VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("storyapp: configuration error:")
    assert message in lines[0]


@pytest.mark.django_db
def test_behind_a_proxy_the_lockout_is_per_client_address(editor, settings):
    settings.STORYAPP_BEHIND_PROXY = True
    settings.STORYAPP_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def login(client_ip, password, forged=""):
        chain = f"{forged}, {client_ip}" if forged else client_ip
        return Client().post(
            reverse("login"),
            {"username": "ed", "password": password},
            HTTP_X_FORWARDED_FOR=chain,
            **proxy,
        )

    # an attacker fails five times, forging a different address in front each time
    for n in range(settings.AXES_FAILURE_LIMIT):
        login("198.51.100.7", "wrong", forged=f"192.0.2.{n}")
    assert login("198.51.100.7", PASSWORD).status_code == 429
    # the editor, behind the same proxy from another address, still signs in
    response = login("203.0.113.9", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
def test_without_a_proxy_setting_forwarded_addresses_are_ignored(editor, settings):
    assert settings.STORYAPP_BEHIND_PROXY is False
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            reverse("login"),
            {"username": "ed", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = Client().post(reverse("login"), {"username": "ed", "password": PASSWORD})
    assert response.status_code == 429  # same REMOTE_ADDR: the forged header changed nothing


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["x" * 300, "ed\x00min", "\u202eadmin\u200b"])
def test_odd_usernames_at_sign_in_are_refused_politely(username):
    response = Client().post(reverse("login"), {"username": username, "password": "pw"})
    assert response.status_code == 200
    assert (
        b"Please enter a correct username and password" in response.content
        or (b"Ensure this value has at most" in response.content)
        or b"Null characters are not allowed" in response.content
    )


@pytest.mark.django_db
def test_healthz_answers_over_plain_http_when_https_is_on(settings):
    """STORYAPP_HTTPS=1 redirects every page to https, but a load balancer's probe of /healthz
    over plain http gets its answer, not a redirect."""
    settings.SECURE_SSL_REDIRECT = True  # what STORYAPP_HTTPS=1 sets; the exemption is as shipped
    client = Client()
    assert client.get("/healthz").status_code == 200
    login = client.get(reverse("login"))
    assert login.status_code == 301 and login["Location"].startswith("https://")
