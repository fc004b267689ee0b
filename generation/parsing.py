"""Turning a teacher's reply into story topics, and cleaning any model text before storage.

Model output is untrusted: these functions never interpret it, they only cut it into items.
"""

import re
import unicodedata
from dataclasses import dataclass, field

TOPIC_MAX_LENGTH = 500
TOPIC_MIN_WORDS = 3

# A list item: "1." "1)" "(1)" "1 -" "#1" "**1.**" "Topic 1:" "- " "* " "• " "– ".
_ITEM = re.compile(
    r"""^\s*(?:[*_]{1,2})?(?:
          \(?\#?\d{1,2}\s*[.):\]]\s*(?:[*_]{1,2})?\s*
        | \#?\d{1,2}\s+[-–—]\s+
        | (?:topic|idea|story|summary|option)\s*\#?\d{1,2}\s*[:.)\-–—]\s*(?:[*_]{1,2})?\s*
        | [-*•–—]\s+
    )(?P<body>.*\S)""",
    re.IGNORECASE | re.VERBOSE,
)
_QUOTES = "\"'“”‘’«»"
_PREAMBLE = re.compile(
    r"^(sure|certainly|of course|absolutely|okay|ok|here are|here is|here's|below are)\b", re.I
)
_CLOSING = re.compile(
    r"^(i hope|hope (these|this)|let me know|feel free|these (topics|ideas|stories)|enjoy"
    r"|happy writing)\b",
    re.I,
)
_TITLE_MAX_WORDS = 8


@dataclass
class TopicParse:
    topics: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Drop control characters (NUL breaks PostgreSQL) except newlines and tabs; normalise
    line endings. Nothing else is changed: escaping happens when the text is shown."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cs", "Co"}
    )


def _strip_decoration(text: str) -> str:
    text = text.strip()
    # Markdown emphasis around the whole item or its head.
    text = re.sub(r"^(\*\*|__)(.+?)\1", r"\2", text)
    text = text.strip(" *_")
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES + ".":
        inner = text[1:-1] if text[-1] in _QUOTES else text[1:-2]
        if not any(q in inner for q in '"“”'):
            text = inner
    return text.strip()


def _drop_title(text: str) -> str:
    """'The Last Days: A tale of a dying empire' -> 'A tale of a dying empire'."""
    head, sep, tail = text.partition(":")
    if not sep:
        return text
    head_words = head.strip(" *_\"'“”").split()
    tail = tail.strip()
    # A title is followed by a capitalised summary; "Time: it runs out" is one sentence.
    starts_summary = tail[:1].isupper() or tail[:1] in _QUOTES + "*_"
    if (
        0 < len(head_words) <= _TITLE_MAX_WORDS
        and starts_summary
        and len(tail.split()) >= TOPIC_MIN_WORDS
    ):
        return _strip_decoration(tail)
    return text


def _normalise(item: str) -> str:
    item = " ".join(item.split())
    item = _strip_decoration(item)
    item = _drop_title(item)
    return _strip_decoration(item)


def parse_topics(
    reply: str, *, finish_reason: str = "stop", limit: int | None = None
) -> TopicParse:
    """Topics found in ``reply``, in order, without case-insensitive duplicates.

    A reply cut off by ``finish_reason == "length"`` loses its last item (it may be cut short).
    A reply with no list at all yields its topic-like lines (neither preamble nor closing).
    """
    result = TopicParse()
    lines = clean_text(reply).split("\n")
    items: list[str] = []
    in_list = False
    previous_blank = False
    for line in lines:
        match = _ITEM.match(line)
        if match:
            items.append(match.group("body"))
            in_list = True
            previous_blank = False
        elif not line.strip():
            previous_blank = True
        elif in_list and not previous_blank and line[:1].isspace():
            items[-1] += " " + line.strip()
        else:
            previous_blank = False
    if not items:
        items = [
            line
            for line in (line.strip() for line in lines)
            if line
            and not line.endswith(":")
            and not _PREAMBLE.match(line)
            and not _CLOSING.match(line)
        ]
    if finish_reason == "length" and items:
        result.dropped.append((items.pop().strip(), "cut off by the token limit"))

    seen: set[str] = set()
    for raw in items:
        topic = _normalise(raw)
        if not topic:
            continue
        key = topic.casefold()
        if _CLOSING.match(topic) or _PREAMBLE.match(topic) and topic.endswith(":"):
            result.dropped.append((topic, "not a topic"))
        elif len(topic.split()) < TOPIC_MIN_WORDS:
            result.dropped.append((topic, f"fewer than {TOPIC_MIN_WORDS} words"))
        elif len(topic) > TOPIC_MAX_LENGTH:
            result.dropped.append((topic, f"longer than {TOPIC_MAX_LENGTH} characters"))
        elif key in seen:
            result.dropped.append((topic, "duplicate in this reply"))
        else:
            seen.add(key)
            result.topics.append(topic)
    if limit is not None and len(result.topics) > limit:
        for extra in result.topics[limit:]:
            result.dropped.append((extra, "more topics than asked"))
        del result.topics[limit:]
    return result
