"""The files of a release: the splits (JSONL, Parquet, ``hf/``), the card and the manifest."""

import json
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings

from ..models import DatasetExport, Theme
from .card import card_render
from .layout import HF_FILES, SPLITS, sha256_of, split_of
from .rows import Row, export_rows, near_duplicates_left_out
from .statistics import ReleaseStats, review_figures, split_warnings, story_of_line
from .writers import LinesWriter, SplitWriter, write_hf_metadata


class Progress:
    """How many stories a run has written so far (read by its heartbeat thread)."""

    value = 0


def release_write(export: DatasetExport, folder: Path, progress: Progress | None = None) -> dict:
    """Write every file of the release into ``folder``; return the manifest.

    Only reads the database while rows stream: progress goes to ``progress``, which the run's
    heartbeat writes from its own connection. An exact duplicate (prompt, completion) is
    written once; the manifest counts the others. Of each group of near-duplicates (stories
    that nearly repeat one another, in any theme), one story is written (the best reviewed,
    then the oldest); the manifest counts the others."""
    progress = progress or Progress()
    left_out = near_duplicates_left_out(export)
    writers = {split: SplitWriter(folder, split, export.format) for split in SPLITS}
    metadata = LinesWriter(folder / "metadata.jsonl")
    stats = ReleaseStats()
    # Story ids as machine integers (8 bytes each, not a Python object per story).
    ids = {"train": array("q"), "validation": array("q")}
    per_theme: Counter = Counter()
    models: set[str] = set()
    templates: set[str] = set()
    samplings: set[str] = set()
    split_cache: dict[int, str] = {}

    def split_for(topic_id: int) -> str:
        split = split_cache.get(topic_id)
        if split is None:
            split = split_cache[topic_id] = split_of(topic_id, export.seed, export.val_fraction)
        return split

    done = 0
    try:
        # A chunk of rows at a time, worked on as columns: the per-row Python is one tuple
        # test for duplicates and two f-strings (a release reads a million rows).
        for chunk in export_rows(export):
            if left_out:
                chunk = [row for row in chunk if row[0] not in left_out]
            rows = stats.fresh(chunk)
            if not rows:
                continue
            # Row's fields as columns: each a tuple of that field over the chunk's rows.
            columns: Any = Row._make(zip(*rows, strict=True))
            splits = [split_for(topic_id) for topic_id in columns.topic_id]
            for split, pk, meta, line in zip(
                splits, columns.pk, columns.meta_json, columns.line, strict=True
            ):
                writers[split].add(line, f'{{"id":{pk},"metadata":{meta},{line[1:]}')
                metadata.add(f'{{"id":{pk},"split":"{split}",{meta[1:]}')
                ids[split].append(pk)
            edited = [
                (i, story_of_line(line, export.format))
                for i, (line, is_edited) in enumerate(
                    zip(columns.line, columns.edited, strict=True)
                )
                if is_edited
            ]
            stats.add_columns(columns, dict(edited))
            per_theme.update(columns.theme_id)
            models.update(columns.model)
            templates.update(columns.template)
            samplings.update(columns.sampling_json)
            done += len(rows)
            progress.value = done
    finally:
        digests = {f"{split}.jsonl": writer.close() for split, writer in writers.items()}
        digests["metadata.jsonl"] = metadata.close()
    if done == 0:
        raise ValueError("no approved story matches these filters any more")
    # What only the streaming needed goes before the manifest is built (a million stories).
    stats.forget_seen()
    split_cache.clear()
    models.discard("")
    templates.discard("")
    theme_names = dict(Theme.objects.filter(pk__in=per_theme).values_list("pk", "name"))
    samplings = {s for s in samplings if s and s not in ("{}", "null")}
    counts = {"train": len(ids["train"]), "validation": len(ids["validation"])}
    manifest = {
        "name": export.name,
        "format": export.format,
        "filters": {
            "min_score": export.min_score,
            "models": export.models_filter,
            "themes": export.themes_filter,
            "use_edits": export.use_edits,
        },
        "seed": export.seed,
        "val_fraction": export.val_fraction,
        "counts": counts,
        "story_ids": {split: ids[split].tolist() for split in SPLITS},
        "statistics": {
            **stats.summary(),
            **review_figures(export, total=done + stats.duplicates + len(left_out)),
            "near_duplicates_left_out": len(left_out),
        },
        "warnings": split_warnings(export, counts),
        "models": sorted(models),
        "template_versions": sorted(templates),
        "sampling": sorted(
            (json.loads(s) for s in samplings), key=lambda d: json.dumps(d, sort_keys=True)
        )[:20],
        "per_theme": sorted(
            ((theme_names[pk], n) for pk, n in per_theme.items()), key=lambda i: (-i[1], i[0])
        ),
        "app_version": settings.STORYAPP_VERSION,
        "created_by": export.created_by.username if export.created_by else None,
        "created_at": export.created_at.isoformat(),
    }
    (folder / "README.md").write_text(card_render(export, manifest), encoding="utf-8")
    write_hf_metadata(folder, digests)
    manifest["files"] = {
        **digests,
        **{
            name: sha256_of(folder / name)
            for name in ("train.parquet", "validation.parquet", *HF_FILES)
        },
        "README.md": sha256_of(folder / "README.md"),
    }
    # Compact, and through json.dumps: it holds every story id, and the C encoder only runs
    # without indent and in one shot (json.dump encodes piecewise in Python).
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    (folder / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return manifest
