"""A side-by-side, word-level view of an edit: the original with what was taken out marked,
the edit with what was put in marked. Segments are plain text; templates escape them."""

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # "same", "removed" (left side) or "added" (right side)


def side_by_side(original: str, edited: str) -> tuple[list[Segment], list[Segment]]:
    """(left, right) segments for the original and the edited text."""
    a, b = _TOKENS.findall(original), _TOKENS.findall(edited)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(Segment("".join(a[i1:i2]), "same"))
            right.append(Segment("".join(b[j1:j2]), "same"))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), "removed"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), "added"))
    return left, right
