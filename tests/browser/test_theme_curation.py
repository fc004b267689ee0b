import pytest
from playwright.sync_api import expect

from curation.models import Theme, ThemeEvent
from tests.conftest import PASSWORD
from tests.factories import ThemeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_NAMES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def tab_count(page, bucket):
    return page.locator(f'a.tab[data-bucket="{bucket}"] .count')


def test_editor_filters_approves_with_keyboard_and_click_bulk_rejects_and_sees_audit(
    page, live_server, editor, artefacts
):
    # given: a catalog with eight river themes among others
    rivers = [f"River tale {n}" for n in range(1, 9)]
    for name in rivers + ["Mountain", "Desert", "Torture and resistance"]:
        ThemeFactory(name=name)
    sign_in(page, live_server, "ed")

    # when: the editor filters the list by search
    page.locator("summary", has_text="Curate").click()  # the nav groups its links
    page.get_by_role("link", name="Themes", exact=True).click()
    page.get_by_label("Search themes").fill("river")
    expect(page.locator("tr.row")).to_have_count(8)
    expect(tab_count(page, "pending")).to_have_text("8")
    assert "q=river" in page.url

    # approves the first with the keyboard (a on the focused row) ...
    page.locator("tr.row").first.focus()
    page.keyboard.press("a")
    expect(tab_count(page, "approved")).to_have_text("1")
    # ... and the next one with a click
    page.locator("tr.row", has_text="River tale 2").get_by_role("button", name="Approve").click()
    expect(tab_count(page, "approved")).to_have_text("2")

    # bulk-rejects three with a note
    for name in ("River tale 3", "River tale 4", "River tale 5"):
        page.locator("tr.row", has_text=name).get_by_role("checkbox").check()
    page.get_by_label("Note").fill("too close to each other")
    page.get_by_role("button", name="Reject selected").click()

    # then: the counts, the flash message and the database agree
    expect(tab_count(page, "rejected")).to_have_text("3")
    expect(tab_count(page, "pending")).to_have_text("3")
    expect(page.get_by_text("Rejected 3:")).to_be_visible()
    assert set(Theme.objects.filter(status="approved").values_list("name", flat=True)) == {
        "River tale 1",
        "River tale 2",
    }
    assert ThemeEvent.objects.filter(actor=editor, to_status="rejected").count() == 3

    # the filter tab shows just the rejected ones
    page.locator('a.tab[data-bucket="rejected"]').click()
    expect(page.locator("tr.row")).to_have_count(3)
    page.screenshot(path=str(artefacts / "themes-after-bulk-reject.png"), full_page=True)

    # and the audit entry is on the theme page
    page.get_by_role("link", name="River tale 4").click()
    entry = page.locator("tr.audit-entry").first
    expect(entry).to_contain_text("ed")
    expect(entry).to_contain_text("pending → rejected")
    expect(entry).to_contain_text("too close to each other")
    page.screenshot(path=str(artefacts / "theme-audit.png"), full_page=True)
    assert page.dialogs == []
    # CSP violations and failed loads show up as console errors.
    assert page.console_errors == []


def test_restricted_theme_needs_the_override_on_its_page(page, live_server, editor):
    theme = ThemeFactory(name="Torture and resistance")
    sign_in(page, live_server, "ed")
    page.goto(f"{live_server.url}/themes/?status=restricted")
    row = page.locator("tr.row", has_text="Torture and resistance")
    expect(row).to_contain_text("restricted: graphic violence")
    row.get_by_role("link", name="Review…").click()
    page.get_by_label("I have reviewed this restricted theme").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("tr.audit-entry").first).to_contain_text("restriction overridden")
    theme.refresh_from_db()
    assert theme.status == "approved"


def test_markup_in_theme_names_renders_as_text_on_every_page(page, live_server, editor):
    themes = [ThemeFactory(name=name) for name in XSS_NAMES]
    sign_in(page, live_server, "ed")
    pages = [("/themes/", XSS_NAMES), ("/themes/?q=alert", XSS_NAMES), ("/", [])]
    pages += [(theme.get_absolute_url(), [theme.name]) for theme in themes]
    for url, visible_names in pages:
        page.goto(live_server.url + url)
        for name in visible_names:
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
    # an htmx swap (reject both) must not execute them either
    page.goto(live_server.url + "/themes/")
    for theme in themes:
        page.locator(f'tr.row[data-theme-id="{theme.pk}"]').get_by_role("checkbox").check()
    page.get_by_role("button", name="Reject selected").click()
    expect(tab_count(page, "rejected")).to_have_text("2")
    expect(page.get_by_text(XSS_NAMES[0], exact=True).first).to_be_visible()
    assert page.dialogs == []
    assert page.console_errors == []
    assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
