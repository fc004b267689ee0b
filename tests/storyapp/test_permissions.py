import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ThemeFactory

URLS = [
    ("get", "home", {}, {"Editor", "Reviewer", "Admin"}),
    ("get", "curation:theme_list", {}, {"Editor", "Reviewer", "Admin"}),
    ("get", "curation:theme_detail", {"pk": "theme"}, {"Editor", "Reviewer", "Admin"}),
    ("post", "curation:theme_decide", {"pk": "theme"}, {"Editor", "Admin"}),
    ("post", "curation:theme_decide_bulk", {}, {"Editor", "Admin"}),
    ("get", "curation:theme_import", {}, {"Editor", "Admin"}),
    ("post", "curation:theme_import", {}, {"Editor", "Admin"}),
    ("get", "curation:team", {}, {"Admin"}),
    ("post", "curation:team_set_roles", {"user_id": "Editor"}, {"Admin"}),
]


@pytest.fixture
def everyone(make_user):
    users = {role: make_user(role.lower(), role) for role in ("Editor", "Reviewer", "Admin")}
    users[None] = make_user("norole")
    users["theme"] = ThemeFactory(name="Hope")
    return users


def resolve(kwargs: dict, everyone) -> dict:
    """URL kwargs name fixtures ("theme", a role); turn them into primary keys."""
    return {key: everyone[value].pk for key, value in kwargs.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name", "kwargs", "allowed"), URLS)
def test_permission_matrix(everyone, method, name, kwargs, allowed):
    url = reverse(name, kwargs=resolve(kwargs, everyone))
    data = {"action": "reject", "ids": [str(everyone["theme"].pk)]}

    response = getattr(Client(), method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")

    for role in ("Editor", "Reviewer", "Admin", None):
        client = Client()
        user = everyone[role]
        client.force_login(user)
        response = getattr(client, method)(url, data)
        if role in allowed:
            assert response.status_code in (200, 302, 400), (role, response.status_code)
        else:
            assert response.status_code == 403, (role, url)
            assert b"Not allowed" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("curation:theme_decide", {"pk": "theme"}),
        ("curation:theme_decide_bulk", {}),
        ("curation:theme_import", {}),
        ("curation:team_set_roles", {"user_id": "Editor"}),
        ("logout", {}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(everyone, name, kwargs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(everyone["Admin"])
    theme = everyone["theme"]
    response = client.post(
        reverse(name, kwargs=resolve(kwargs, everyone)), {"action": "approve", "ids": [theme.pk]}
    )
    assert response.status_code == 403
    assert b"CSRF check failed" in response.content
    theme.refresh_from_db()
    assert theme.status == "pending"


@pytest.mark.django_db
def test_post_with_the_csrf_token_goes_through(everyone):
    client = Client(enforce_csrf_checks=True)
    client.force_login(everyone["Editor"])
    page = client.get(reverse("curation:theme_list"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    theme = everyone["theme"]
    response = client.post(
        reverse("curation:theme_decide", args=[theme.pk]),
        {"action": "approve", "csrfmiddlewaretoken": token.decode()},
    )
    assert response.status_code == 302
    theme.refresh_from_db()
    assert theme.status == "approved"
