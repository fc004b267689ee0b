"""Every URL the app serves needs a session, except the login page and the health check."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"login", "healthz"}
SAMPLE_KWARGS = {
    "pk": 1,
    "user_id": 1,
    "story_id": 1,
    "name": "x",
    "filename": "train.jsonl",
    "action": "unlock",
    "judgment_id": 1,
    "item": 1,
    "step": "next",
}


def all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            yield from all_patterns(entry, prefix + namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name, entry


def sample_url(name, pattern):
    from django.urls import reverse

    kwargs = {key: SAMPLE_KWARGS[key] for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_anonymous_requests_to_every_url_go_to_the_login_page():
    names = []
    for name, pattern in all_patterns():
        if name in PUBLIC:
            continue
        url = sample_url(name, pattern)
        for method in ("get", "post"):
            response = getattr(Client(), method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/login/?next="), (method, url)
        names.append(name)
    assert len(names) >= 30  # the whole app, not a handful


@pytest.mark.django_db
def test_a_user_without_a_role_gets_403_everywhere(make_user):
    client = Client()
    client.force_login(make_user("nobody"))
    for name, pattern in all_patterns():
        if name in PUBLIC or name == "logout":
            continue
        url = sample_url(name, pattern)
        response = client.get(url)
        assert response.status_code in (403, 405), (url, response.status_code)


@pytest.mark.django_db
def test_the_overview_tells_a_user_without_a_role_what_to_do(make_user):
    client = Client()
    client.force_login(make_user("nobody"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"no role yet" in response.content
    assert b"reviews per day" not in response.content.lower()
