import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.importing import ThemeFileError, check_import_size, import_limit_text
from curation.services.themes import theme_import

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = (
        "Import themes from a text file (one per line) or a CSV file with a 'theme' column. "
        "All or nothing: any invalid line refuses the whole file (exit 2)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help=f"path to a .txt or .csv file, UTF-8, at most {import_limit_text()}"
        )

    def handle(self, *args, file, **options):
        try:
            size = os.path.getsize(file)
        except OSError as exc:
            raise CommandError(
                f"Cannot read {file}: {exc.strerror}", returncode=EXIT_REFUSED
            ) from None
        try:
            check_import_size(size)
            with open(file, "rb") as handle:
                content = handle.read(settings.STORYAPP_IMPORT_MAX_BYTES + 1)
            report = theme_import(content=content, filename=os.path.basename(file), actor=None)
        except ThemeFileError as error:
            for line_error in error.errors:
                self.stderr.write(f"{file}:{line_error.line}: {line_error.reason}")
            raise CommandError(
                f"{len(error.errors)} invalid line(s); nothing was imported.",
                returncode=EXIT_REFUSED,
            ) from None
        except ValidationError as error:
            raise CommandError(
                f"{file}: {' '.join(error.messages)} Nothing was imported.", returncode=EXIT_REFUSED
            ) from None

        self.stdout.write(
            f"Imported {len(report.created)} theme(s), {len(report.restricted)} held as restricted."
        )
        for theme in report.restricted:
            self.stdout.write(f"  restricted: {theme.name} ({theme.restricted_reason})")
        if report.duplicates:
            self.stdout.write(f"Skipped {len(report.duplicates)} duplicate(s):")
            for line, name, existing in report.duplicates:
                self.stdout.write(f"  line {line}: {name!r} duplicates {existing!r}")
