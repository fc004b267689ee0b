"""Creating exports (validated, recorded, queued) and comparing releases."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from storyapp.names import NAME_HELP, name_valid
from storyapp.params import SEED_HELP, seed_valid

from .. import tasks
from ..models import DatasetExport, Theme
from .formats import FORMATS
from .layout import export_root
from .rows import exportable_stories


def _name_in_use(name: str) -> bool:
    return DatasetExport.objects.filter(name=name).exists() or (export_root() / name).exists()


def _name_taken(name: str) -> ValidationError:
    return ValidationError(
        "An export named %(name)s exists; releases never change. Pick another name.",
        code="export_exists",
        params={"name": name},
    )


def export_validate(
    *, name: str, fmt: str, min_score, val_fraction: float, models, themes, seed: int = 42
) -> None:
    errors = []
    if not name_valid(name):
        errors.append(
            ValidationError(
                "The release's name uses %(help)s.",
                code="export_name_invalid",
                params={"help": NAME_HELP},
            )
        )
    elif _name_in_use(name):
        errors.append(_name_taken(name))
    if fmt not in FORMATS:
        errors.append(
            ValidationError(
                "Format must be one of %(formats)s.",
                code="export_format_invalid",
                params={"formats": ", ".join(FORMATS)},
            )
        )
    if min_score is not None and not 1 <= min_score <= 5:
        errors.append(ValidationError("Minimum score must be 1-5.", code="min_score_range"))
    if not seed_valid(seed):
        errors.append(
            ValidationError("The seed is %(help)s.", code="seed_range", params={"help": SEED_HELP})
        )
    if not 0 <= val_fraction < 1:
        errors.append(
            ValidationError("Validation fraction must be in [0, 1).", code="val_fraction_range")
        )
    unknown = set(themes) - set(Theme.objects.filter(pk__in=themes).values_list("pk", flat=True))
    if unknown:
        errors.append(
            ValidationError(
                "No theme with id %(ids)s.",
                code="theme_missing",
                params={"ids": ", ".join(map(str, sorted(unknown)))},
            )
        )
    if errors:
        raise ValidationError(errors)


def export_create(
    *,
    name: str,
    fmt: str = DatasetExport.Format.CHAT,
    min_score=None,
    models=(),
    themes=(),
    use_edits=False,
    val_fraction: float = 0.1,
    seed: int = 42,
    actor=None,
    enqueue: bool = True,
) -> DatasetExport:
    """Validate and record an export; its files are written by export_run (a task)."""
    models, themes = sorted(set(models)), sorted(set(themes))
    export_validate(
        name=name,
        fmt=fmt,
        min_score=min_score,
        val_fraction=val_fraction,
        models=models,
        themes=themes,
        seed=seed,
    )
    try:
        export = _export_record(
            name=name,
            fmt=fmt,
            min_score=min_score,
            models=models,
            themes=themes,
            use_edits=use_edits,
            val_fraction=val_fraction,
            seed=seed,
            actor=actor,
            enqueue=enqueue,
        )
    except IntegrityError:
        # Another admin took the name between our check and our write.
        raise _name_taken(name) from None
    return export


@transaction.atomic
def _export_record(
    *, name, fmt, min_score, models, themes, use_edits, val_fraction, seed, actor, enqueue
) -> DatasetExport:
    export = DatasetExport.objects.create(
        name=name,
        format=fmt,
        min_score=min_score,
        models_filter=models,
        themes_filter=themes,
        use_edits=use_edits,
        val_fraction=val_fraction,
        seed=seed,
        created_by=actor,
    )
    export.total = exportable_stories(export).count()
    if export.total == 0:
        raise ValidationError("No approved story matches these filters.", code="export_empty")
    export.save(update_fields=["total"])
    if enqueue:
        tasks.export_enqueue(export_id=export.pk)
    return export


@transaction.atomic
def export_retry(*, export: DatasetExport) -> DatasetExport:
    """Queue a failed export again (its name and options stay; the release is written anew)."""
    queued = DatasetExport.objects.filter(pk=export.pk, status=DatasetExport.Status.FAILED).update(
        status=DatasetExport.Status.QUEUED,
        attempts=0,
        error="",
        progress=0,
        finished_at=None,
        claim_token="",
        heartbeat_at=None,
    )
    if not queued:
        raise ValidationError("Only a failed export can be retried.", code="export_not_failed")
    tasks.export_enqueue(export_id=export.pk)
    export.refresh_from_db()
    return export


def export_diff(export: DatasetExport, previous: DatasetExport | None) -> dict:
    if previous is None:
        return {"added": len(export.story_ids), "removed": 0, "added_ids": [], "removed_ids": []}
    now, before = set(export.story_ids), set(previous.story_ids)
    added, removed = sorted(now - before), sorted(before - now)
    return {
        "added": len(added),
        "removed": len(removed),
        "added_ids": added[:50],
        "removed_ids": removed[:50],
    }
