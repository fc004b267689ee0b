"""Where a release lives and which files it has. A release is a folder under
``var/exports/<name>/`` that never changes once it is there."""

import hashlib
from pathlib import Path

from django.conf import settings

from ..models import DatasetExport

SPLITS = ("train", "validation")
# The splits as a `datasets` save_to_disk folder, for datasets.load_from_disk(".../hf").
HF_ARROW = "data-00000-of-00001.arrow"
HF_FILES = (
    "hf/dataset_dict.json",
    *(
        f"hf/{split}/{name}"
        for split in SPLITS
        for name in (HF_ARROW, "dataset_info.json", "state.json")
    ),
)
DATA_FILES = (
    "train.jsonl",
    "validation.jsonl",
    "metadata.jsonl",
    "train.parquet",
    "validation.parquet",
    *HF_FILES,
)
ALL_FILES = (*DATA_FILES, "manifest.json", "README.md")


def export_root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def export_folder(export: DatasetExport) -> Path:
    # A release renamed by the name rule's migration keeps the folder it was written to.
    return export_root() / (export.renamed_from or export.name)


def split_of(topic_id: int, seed: int, val_fraction: float) -> str:
    """train or validation for a topic: all stories of one topic land in one split, chosen by
    a hash of (seed, topic) so the choice does not depend on which other stories exist."""
    digest = hashlib.blake2b(f"{seed}:{topic_id}".encode(), digest_size=8).digest()
    return "validation" if int.from_bytes(digest, "big") / 2**64 < val_fraction else "train"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
