"""Creating exports (validated, recorded, queued) and comparing releases."""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .. import tasks
from ..models import DatasetExport, Theme
from .layout import export_root
from .rows import exportable_stories


def export_validate(*, name: str, fmt: str, min_score, val_fraction: float, models, themes) -> None:
    errors = []
    if not name or slugify(name) != name:
        errors.append(
            ValidationError(
                "The name uses lowercase letters, digits, - and _ only.", code="export_name_invalid"
            )
        )
    elif DatasetExport.objects.filter(name=name).exists() or (export_root() / name).exists():
        errors.append(
            ValidationError(
                "An export named %(name)s exists; releases never change. Pick another name.",
                code="export_exists",
                params={"name": name},
            )
        )
    if fmt not in DatasetExport.Format.values:
        errors.append(
            ValidationError(
                "Format must be chat, prompt-completion or text.", code="export_format_invalid"
            )
        )
    if min_score is not None and not 1 <= min_score <= 5:
        errors.append(ValidationError("Minimum score must be 1-5.", code="min_score_range"))
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
    )
    with transaction.atomic():
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
            transaction.on_commit(partial(tasks.export_run_task.enqueue, export_id=export.pk))
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
