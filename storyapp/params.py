"""Ids and integers from requests, parsed in one place.

Database ids are signed 64-bit integers. Anything else (a 25-digit number, "²", which
``str.isdigit`` accepts but ``int`` refuses, "-1", "abc") is a clear 400 or a 404, never a 500.
"""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
# Seeds (profiles, jobs, releases, fine-tunes, evaluations): 0 to SEED_MAX, a signed 32-bit
# integer, which every generator and model server takes. Derived seeds (a sample's, a retry's)
# wrap around within the range.
SEED_MAX = 2**31 - 1
SEED_HELP = f"a whole number from 0 to {SEED_MAX:,}"


def seed_valid(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEED_MAX


def seed_plus(seed: int, offset: int) -> int:
    """The seed ``offset`` steps after ``seed``, within the seed range."""
    return (seed + offset) % (SEED_MAX + 1)


class SeedField(forms.IntegerField):
    """A seed within the seed range (its help text says the range)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"The seed: {SEED_HELP}.")
        super().__init__(min_value=0, max_value=SEED_MAX, **kwargs)


class IdConverter:
    """``<id:pk>`` in URLs: 1 to 19 ASCII digits within the id range; anything else is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(f"id out of range: {value}")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class IdField(forms.IntegerField):
    """A positive database id (1 to 2**63 - 1)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def parse_id(value: str, *, what: str = "id") -> int:
    """A positive id from text, or ValidationError(code="id_invalid")."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise ValidationError(
            "Invalid %(what)s %(value)r: expected a positive whole number.",
            code="id_invalid",
            params={"what": what, "value": text[:40]},
        )
    return int(text)


def parse_ids(text: str, *, what: str = "id") -> list[int]:
    """Comma-separated positive ids ("3, 7,12"), or ValidationError naming the bad one."""
    parts = [part for part in (text or "").replace(" ", "").split(",") if part]
    if not parts:
        raise ValidationError("No %(what)s given.", code="id_invalid", params={"what": what})
    return [parse_id(part, what=what) for part in parts]


class Range:
    """One range of one fact (epochs, a learning rate, a length), written once beside the
    service that enforces it; forms and commands read it. ``open_low``: the low end itself is
    outside, as in (0, 20]."""

    def __init__(self, low, high, message: str, *, open_low: bool = False, whole: bool = True):
        self.low, self.high, self.message = low, high, message
        self.open_low, self.whole = open_low, whole

    def holds(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.whole and not isinstance(value, int):
            return False
        above = value > self.low if self.open_low else value >= self.low
        return above and value <= self.high

    def error(self, code: str) -> ValidationError:
        return ValidationError(self.message, code=code)

    def form_field(self, **kwargs) -> forms.Field:
        """A form field that refuses what the range refuses, with the same message."""

        def validate(value) -> None:
            if value is not None and not self.holds(value):
                raise ValidationError(self.message, code="range")

        field_class = forms.IntegerField if self.whole else forms.FloatField
        field = field_class(validators=[validate], **kwargs)
        if not self.open_low:
            field.widget.attrs.setdefault("min", self.low)
        field.widget.attrs.setdefault("max", self.high)
        return field
