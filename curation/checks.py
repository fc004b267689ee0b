"""Automatic checks on a story: cheap, deterministic signals shown as badges and filters.

The brief asks for exactly two small paragraphs with a conclusion; these checks flag stories
that miss it mechanically so reviewers spend their attention on the rest.
"""

import re
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from rapidfuzz import fuzz

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


def story_checks(text: str, finish_reason: str = "", topic: str = "") -> dict:
    """The check fields of a Story for ``text`` (near-duplicates are found separately): the
    built-in ones, then those of EXTRA_CHECKS. ``topic``: the topic it was written for (for
    the echo check)."""
    words = [word.casefold() for word in _WORD.findall(text)]
    stripped = text.rstrip()
    paragraphs = split_paragraphs(text)
    return {
        "paragraph_count": len(paragraphs),
        "word_count": len(words),
        "cut_off": finish_reason == "length" or not ends_a_sentence(stripped),
        "repeated_ngram_ratio": repeated_ngram_ratio(words),
        "not_english": not looks_english(words),
        "not_story": not_a_story(text, paragraphs),
        "too_short": too_short(paragraphs, len(words)),
        "echo": echoes(text, paragraphs, topic),
        "unfinished": unfinished(stripped),
        **{name: check(text, finish_reason) for name, check in EXTRA_CHECKS.items()},
    }


def ends_a_sentence(paragraph: str) -> bool:
    return paragraph.rstrip().endswith(_FINAL_PUNCTUATION)


# What a reply that is not a story looks like. Each pattern is matched case-insensitively; the
# first that matches names the kind (shown on the story's badge).
_OPENERS = re.compile(
    r"^(?:(?:sure|certainly|of course|absolutely|okay|ok|great|hello|hi)[,.!]|"
    r"here(?:'s|’s| is| are) (?:a|an|the|your|my|some)\b|"
    r"i(?:'m|’m| am) (?:ready|excited|happy|glad|thrilled|delighted)\b|"
    r"i(?:'d|’d| would) (?:be happy|love)\b|as an ai\b|let me\b|i can(?:not|'t|’t)\b)",
    re.IGNORECASE,
)
_META = re.compile(
    r"\b(?:this (?:story|opening|paragraph|tale|version|response|narrative|ending|piece) "
    r"(?:adds|captures|explores|is about|highlights|shows|offers|conveys|sets|introduces)|"
    r"i hope you (?:enjoy|like|liked|enjoyed)|let me know|feel free to|my latest creation|"
    r"in this story,|(?:here is|here's|here’s) (?:a|the|your|my) (?:new |short )?(?:story|tale)|"
    r"as an ai|word count|two paragraphs|paragraph (?:1|2|one|two)\s*:)",
    re.IGNORECASE,
)
_ANSWER = re.compile(r"\bthe answer (?:to (?:this|the|your) question )?is\b", re.IGNORECASE)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*\s*$|(?:title|story)\s*:)", re.I | re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+\S", re.MULTILINE)


def not_a_story(text: str, paragraphs: list[str]) -> str:
    """What the reply is instead of a story ("" when it reads as one): "answer", "chatter"
    (an assistant's opener or sign-off), "meta" (commentary on the story or the brief),
    "heading" (a markdown heading or a title line), "list"."""
    if _ANSWER.search(text):
        return "answer"
    if _HEADING.search(text):
        return "heading"
    if len(_LIST_ITEM.findall(text)) >= 2:
        return "list"
    if paragraphs and _OPENERS.search(paragraphs[0]):
        return "chatter"
    if _META.search(text):
        return "meta"
    first_line, _, rest = text.strip().partition("\n")
    if rest.strip() and len(first_line.split()) <= 10 and not ends_a_sentence(first_line):
        return "heading"  # a title line before the story
    return ""


def too_short(paragraphs: list[str], words: int) -> bool:
    """Fewer words than STORYAPP_MIN_STORY_WORDS, or a paragraph of fewer than
    STORYAPP_MIN_PARAGRAPH_WORDS."""
    if words < settings.STORYAPP_MIN_STORY_WORDS:
        return True
    shortest = min((len(_WORD.findall(p)) for p in paragraphs), default=0)
    return shortest < settings.STORYAPP_MIN_PARAGRAPH_WORDS


_PROMPT_MARKERS = re.compile(
    r"\[/?INST\]|<<\s*/?(?:SYS|User)\s*>>|invent a completely new story|"
    r"you are a chatbot|clear conclusion and well-defined characters",
    re.IGNORECASE,
)
# A story's opening sentence this similar to its topic (rapidfuzz ratio, 0-100) repeats it.
TOPIC_ECHO_RATIO = 90


def echoes(text: str, paragraphs: list[str], topic: str) -> bool:
    """The reply repeats the prompt (its instructions or markers) or opens with its topic
    restated as a line or a sentence of its own."""
    if _PROMPT_MARKERS.search(text):
        return True
    topic = " ".join(topic.split()).casefold().strip(" .\"'“”")
    if not topic or not paragraphs:
        return False
    first_line = text.strip().split("\n", 1)[0]
    first_sentence = re.split(r"(?<=[.!?])\s", paragraphs[0], maxsplit=1)[0]
    return any(
        fuzz.ratio(topic, part.casefold().strip(" .\"'“”")) >= TOPIC_ECHO_RATIO
        for part in (first_line, first_sentence, paragraphs[-1])
    )


# Words a finished statement does not end on (articles, conjunctions, possessives and a few
# prepositions that always want an object; not "by", "then" or "while": "time went by.").
_DANGLING = frozenset(
    "the a an and or but of his her their its my your our from into because".split()
)
_TRAILING_OFF = ("...", "…", "—", "–", "-")


def unfinished(text: str) -> bool:
    """The last sentence trails off (an ellipsis or a dash) or is a statement ending on a word
    no finished sentence ends on ("...and then she opened the."): the story has no conclusion
    even when it ends with punctuation. (No punctuation at all is ``cut_off``.)"""
    end = text.rstrip().rstrip("\"'”’)")
    if not end:
        return True
    if end.endswith(_TRAILING_OFF):
        return True
    if not end.endswith("."):
        return False  # a question or an exclamation may end on any word
    words = _WORD.findall(end[-60:])
    return bool(words) and words[-1].casefold() in _DANGLING


def repair_two(text: str, finish_reason: str) -> str | None:
    """A story that ended on its own in more than two paragraphs, re-paragraphed into two with
    nothing dropped (its ending kept): the paragraphs are joined at the break that best
    balances the two halves. None when it cannot be repaired this way: it stopped at the token
    limit (it has no ending to keep), its end is unfinished, it is two paragraphs or fewer, or
    it is longer than STORYAPP_REPAIR_MAX_WORDS (two paragraphs of that size are not small)."""
    paragraphs = split_paragraphs(text)
    if finish_reason == "length" or len(paragraphs) <= 2:
        return None
    if not ends_a_sentence(paragraphs[-1]) or unfinished(paragraphs[-1]):
        return None
    sizes = [len(_WORD.findall(p)) for p in paragraphs]
    if sum(sizes) > settings.STORYAPP_REPAIR_MAX_WORDS:
        return None
    total = sum(sizes)
    split = min(range(1, len(paragraphs)), key=lambda k: abs(2 * sum(sizes[:k]) - total))
    return " ".join(paragraphs[:split]) + "\n\n" + " ".join(paragraphs[split:])
