"""Automatic checks on a story: cheap, deterministic signals shown as badges and filters.

The brief asks for exactly two small paragraphs with a conclusion; these checks flag stories
that miss it mechanically so reviewers spend their attention on the rest.
"""

import re
from collections import Counter
from collections.abc import Callable

# A story whose share of repeated word trigrams reaches this is flagged "repetitive".
REPETITIVE_RATIO = 0.2

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_FINAL_PUNCTUATION = tuple('.!?"”’)…')
# The most frequent English function words: real English prose is full of them.
_STOPWORDS = frozenset(
    "the a an and or but of to in on at for with from by as is was were be been are it its he "
    "she they them his her their i you we my your our this that these those there then than "
    "not no so if when while who which what where how all had has have do did would could "
    "will can into out up down over after before".split()
)


def split_paragraphs(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    parts = _PARAGRAPH_BREAK.split(text)
    if len(parts) == 1 and "\n" in text:
        parts = text.split("\n")
    return [" ".join(part.split()) for part in parts if part.strip()]


def repeated_ngram_ratio(words: list[str], n: int = 3) -> float:
    """Share of word trigrams that repeat an earlier one (0: none, close to 1: a loop)."""
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    counts = Counter(grams)
    return round(1 - len(counts) / len(grams), 4)


def looks_english(words: list[str]) -> bool:
    if len(words) < 12:
        return True  # too short to judge
    share = sum(1 for word in words if word in _STOPWORDS) / len(words)
    return share >= 0.12


# Checks added beside the built-in ones: name -> f(text, finish_reason) -> a JSON value. Their
# results are stored in CheckedText.checks (no new column, no migration); a gate or a page
# reads them from there.
EXTRA_CHECKS: dict[str, Callable[[str, str], object]] = {}


def check_register(name: str, check: Callable[[str, str], object]) -> None:
    """Add a check: every story stored and every evaluation sample judged from now on carries
    its result."""
    EXTRA_CHECKS[name] = check


def story_checks(text: str, finish_reason: str = "") -> dict:
    """The check fields of a Story for ``text`` (near-duplicates are found separately): the
    built-in ones, then those of EXTRA_CHECKS."""
    words = [word.casefold() for word in _WORD.findall(text)]
    stripped = text.rstrip()
    return {
        "paragraph_count": len(split_paragraphs(text)),
        "word_count": len(words),
        "cut_off": finish_reason == "length" or not ends_a_sentence(stripped),
        "repeated_ngram_ratio": repeated_ngram_ratio(words),
        "not_english": not looks_english(words),
        **{name: check(text, finish_reason) for name, check in EXTRA_CHECKS.items()},
    }


def ends_a_sentence(paragraph: str) -> bool:
    return paragraph.rstrip().endswith(_FINAL_PUNCTUATION)


def trim_to_two(text: str) -> str | None:
    """The first two paragraphs, when the story runs past two and both of them are complete
    (each ends a sentence); None otherwise. Small models often write two good paragraphs and
    then loop: this keeps the good part."""
    paragraphs = split_paragraphs(text)
    if len(paragraphs) > 2 and all(ends_a_sentence(p) for p in paragraphs[:2]):
        return "\n\n".join(paragraphs[:2])
    return None
