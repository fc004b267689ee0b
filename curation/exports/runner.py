"""Running an export: write the release aside, then move it into place in one rename."""

import os
import shutil
import tempfile
from pathlib import Path

from django.utils import timezone

from ..models import DatasetExport
from .layout import export_folder, export_root
from .release import release_write


def export_run(*, export_id: int) -> DatasetExport:
    """Write the release files. Idempotent: a finished export is left as it is."""
    export = DatasetExport.objects.get(pk=export_id)
    if export.status == DatasetExport.Status.DONE:
        return export
    DatasetExport.objects.filter(pk=export.pk).update(status=DatasetExport.Status.RUNNING)
    root = export_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{export.name}-", dir=root))
    try:
        manifest = release_write(export, tmp)
        final = export_folder(export)
        if final.exists():
            raise RuntimeError(f"{final} already exists")
        os.replace(tmp, final)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        DatasetExport.objects.filter(pk=export.pk).update(
            status=DatasetExport.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    done = {
        "status": DatasetExport.Status.DONE,
        "progress": export.total,
        "train_count": manifest["counts"]["train"],
        "validation_count": manifest["counts"]["validation"],
        "story_ids": sorted(manifest["story_ids"]["train"] + manifest["story_ids"]["validation"]),
        "files": manifest["files"],
        "finished_at": timezone.now(),
    }
    DatasetExport.objects.filter(pk=export.pk).update(**done)
    for field, value in done.items():
        setattr(export, field, value)
    return export
