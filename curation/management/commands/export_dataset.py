import shutil
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from curation.exports.layout import export_folder
from curation.exports.runner import export_run
from curation.exports.services import export_create
from curation.models import DatasetExport
from storyapp.params import SEED_HELP

EXIT_BAD_INPUT = 2


# The options that choose what a release holds (export_create's keyword arguments).
EXPORT_OPTIONS = ("fmt", "min_score", "models", "themes", "use_edits", "val_fraction", "seed")


class Command(BaseCommand):
    # A batch command: the system checks belong to deploys, not to every export.
    requires_system_checks = []
    help = (
        "Export approved stories as a dataset release (JSONL + Parquet + manifest + card). "
        "Prints the manifest path; exit 2 on bad options or when nothing matches."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            default=DatasetExport.Format.CHAT,
            dest="fmt",
            choices=DatasetExport.Format.values,
        )
        parser.add_argument("--out", help="copy the release into this folder as well")
        parser.add_argument("--name", help="release name (default: export-<timestamp>)")
        parser.add_argument("--min-score", type=float)
        parser.add_argument("--val-fraction", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=42, help=f"{SEED_HELP}")
        parser.add_argument("--model", action="append", default=[], dest="models")
        parser.add_argument("--theme", action="append", type=int, default=[], dest="themes")
        parser.add_argument(
            "--use-edits", action="store_true", help="use reviewers' edited text where there is one"
        )

    def handle(self, *args, out, name, **options):
        name = name or f"export-{timezone.now():%Y%m%d-%H%M%S}"
        if out and Path(out).exists() and any(Path(out).iterdir()):
            raise CommandError(f"{out} exists and is not empty.", returncode=EXIT_BAD_INPUT)
        choices = {key: options[key] for key in EXPORT_OPTIONS}
        try:
            export = export_create(name=name, enqueue=False, **choices)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=EXIT_BAD_INPUT) from None
        started = time.perf_counter()
        ran = export_run(export_id=export.pk)
        if ran is None:  # another process took it first (it was just created: not expected)
            raise CommandError(f"Release {name} was taken by another process.")
        export = ran
        if options["verbosity"] >= 2:
            self.stderr.write(f"export written in {time.perf_counter() - started:.3f} s")
        folder = export_folder(export)
        if out:
            shutil.copytree(folder, out, dirs_exist_ok=True)
            folder = Path(out)
        self.stdout.write(str(folder / "manifest.json"))
