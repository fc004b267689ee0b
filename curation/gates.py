"""Quality gates: what each automatic check does to a story (settings, shown in the UI).

Each check is off, ``flag`` (a badge and a filter) or ``reject`` (the story is rejected
automatically, recorded as a decision by "automatic checks" with the checks as the reason, and
an admin can reverse it from the story's page). Stories that pass go to reviewers; nothing that
fails a reject gate takes a human's time.

``repair``: a story that ended on its own (the model's stop) in more than two paragraphs is
re-paragraphed into two, nothing dropped and its ending kept (``checks.repair_two``), then
judged, reviewed and exported as the repair: an automatic edit kept beside the original, which
never changes. A story cut off by the token limit is never repaired.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from .checks import REPETITIVE_RATIO

OFF, FLAG, REJECT = "off", "flag", "reject"
ACTIONS = (OFF, FLAG, REJECT)


@dataclass(frozen=True)
class Check:
    label: str
    # Does a story (anything with the check fields) fail it?
    fails: Callable[[Any], bool]
    # The same, as a query condition.
    where: Q


CHECKS: dict[str, Check] = {
    "cut_off": Check("Cut off", lambda s: s.cut_off, Q(cut_off=True)),
    "paragraphs": Check(
        "Not two paragraphs", lambda s: s.paragraph_count != 2, ~Q(paragraph_count=2)
    ),
    "not_english": Check("Not English", lambda s: s.not_english, Q(not_english=True)),
    "repetitive": Check(
        "Repetitive",
        lambda s: s.repeated_ngram_ratio >= REPETITIVE_RATIO,
        Q(repeated_ngram_ratio__gte=REPETITIVE_RATIO),
    ),
    "near_duplicate": Check(
        "Near-duplicate",
        lambda s: s.near_duplicate_of_id is not None,
        Q(near_duplicate_of__isnull=False),
    ),
    "not_story": Check("Not a story", lambda s: bool(s.not_story), ~Q(not_story="")),
    "too_short": Check("Too short", lambda s: s.too_short, Q(too_short=True)),
    "echo": Check("Echoes the prompt", lambda s: s.echo, Q(echo=True)),
    "unfinished": Check("No ending", lambda s: s.unfinished, Q(unfinished=True)),
}
DEFAULT_ACTIONS = {
    "cut_off": REJECT,
    "paragraphs": REJECT,
    "not_english": REJECT,
    "not_story": REJECT,
    "too_short": REJECT,
    "echo": REJECT,
    "unfinished": REJECT,
    "repetitive": FLAG,
    "near_duplicate": FLAG,
}


def parse_actions(text: str) -> dict[str, str]:
    """``"cut_off=reject,repetitive=flag"`` over the defaults; ValueError names a bad part."""
    actions = dict(DEFAULT_ACTIONS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, action = part.partition("=")
        name, action = name.strip(), action.strip()
        if name not in CHECKS or action not in ACTIONS:
            raise ValueError(
                f"{part!r}: expected <check>=<off|flag|reject> with a check among "
                f"{', '.join(CHECKS)}"
            )
        actions[name] = action
    return actions


@dataclass(frozen=True)
class GatePolicy:
    actions: dict
    repair: bool

    @classmethod
    def current(cls) -> "GatePolicy":
        return cls(parse_actions(settings.STORYAPP_GATES), settings.STORYAPP_GATE_REPAIR)

    def failed(self, story, action: str) -> list[str]:
        """The checks with this action that the story fails, in CHECKS order."""
        return [
            name
            for name, check in CHECKS.items()
            if self.actions.get(name) == action and check.fails(story)
        ]

    def rejections(self, story) -> list[str]:
        return self.failed(story, REJECT)

    def flags(self, story) -> list[str]:
        return self.failed(story, FLAG)

    def passes(self, story) -> bool:
        return not self.rejections(story)

    def reason(self, names: list[str]) -> str:
        return "automatic checks: " + ", ".join(CHECKS[n].label.lower() for n in names)

    def describe(self) -> str:
        groups = {
            action: [CHECKS[n].label.lower() for n, a in self.actions.items() if a == action]
            for action in (REJECT, FLAG)
        }
        parts = []
        if groups[REJECT]:
            parts.append(f"rejected automatically when {', '.join(groups[REJECT])}")
        if groups[FLAG]:
            parts.append(f"flagged when {', '.join(groups[FLAG])}")
        text = "Stories are " + "; ".join(parts) if parts else "No automatic gates"
        if self.repair:
            text += (
                "; a story that ended on its own in more than two paragraphs is re-paragraphed "
                "into two, its ending kept (the original is kept; a story cut off at the token "
                "limit is never repaired)"
            )
        return text + "."
