"""Releases, curation's public surface for what an export wrote: one object per export format
(how a record yields prompt and story, whether a model can be trained on it), and a reader
(splits, records, the manifest's figures, the topics a release held out). Training and the
benches read releases through this module only, never by matching format names or opening a
release's files themselves."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .exports.layout import SPLITS, export_folder
from .exports.runner import export_run
from .exports.services import export_create
from .models import DatasetExport, Story, Theme, Topic

__all__ = [
    "FORMATS",
    "SPLITS",
    "ReleaseFormat",
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


class ReleaseNotTrainable(ValueError):
    pass


@dataclass(frozen=True)
class ReleaseFormat:
    """An export format, as readers see it. ``split`` turns one line of a split's JSONL into
    (prompt, completion) in the conversational form (lists of messages); None when the format
    has no boundary between prompt and story (it cannot be trained on)."""

    name: str
    split: Callable[[dict], tuple[list, list]] | None
    why_not_trainable: str = ""

    @property
    def trainable(self) -> bool:
        return self.split is not None


def _chat(record: dict) -> tuple[list, list]:
    *prompt, answer = record["messages"]
    return prompt, [answer]


def _prompt_completion(record: dict) -> tuple[list, list]:
    return record["prompt"], record["completion"]


FORMATS: dict[str, ReleaseFormat] = {}


def format_register(fmt: ReleaseFormat) -> ReleaseFormat:
    """Make a format known to every reader (training, benches)."""
    FORMATS[fmt.name] = fmt
    return fmt


format_register(ReleaseFormat(DatasetExport.Format.CHAT, _chat))
format_register(ReleaseFormat(DatasetExport.Format.PROMPT_COMPLETION, _prompt_completion))
format_register(
    ReleaseFormat(
        DatasetExport.Format.TEXT,
        None,
        "A text release has no boundary between prompt and story; export the release as chat "
        "or prompt-completion to fine-tune on it.",
    )
)


def format_of(name: str) -> ReleaseFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ReleaseNotTrainable(f"Unknown release format {name!r}.") from None


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
        Topic.objects.filter(status=Topic.Status.APPROVED, theme__status=Theme.Status.APPROVED)
        .exclude(pk__in=trained)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
