"""Content policy for themes: which names are held as *restricted* and why.

This is the one place the keyword policy lives. Changes to it are reviewed like code: each rule
names the category it protects, and tests in tests/curation/test_restrictions.py pin both what it
must catch and the ordinary literary themes it must leave alone ("Abuse of power", "Essex",
"War").

A restricted theme is loaded but held: it cannot be approved without an explicit, recorded
override by an editor.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    category: str
    pattern: re.Pattern


def _rule(category: str, *words: str) -> Rule:
    # Whole words (with optional inflections written into each word pattern), case-insensitive.
    return Rule(category, re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE))


RULES: tuple[Rule, ...] = (
    _rule(
        "sexual content",
        r"sex",
        r"sexual(?:ity|ly)?",
        r"erotic(?:a|ism)?",
        r"porn\w*",
        r"nud(?:e|ity)",
        r"seduc\w*",
        r"lust",
        r"fetish\w*",
        r"prostitut\w*",
        r"incest\w*",
        r"rape[sd]?",
        r"molest\w*",
    ),
    _rule(
        "self-harm",
        r"suicid\w*",
        r"self[- ]?harm\w*",
        r"self[- ]?mutilation",
        r"eating disorders?",
        r"anorexi\w*",
    ),
    _rule(
        "graphic violence",
        r"tortur\w*",
        r"genocid\w*",
        r"massacres?",
        r"mutilat\w*",
        r"gore",
        r"cannibal\w*",
        r"mass shootings?",
    ),
    _rule(
        "substance abuse",
        r"drugs?",
        r"narcotics?",
        r"addict\w*",
        r"overdos\w*",
    ),
    _rule("child abuse", r"child abuse", r"pedophil\w*", r"paedophil\w*", r"grooming"),
    _rule(
        "hate or extremism",
        r"terroris\w*",
        r"extremis\w*",
        r"hate crimes?",
        r"ethnic cleansing",
        r"white supremac\w*",
    ),
)


def restriction_reason(name: str) -> str:
    """The policy categories a theme name touches, joined by ", "; empty when none do."""
    categories = [rule.category for rule in RULES if rule.pattern.search(name)]
    return ", ".join(categories)
