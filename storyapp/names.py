"""One rule for every name that becomes part of a URL or a folder (model profiles, fine-tunes,
releases), and the rule for usernames.

A name is ASCII: lower-case letters, digits, ``.``, ``_`` and ``-``, starting with a letter or a
digit, at most ``NAME_MAX`` characters. Forms, commands and services validate with
``validate_name``; the models carry ``name_constraint`` so no other path can store one that
breaks it; URLs route names with the ``name`` converter.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, Q

NAME_MAX = 64
NAME_PATTERN = rf"[a-z0-9][a-z0-9._-]{{0,{NAME_MAX - 1}}}"
NAME_HELP = (
    f"lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter or a digit, "
    f"at most {NAME_MAX} characters"
)
_NAME = re.compile(rf"\A{NAME_PATTERN}\Z")


def name_valid(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def validate_name(value: object, *, what: str = "The name") -> None:
    if not name_valid(value):
        raise ValidationError(
            "%(what)s uses %(help)s.", code="name_invalid", params={"what": what, "help": NAME_HELP}
        )


def name_constraint(model_name: str, field: str = "name") -> CheckConstraint:
    """The database's copy of the rule (SQLite and PostgreSQL both have a regex lookup)."""
    return CheckConstraint(
        condition=Q(**{f"{field}__regex": rf"^{NAME_PATTERN}$"}), name=f"{model_name}_name_rule"
    )


def name_from(text: str) -> str:
    """A name that follows the rule, derived from any text (a rename of an old row)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower()).strip("._-")
    return name[:NAME_MAX].rstrip("._-") or "unnamed"


class NameConverter:
    """URLs route any single path segment, so a row stored before the rule (a longer or
    non-ASCII name) still has working pages; new names all follow the rule."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Usernames: NFKC-normalised, then limited to ASCII letters, digits and @ . + - _, and unique
# regardless of case: "аdmin" (a Cyrillic а) or "Admin" cannot sit beside "admin".
USERNAME_PATTERN = re.compile(r"\A[A-Za-z0-9@.+_-]+\Z")
USERNAME_HELP = "ASCII letters, digits and @ . + - _ only"


def username_normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def rename_breaking_rows(model) -> list[tuple[str, str]]:
    """Rename the rows of ``model`` whose name breaks the rule (for data migrations): the new
    name is derived from the old one (made unique with the row's id), and the old one is kept
    in ``renamed_from``. Returns (old, new) pairs."""
    renamed = []
    taken = set(model.objects.values_list("name", flat=True))
    for row in model.objects.order_by("pk"):
        if name_valid(row.name):
            continue
        new = name_from(row.name)
        if new in taken:
            suffix = f"-{row.pk}"
            new = new[: NAME_MAX - len(suffix)].rstrip("._-") + suffix
        taken.add(new)
        renamed.append((row.name, new))
        model.objects.filter(pk=row.pk).update(name=new, renamed_from=row.name[:200])
    return renamed


class NameField(forms.CharField):
    """A form field for a name that follows the rule (its help text says the rule)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", NAME_MAX)
        kwargs.setdefault("help_text", f"Use {NAME_HELP}.")
        super().__init__(validators=[validate_name], **kwargs)
