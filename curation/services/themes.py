"""The theme catalog: decisions (with the audit log), file imports and the built-in catalog.
Each write is atomic: it writes everything or nothing."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..catalog import THEMES
from ..dashboard import dashboard_invalidate
from ..importing import check_import_size, parse_theme_file
from ..models import Theme, ThemeEvent
from ..restrictions import restriction_reason
from ..text import text_key

NOTE_MAX_LENGTH = 1000

DECISIONS = {
    "approve": Theme.Status.APPROVED,
    "reject": Theme.Status.REJECTED,
    "reset": Theme.Status.PENDING,
}


@dataclass
class DecisionResult:
    changed: list[Theme] = field(default_factory=list)
    unchanged: list[Theme] = field(default_factory=list)


@transaction.atomic
def theme_decide(
    *,
    theme_ids: Iterable[int],
    decision: str,
    actor,
    note: str = "",
    override_restriction: bool = False,
) -> DecisionResult:
    """Set the status of one or many themes and record each change in the audit log.

    Locks the rows (ordered by pk) for the transaction. Deciding a theme to the status it
    already has changes nothing and writes no event. Approving a restricted theme needs
    ``override_restriction``; if any theme in the batch is refused, nothing is written.
    """
    if decision not in DECISIONS:
        raise ValidationError(f"Unknown decision {decision!r}.", code="decision_invalid")
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            f"The note is {len(note)} characters; the limit is {NOTE_MAX_LENGTH}.",
            code="note_too_long",
        )
    ids = sorted(set(theme_ids))
    if not ids:
        raise ValidationError("Select at least one theme.", code="no_themes")
    themes = list(Theme.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    missing = set(ids) - {theme.pk for theme in themes}
    if missing:
        raise ValidationError(
            "No theme with id %(ids)s.",
            code="theme_not_found",
            params={"ids": ", ".join(str(pk) for pk in sorted(missing))},
        )
    target = DECISIONS[decision]
    if target == Theme.Status.APPROVED and not override_restriction:
        held = [t for t in themes if t.is_restricted and t.status != Theme.Status.APPROVED]
        if held:
            raise ValidationError(
                "Restricted themes need an explicit override to be approved: %(names)s.",
                code="restricted_needs_override",
                params={"names": "; ".join(f"{t.name} ({t.restricted_reason})" for t in held)},
            )

    result = DecisionResult()
    now = timezone.now()
    events = []
    for theme in themes:
        if theme.status == target:
            result.unchanged.append(theme)
            continue
        events.append(
            ThemeEvent(
                theme=theme,
                actor=actor,
                action=ThemeEvent.Action.DECIDED,
                from_status=theme.status,
                to_status=target,
                note=note,
                override_restriction=override_restriction
                and theme.is_restricted
                and target == Theme.Status.APPROVED,
                created_at=now,
            )
        )
        theme.status = target
        theme.decided_at = now
        theme.decided_by = actor
        result.changed.append(theme)
    Theme.objects.bulk_update(result.changed, ["status", "decided_at", "decided_by"])
    ThemeEvent.objects.bulk_create(events)
    transaction.on_commit(dashboard_invalidate)
    return result


@dataclass
class ImportReport:
    created: list[Theme] = field(default_factory=list)
    # (line number, name as written, existing or earlier name it duplicates)
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def restricted(self) -> list[Theme]:
        return [theme for theme in self.created if theme.is_restricted]


def _themes_create(names: Sequence[tuple[int, str]], *, source: str, actor) -> ImportReport:
    report = ImportReport()
    keys = {text_key(name) for _, name in names}
    existing = dict(Theme.objects.filter(name_key__in=keys).values_list("name_key", "name"))
    seen: dict[str, str] = {}
    now = timezone.now()
    for number, name in names:
        key = text_key(name)
        if key in existing or key in seen:
            report.duplicates.append((number, name, existing.get(key) or seen[key]))
            continue
        seen[key] = name
        report.created.append(
            Theme(
                name=name,
                name_key=key,
                restricted_reason=restriction_reason(name),
                source=source,
                created_at=now,
            )
        )
    Theme.objects.bulk_create(report.created)
    ThemeEvent.objects.bulk_create(
        ThemeEvent(
            theme=theme,
            actor=actor,
            action=ThemeEvent.Action.CREATED,
            to_status=theme.status,
            note=f"{Theme.Source(source).label}"
            + (f"; held as restricted: {theme.restricted_reason}" if theme.is_restricted else ""),
            created_at=now,
        )
        for theme in report.created
    )
    return report


def theme_import(*, content: bytes, filename: str, actor) -> ImportReport:
    """Import themes from a text or CSV file: all valid lines, or nothing.

    Raises ThemeFileError (line numbers and reasons) for invalid input, ValidationError for a
    file that is too large. Duplicates of existing themes, or of earlier lines, are skipped and
    reported, not errors.
    """
    check_import_size(len(content))
    names = parse_theme_file(content, filename)
    if not names:
        raise ValidationError("The file holds no themes.", code="file_empty")
    try:
        with transaction.atomic():
            return _themes_create(names, source=Theme.Source.IMPORT, actor=actor)
    except IntegrityError:
        # Another import added one of these names between our read and our write.
        raise ValidationError(
            "Another import changed the catalog at the same time; nothing was written. Try again.",
            code="import_conflict",
        ) from None


@transaction.atomic
def catalog_load() -> ImportReport:
    """Add the built-in catalog themes that are missing. Idempotent."""
    return _themes_create(list(enumerate(THEMES, start=1)), source=Theme.Source.CATALOG, actor=None)
