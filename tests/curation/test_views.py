import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Theme, ThemeEvent
from tests.factories import ThemeFactory

HX = {"HTTP_HX_REQUEST": "true"}

# (method, url name, kwargs, roles allowed)
URLS = [
    ("get", "home", {}, {"Editor", "Reviewer", "Admin", None}),
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


@pytest.mark.django_db
def test_theme_list_searches_filters_and_counts(editor_client):
    for name in ("River of time", "The river king", "Mountain", "Suicide"):
        ThemeFactory(name=name)
    Theme.objects.filter(name="Mountain").update(status="approved")

    response = editor_client.get(reverse("curation:theme_list"), {"q": "RIVER"})
    names = [t.name for t in response.context["themes"]]
    assert names == ["River of time", "The river king"]
    counts = {tab["value"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"all": 2, "pending": 2, "restricted": 0, "approved": 0, "rejected": 0}

    response = editor_client.get(reverse("curation:theme_list"), {"status": "restricted"})
    assert [t.name for t in response.context["themes"]] == ["Suicide"]
    response = editor_client.get(reverse("curation:theme_list"), {"status": "pending"})
    assert [t.name for t in response.context["themes"]] == ["River of time", "The river king"]


@pytest.mark.django_db
def test_theme_list_unknown_status_is_a_clear_400(editor_client):
    response = editor_client.get(reverse("curation:theme_list"), {"status": "password"})
    assert response.status_code == 400
    assert b"Invalid filter" in response.content


@pytest.mark.django_db
def test_theme_list_paginates_and_out_of_range_pages_show_the_last(editor_client, settings):
    settings.STORYAPP_PAGE_SIZE = 5
    ThemeFactory.create_batch(12)
    response = editor_client.get(reverse("curation:theme_list"), {"page": "99"})
    assert response.context["page_obj"].number == 3
    assert len(response.context["themes"]) == 2
    assert b"Page 3 of 3" in response.content


@pytest.mark.django_db
def test_htmx_request_gets_only_the_panel(editor_client):
    ThemeFactory(name="Hope")
    response = editor_client.get(reverse("curation:theme_list"), **HX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="theme-panel"')
    assert "<html" not in body
    assert response["Vary"].count("HX-Request") == 1


@pytest.mark.django_db
def test_bulk_decision_over_htmx_returns_the_refreshed_panel_with_counts(editor_client, editor):
    themes = ThemeFactory.create_batch(4)
    ids = [str(t.pk) for t in themes[:3]]
    response = editor_client.post(
        reverse("curation:theme_decide_bulk"),
        {"action": "reject", "ids": ids, "note": "too vague", "status": "pending"},
        **HX,
    )
    assert response.status_code == 200
    counts = {tab["value"]: tab["count"] for tab in response.context["tabs"]}
    assert counts["rejected"] == 3 and counts["pending"] == 1
    assert [t.pk for t in response.context["themes"]] == [themes[3].pk]
    assert b"Rejected 3" in response.content
    assert ThemeEvent.objects.filter(note="too vague", actor=editor).count() == 3


@pytest.mark.django_db
def test_restricted_approval_without_override_shows_the_reason_and_changes_nothing(
    editor_client,
):
    theme = ThemeFactory(name="Genocide and memory")
    response = editor_client.post(
        reverse("curation:theme_decide", args=[theme.pk]), {"action": "approve"}, **HX
    )
    assert b"need an explicit override" in response.content
    theme.refresh_from_db()
    assert theme.status == "pending"

    response = editor_client.post(
        reverse("curation:theme_decide", args=[theme.pk]),
        {"action": "approve", "override_restriction": "on", "return": "detail"},
        **HX,
    )
    assert b"restriction overridden" in response.content
    theme.refresh_from_db()
    assert theme.status == "approved"


@pytest.mark.django_db
def test_plain_form_post_redirects_back_to_the_same_filter(editor_client):
    theme = ThemeFactory()
    response = editor_client.post(
        reverse("curation:theme_decide", args=[theme.pk]),
        {"action": "approve", "q": "number", "status": "pending", "page": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/themes/?q=number&status=pending&page=1"


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [["abc"], ["-3"], []])
def test_bad_ids_give_a_message_not_a_crash(editor_client, ids):
    response = editor_client.post(
        reverse("curation:theme_decide_bulk"), {"action": "approve", "ids": ids}, **HX
    )
    assert response.status_code == 200
    assert b'class="msg error"' in response.content


@pytest.mark.django_db
def test_theme_page_shows_the_audit_log(editor_client, editor):
    theme = ThemeFactory(name="Hope")
    editor_client.post(
        reverse("curation:theme_decide", args=[theme.pk]), {"action": "approve", "note": "nice"}
    )
    response = editor_client.get(theme.get_absolute_url())
    assert [(e.actor, e.from_status, e.to_status) for e in response.context["events"]] == [
        (editor, "pending", "approved")
    ]
    assert b"pending \xe2\x86\x92 approved" in response.content
    assert b"nice" in response.content


@pytest.mark.django_db
def test_missing_theme_is_404(editor_client):
    assert editor_client.get(reverse("curation:theme_detail", args=[404])).status_code == 404


XSS_NAMES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.mark.django_db
def test_theme_names_with_markup_are_escaped_on_every_page(editor_client):
    themes = [ThemeFactory(name=name) for name in XSS_NAMES]
    pages = [
        editor_client.get(reverse("curation:theme_list")),
        editor_client.get(reverse("curation:theme_list"), {"q": "alert"}, **HX),
        *[editor_client.get(theme.get_absolute_url()) for theme in themes],
        editor_client.post(
            reverse("curation:theme_decide_bulk"),
            {"action": "reject", "ids": [t.pk for t in themes]},
            **HX,
        ),
    ]
    for response in pages:
        body = response.content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "&lt;img" in body


@pytest.mark.django_db
def test_theme_list_query_count_does_not_grow_with_the_catalog(editor_client, editor):
    def queries_for(n_themes: int) -> int:
        Theme.objects.all().delete()
        themes = ThemeFactory.create_batch(n_themes)
        Theme.objects.filter(pk__in=[t.pk for t in themes[::2]]).update(
            status="approved", decided_by=editor
        )
        with CaptureQueriesContext(connection) as ctx:
            response = editor_client.get(reverse("curation:theme_list"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    assert queries_for(10) == queries_for(200)


@pytest.mark.django_db
def test_import_page_reports_line_errors_and_writes_nothing(editor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.txt", b"Good\n<i>bad</i>\nAlso good\n")
    response = editor_client.post(reverse("curation:theme_import"), {"file": upload})
    assert response.status_code == 400
    assert b"Line 2: contains HTML markup" in response.content
    assert Theme.objects.count() == 0


@pytest.mark.django_db
def test_import_page_imports_and_lists_duplicates(editor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ThemeFactory(name="Hope")
    upload = SimpleUploadedFile("t.csv", b"theme\nHOPE\nRiver\nNarcotics\n")
    response = editor_client.post(reverse("curation:theme_import"), {"file": upload})
    assert response.status_code == 200
    assert b"Imported 2 themes" in response.content
    assert "Line 2: “HOPE” duplicates “Hope”".encode() in response.content
    assert b"1 held as restricted" in response.content


@pytest.mark.django_db
def test_import_page_refuses_a_large_upload(editor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.txt", b"a" * (1024 * 1024 + 10))
    response = editor_client.post(reverse("curation:theme_import"), {"file": upload})
    assert response.status_code == 400
    assert b"the limit is 1048576 bytes (1 MiB)" in response.content
    assert Theme.objects.count() == 0


@pytest.mark.django_db
def test_team_page_changes_roles(admin_client, editor):
    response = admin_client.post(
        reverse("curation:team_set_roles", args=[editor.pk]), {"roles": ["Reviewer"]}
    )
    assert response.status_code == 302
    assert list(editor.groups.values_list("name", flat=True)) == ["Reviewer"]
    page = admin_client.get(reverse("curation:team"))
    assert b"ed now has: Reviewer" in page.content
