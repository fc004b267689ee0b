"""Releases, curation's public surface for what an export wrote: the export formats (one
object per format, ``curation.exports.formats``: how its lines are built, its Arrow columns,
how a record yields prompt and story, whether a model can be trained on it), and a reader
(splits, records, the manifest's figures, the topics a release held out). Training and the
benches read releases through this module only, never by matching format names or opening a
release's files themselves."""

import json
from pathlib import Path

from .exports.formats import (
    FORMATS,
    ExportFormat,
    ReleaseNotTrainable,
    format_of,
    format_register,
)
from .exports.layout import SPLITS, export_folder
from .exports.runner import export_run
from .exports.services import export_create
from .models import DatasetExport, Story, Topic

__all__ = [
    "FORMATS",
    "SPLITS",
    "ExportFormat",
    "ReleaseNotTrainable",
    "export_create",
    "export_folder",
    "export_run",
    "format_of",
    "format_register",
    "held_out_topics",
    "release_manifest",
    "release_records",
    "trainable_formats",
]


def trainable_formats() -> list[str]:
    return [name for name, fmt in FORMATS.items() if fmt.trainable]


def release_records(folder: Path, split: str, fmt: str) -> list[dict]:
    """The split as prompt-completion records (conversational: lists of messages)."""
    reader = format_of(fmt)
    if reader.split is None:
        raise ReleaseNotTrainable(reader.why_not_trainable)
    records = []
    with (folder / f"{split}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                prompt, completion = reader.split(json.loads(line))
                records.append({"prompt": prompt, "completion": completion})
    return records


def release_manifest(release: DatasetExport) -> dict:
    return json.loads((export_folder(release) / "manifest.json").read_text())


def held_out_topics(release: DatasetExport) -> list[int]:
    """Approved topics of approved themes with no story in the release's train split."""
    trained = Story.objects.filter(pk__in=release_manifest(release)["story_ids"]["train"]).values(
        "topic_id"
    )
    return list(
        Topic.objects.wanted()
        .filter(status=Topic.Status.APPROVED)
        .exclude(pk__in=trained)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
