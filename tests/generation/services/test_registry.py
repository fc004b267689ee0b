import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.models import ModelProfile
from generation.services import registry

SERVER = {"role": "teacher", "backend": "openai", "model": "m"}


def codes(excinfo) -> set[str]:
    return {error.code for error in excinfo.value.error_list}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["PATH", "SECRET_KEY", "DATABASE_URL", "HOME", "lower_api_key"])
def test_a_key_can_only_come_from_a_dedicated_variable(name):
    with pytest.raises(ValidationError) as excinfo:
        registry.model_register(
            name="srv", base_url="http://127.0.0.1:8000/v1", api_key_env=name, **SERVER
        )
    assert codes(excinfo) == {"api_key_env_not_allowed"}
    assert not ModelProfile.objects.exists()


@pytest.mark.django_db
def test_the_command_refuses_a_borrowed_variable_with_exit_2():
    with pytest.raises(CommandError, match="STORYAPP_KEY_<NAME> or <NAME>_API_KEY") as excinfo:
        call_command(
            "register_model",
            "srv",
            "--role=teacher",
            "--backend=openai",
            "--model=m",
            "--base-url=http://127.0.0.1:8000/v1",
            "--api-key-env=SECRET_KEY",
            stdout=io.StringIO(),
        )
    assert excinfo.value.returncode == 2


@pytest.mark.django_db
def test_the_form_refuses_a_borrowed_variable(admin_client):
    response = admin_client.post(
        "/models/new/",
        {
            "name": "srv",
            **SERVER,
            "base_url": "http://127.0.0.1:8000/v1",
            "api_key_env": "DATABASE_URL",
            "max_new_tokens": 64,
            "temperature": 0.7,
            "top_p": 0.9,
            "batch_size": 1,
            "concurrency": 1,
            "queue": "teacher",
        },
    )
    assert response.status_code == 400
    assert b"DATABASE_URL is not one" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://user:pass@127.0.0.1:8000/v1", "base_url_userinfo"),
        ("http://token@127.0.0.1:8000/v1", "base_url_userinfo"),
        ("http://127.0.0.1:8000/v1\r\nX-Injected: 1", "base_url_invalid"),
        ("http://127.0.0.1:8000/\nv1", "base_url_invalid"),
        ("http://127.0.0.1:99999999/v1", "base_url_invalid"),
    ],
)
def test_base_urls_with_credentials_or_line_breaks_are_refused(url, code):
    with pytest.raises(ValidationError) as excinfo:
        registry.model_register(name="srv", base_url=url, **SERVER)
    assert codes(excinfo) == {code}


@pytest.mark.django_db
def test_a_profile_made_before_the_rule_cannot_send_a_borrowed_variable(monkeypatch):
    from generation.backends import GenerationRequest, backend_for

    monkeypatch.setenv("PATH_LIKE", "x")
    profile = ModelProfile.objects.create(
        name="old", base_url="http://127.0.0.1:9/v1", api_key_env="SECRET_KEY", **SERVER
    )
    [result] = backend_for(profile).generate([GenerationRequest(messages=[{"role": "user"}])])
    assert "SECRET_KEY is not allowed" in result.error
