"""Parsing and validation of theme files (plain text or CSV). Pure functions, no database.

A file is accepted whole or not at all: every invalid line is reported with its number and
reason, so the person importing can fix them all in one pass.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import THEME_NAME_MAX_LENGTH

# Anything that looks like a tag, a comment/doctype or a character reference.
_MARKUP = re.compile(r"<\s*/?\s*[a-z!?][^>]*>|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str
    code: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"


class ThemeFileError(Exception):
    def __init__(self, errors: list[LineError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def import_limit_text() -> str:
    """The size limit of a theme file, as people read it (``STORYAPP_IMPORT_MAX_BYTES``)."""
    return f"{settings.STORYAPP_IMPORT_MAX_BYTES / 2**20:g} MiB"


def check_import_size(size: int) -> None:
    """Refuse a theme file over the limit: the one place the limit is enforced (the page, the
    command and the service all call it, before reading more than they must)."""
    limit = settings.STORYAPP_IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            "The file is %(size)s bytes; the limit is %(limit)s bytes (%(text)s).",
            code="file_too_large",
            params={"size": size, "limit": limit, "text": import_limit_text()},
        )


def theme_name_problem(name: str) -> tuple[str, str] | None:
    """Why a (trimmed) theme name is invalid, as (reason, code); None when it is fine."""
    if len(name) > THEME_NAME_MAX_LENGTH:
        return (
            f"longer than {THEME_NAME_MAX_LENGTH} characters ({len(name)})",
            "theme_too_long",
        )
    for char in name:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"}:
            return (f"contains control character U+{ord(char):04X}", "theme_control_char")
    if _MARKUP.search(name):
        return ("contains HTML markup", "theme_markup")
    return None


def _decode_lines(content: bytes) -> tuple[list[tuple[int, str]], list[LineError]]:
    """Split into numbered lines; every line that is not valid UTF-8 becomes an error."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    lines: list[tuple[int, str]] = []
    errors: list[LineError] = []
    # Split on \n only: \r is stripped below, any other line break is a control character.
    for number, raw in enumerate(content.split(b"\n"), start=1):
        try:
            lines.append((number, raw.decode("utf-8").removesuffix("\r")))
        except UnicodeDecodeError as exc:
            errors.append(
                LineError(number, f"not valid UTF-8 (byte {exc.start + 1})", "theme_not_utf8")
            )
    return lines, errors


def _csv_names(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    text = "\n".join(line for _, line in lines)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ThemeFileError(
            [LineError(1, f"unreadable CSV header ({exc})", "csv_error")]
        ) from None
    columns = [column.strip().casefold() for column in header or []]
    if "theme" not in columns:
        raise ThemeFileError([LineError(1, "CSV header has no 'theme' column", "csv_no_theme")])
    index = columns.index("theme")
    names = []
    errors = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(reader.line_num, f"unreadable CSV row ({exc})", "csv_error"))
            break
        if not any(cell.strip() for cell in row):
            continue
        if index >= len(row):
            errors.append(LineError(reader.line_num, "row has no theme column", "csv_short_row"))
            continue
        names.append((reader.line_num, row[index]))
    if errors:
        raise ThemeFileError(sorted(errors, key=lambda error: error.line))
    return names


def parse_theme_file(content: bytes, filename: str) -> list[tuple[int, str]]:
    """Return (line number, trimmed name) for every non-blank entry, in file order.

    Raises ThemeFileError listing every invalid line. A ``.csv`` file must have a header
    with a ``theme`` column; any other file holds one theme per line.
    """
    lines, errors = _decode_lines(content)
    entries = _csv_names(lines) if filename.lower().endswith(".csv") else lines
    names: list[tuple[int, str]] = []
    for number, raw in entries:
        name = raw.strip()
        if not name:
            continue
        problem = theme_name_problem(name)
        if problem:
            errors.append(LineError(number, *problem))
        else:
            names.append((number, name))
    if errors:
        raise ThemeFileError(sorted(errors, key=lambda error: error.line))
    return names
