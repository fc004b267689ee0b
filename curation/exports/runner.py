"""Running an export: claim it, write the release aside, then move it into place in one rename.

Crash-safe in the way generation items are. A run claims the export with a conditional UPDATE
(queued -> running, with a fresh token), so a duplicated task finds nothing to do. While it
writes, a heartbeat thread touches ``heartbeat_at`` (and reports progress: the run's own
connection only reads while rows stream, so SQLite never has to upgrade a long read to a write).
The sweeper puts an export whose worker stopped beating back in the queue, or fails it with the
reason after ``STORYAPP_MAX_ATTEMPTS`` such losses, and removes the dead run's temp folder. The
release appears with one rename of a complete folder; a run that finds the release already in
place (its predecessor died between the rename and the database write) adopts it after checking
every file against the manifest.
"""

import json
import logging
import shutil
from pathlib import Path

from storyapp import claims
from storyapp.claims import temp_folder_name, temp_folders_of
from storyapp.redaction import scrub

from ..models import DatasetExport
from .layout import export_folder, export_root, sha256_of
from .release import Progress, release_write

logger = logging.getLogger(__name__)


def temp_folder(export: DatasetExport, token: str) -> Path:
    return export_root() / temp_folder_name(export.name, token)


def _remove_temp_folders(name: str, *, keep: str = "") -> None:
    """Remove the temp folders that runs of exactly the export ``name`` left behind."""
    for path in temp_folders_of(export_root(), name):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def export_claim(*, export_id: int, worker_id: str = "") -> str | None:
    """Take a queued export for this run; None when it is not queued (done, failed, or
    another run has it). The conditional UPDATE makes two runs exclusive."""
    return claims.claim(DatasetExport, export_id, worker_id=worker_id)


def _done_fields(manifest: dict) -> dict:
    ids = manifest["story_ids"]
    return {
        "status": DatasetExport.Status.DONE,
        "train_count": manifest["counts"]["train"],
        "validation_count": manifest["counts"]["validation"],
        "progress": manifest["counts"]["train"] + manifest["counts"]["validation"],
        "story_ids": sorted(ids["train"] + ids["validation"]),
        "files": manifest["files"],
        "warnings": manifest.get("warnings", []),
        "duplicates_skipped": manifest.get("statistics", {}).get("duplicates_skipped", 0),
    }


def _published_manifest(folder: Path) -> dict:
    """The manifest of a release already in place, after checking every file against it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        if sha256_of(folder / name) != digest:
            raise RuntimeError(f"{folder.name}/{name} does not match its manifest")
    return manifest


def _publish(tmp: Path, final: Path, manifest: dict) -> dict:
    """Move the written release into place; adopt the one already there, if any."""
    try:
        tmp.rename(final)
    except OSError:
        if not (final / "manifest.json").is_file():
            raise RuntimeError(
                f"{final} exists but holds no complete release; move it away and retry"
            ) from None
        shutil.rmtree(tmp, ignore_errors=True)
        return _published_manifest(final)
    return manifest


def _reason(exc: BaseException) -> str:
    """An export's failure, as its page says it: the message (or the exception's name)."""
    return scrub(str(exc) or type(exc).__name__)[:2000]


def export_run(*, export_id: int, worker_id: str = "") -> DatasetExport | None:
    """Write the release of a queued export. A duplicated or late delivery does nothing and
    returns None; a failure marks the export failed with the reason, then re-raises."""
    progress = Progress()

    def work(export: DatasetExport, token: str) -> dict:
        export_root().mkdir(parents=True, exist_ok=True)
        tmp = temp_folder(export, token)
        _remove_temp_folders(export.name, keep=tmp.name)
        final = export_folder(export)
        if (final / "manifest.json").is_file():
            return _done_fields(_published_manifest(final))  # an earlier run got this far
        tmp.mkdir()
        manifest = release_write(export, tmp, progress)
        return _done_fields(_publish(tmp, final, manifest))

    def cleanup(export: DatasetExport, token: str) -> None:
        shutil.rmtree(temp_folder(export, token), ignore_errors=True)

    return claims.run_claimed(
        DatasetExport,
        export_id,
        work,
        worker_id=worker_id,
        progress=lambda: {"progress": progress.value},
        cleanup=cleanup,
        reason=_reason,
    )


def exports_sweep(*, now=None) -> list[int]:
    """Take back running exports whose worker stopped beating: queue them again, or fail them
    after STORYAPP_MAX_ATTEMPTS losses. Removes their temp folders. Returns the ids queued
    again (the caller enqueues a task for each)."""
    again, swept = claims.sweep(DatasetExport, now=now, hint="; retry it from this page")
    for name in DatasetExport.objects.filter(pk__in=swept).values_list("name", flat=True):
        _remove_temp_folders(name)
    return again
