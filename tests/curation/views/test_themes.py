import pytest
from django.urls import reverse

from curation.models import Theme, ThemeEvent
from tests.factories import ThemeFactory

HX = {"HTTP_HX_REQUEST": "true"}


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
def test_a_restricted_theme_reads_held_by_policy_not_pending_and_ids_are_shown(editor_client):
    held = ThemeFactory(name="Genocide and memory")
    plain = ThemeFactory(name="Courage")
    assert held.is_restricted and not plain.is_restricted
    listing = editor_client.get(reverse("curation:theme_list"), {"status": "all"})
    body = listing.content.decode()
    assert '<span class="status restricted">Held by policy</span>' in body
    assert '<span class="status pending">Pending</span>' in body  # the plain one
    assert f"#{held.pk}</small>" in body and f"#{plain.pk}</small>" in body
    detail = editor_client.get(held.get_absolute_url()).content.decode()
    assert "Held by policy" in detail and ">Pending<" not in detail
