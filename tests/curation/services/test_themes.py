import pytest
from django.core.exceptions import ValidationError

from curation.importing import ThemeFileError
from curation.models import Theme, ThemeEvent
from curation.services.themes import catalog_load, theme_decide, theme_import
from tests.factories import ThemeFactory


@pytest.mark.django_db
def test_approve_records_who_what_when_and_before_after(editor):
    # given
    theme = ThemeFactory(name="Hope")
    # when
    result = theme_decide(theme_ids=[theme.pk], decision="approve", actor=editor, note=" ok ")
    # then
    theme.refresh_from_db()
    assert [t.pk for t in result.changed] == [theme.pk]
    assert theme.status == Theme.Status.APPROVED
    assert theme.decided_by == editor and theme.decided_at is not None
    event = theme.events.get()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        editor,
        "pending",
        "approved",
        "ok",
    )


@pytest.mark.django_db
def test_undo_by_changing_the_decision_keeps_the_whole_history(editor):
    theme = ThemeFactory()
    theme_decide(theme_ids=[theme.pk], decision="reject", actor=editor)
    theme_decide(theme_ids=[theme.pk], decision="approve", actor=editor)
    theme_decide(theme_ids=[theme.pk], decision="reset", actor=editor)
    transitions = list(theme.events.order_by("pk").values_list("from_status", "to_status"))
    assert transitions == [
        ("pending", "rejected"),
        ("rejected", "approved"),
        ("approved", "pending"),
    ]
    theme.refresh_from_db()
    assert theme.status == Theme.Status.PENDING


@pytest.mark.django_db
def test_deciding_the_same_status_again_writes_nothing(editor):
    theme = ThemeFactory()
    theme_decide(theme_ids=[theme.pk], decision="reject", actor=editor)
    result = theme_decide(theme_ids=[theme.pk], decision="reject", actor=editor)
    assert result.changed == [] and [t.pk for t in result.unchanged] == [theme.pk]
    assert theme.events.count() == 1


@pytest.mark.django_db
def test_restricted_theme_in_a_batch_refuses_the_whole_batch_without_override(editor):
    plain = ThemeFactory(name="Hope")
    held = ThemeFactory(name="Torture and resistance")
    assert held.is_restricted

    with pytest.raises(ValidationError) as excinfo:
        theme_decide(theme_ids=[plain.pk, held.pk], decision="approve", actor=editor)

    assert excinfo.value.code == "restricted_needs_override"
    assert "Torture and resistance (graphic violence)" in excinfo.value.messages[0]
    assert Theme.objects.filter(status="approved").count() == 0
    assert ThemeEvent.objects.count() == 0


@pytest.mark.django_db
def test_override_approves_a_restricted_theme_and_records_the_override(editor):
    plain = ThemeFactory(name="Hope")
    held = ThemeFactory(name="Torture and resistance")
    theme_decide(
        theme_ids=[plain.pk, held.pk],
        decision="approve",
        actor=editor,
        override_restriction=True,
    )
    assert held.events.get().override_restriction is True
    # The override flag is only recorded where it was needed.
    assert plain.events.get().override_restriction is False


@pytest.mark.django_db
def test_rejecting_a_restricted_theme_needs_no_override(editor):
    held = ThemeFactory(name="Suicide")
    theme_decide(theme_ids=[held.pk], decision="reject", actor=editor)
    held.refresh_from_db()
    assert held.status == "rejected"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"decision": "approve", "theme_ids": []}, "no_themes"),
        ({"decision": "approve", "theme_ids": ["missing"]}, "theme_not_found"),
        ({"decision": "promote", "theme_ids": ["theme"]}, "decision_invalid"),
        ({"decision": "approve", "theme_ids": ["theme"], "note": "n" * 1001}, "note_too_long"),
    ],
)
def test_bad_decisions_are_refused_with_a_code(editor, kwargs, code):
    theme = ThemeFactory()
    ids = {"theme": theme.pk, "missing": theme.pk + 1000}
    kwargs = {**kwargs, "theme_ids": [ids[name] for name in kwargs["theme_ids"]]}
    with pytest.raises(ValidationError) as excinfo:
        theme_decide(actor=editor, **kwargs)
    assert excinfo.value.code == code
    theme.refresh_from_db()
    assert theme.status == "pending"


@pytest.mark.django_db
def test_import_creates_themes_flags_restricted_and_reports_duplicates(editor):
    ThemeFactory(name="Hope")
    content = b"hope\nCourage\n  COURAGE \nSexual awakening\n\nExile\n"
    report = theme_import(content=content, filename="t.txt", actor=editor)
    assert sorted(t.name for t in report.created) == ["Courage", "Exile", "Sexual awakening"]
    assert [t.name for t in report.restricted] == ["Sexual awakening"]
    assert report.duplicates == [(1, "hope", "Hope"), (3, "COURAGE", "Courage")]
    assert Theme.objects.get(name="Sexual awakening").restricted_reason == "sexual content"
    created_events = ThemeEvent.objects.filter(action="created", actor=editor)
    assert created_events.count() == 3


@pytest.mark.django_db
def test_import_with_one_bad_line_writes_nothing(editor):
    lines = [f"Good theme {i}" for i in range(500)]
    lines.insert(321, "<b>bad</b>")
    with pytest.raises(ThemeFileError) as excinfo:
        theme_import(content="\n".join(lines).encode(), filename="t.txt", actor=editor)
    assert [(e.line, e.code) for e in excinfo.value.errors] == [(322, "theme_markup")]
    assert Theme.objects.count() == 0


@pytest.mark.django_db
def test_import_refuses_files_over_one_mebibyte_and_empty_files(editor):
    with pytest.raises(ValidationError) as excinfo:
        theme_import(content=b"a\n" * (512 * 1024 + 1), filename="t.txt", actor=editor)
    assert excinfo.value.code == "file_too_large"
    with pytest.raises(ValidationError) as excinfo:
        theme_import(content=b"\n \n", filename="t.txt", actor=editor)
    assert excinfo.value.code == "file_empty"
    assert Theme.objects.count() == 0


@pytest.mark.django_db
def test_catalog_load_is_idempotent():
    first = catalog_load()
    count = Theme.objects.count()
    second = catalog_load()
    assert len(first.created) == count >= 190
    assert second.created == [] and len(second.duplicates) == count
    assert Theme.objects.count() == count
    assert Theme.objects.restricted().count() >= 5
