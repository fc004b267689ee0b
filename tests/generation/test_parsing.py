import pytest

from generation.parsing import clean_text, parse_topics

A = "An ugly dragon seeking the crystal of the forest"
B = "A fairy with a desire to feast on plants"
C = "A samurai who fell in love with a fish"

SHAPES = [
    ("numbered with dots", f"1. {A}.\n2. {B}.\n3. {C}.", [f"{A}.", f"{B}.", f"{C}."]),
    ("numbered with parens", f"1) {A}\n2) {B}\n3) {C}", [A, B, C]),
    ("parenthesised numbers", f"(1) {A}\n(2) {B}", [A, B]),
    ("dash bullets", f"- {A}\n- {B}\n- {C}", [A, B, C]),
    ("star bullets", f"* {A}\n* {B}", [A, B]),
    ("unicode bullets", f"• {A}\n• {B}", [A, B]),
    ("number and dash", f"1 - {A}\n2 - {B}", [A, B]),
    ("hash numbers", f"#1. {A}\n#2. {B}", [A, B]),
    ("bold numbers", f"**1.** {A}\n**2.** {B}", [A, B]),
    ("topic n: prefix", f"Topic 1: {A}\nTopic 2: {B}", [A, B]),
    ("idea n. prefix", f"Idea 1. {A}\nIdea 2. {B}", [A, B]),
    ("double quoted items", f'1. "{A}"\n2. "{B}"', [A, B]),
    ("curly quoted items", f"1. “{A}”\n2. “{B}”", [A, B]),
    ("quoted with trailing period", f'1. "{A}".', [A]),
    (
        "title before colon",
        "1. The Last Days of the Solar Empire: A tale of a dying empire ruled by a mad emperor.",
        ["A tale of a dying empire ruled by a mad emperor."],
    ),
    ("bold title before colon", f"1. **The Dragon**: {A}", [A]),
    (
        "preamble and closing",
        f"Sure! Here are 7 story topics about love:\n\n1. {A}\n2. {B}\n\nI hope these inspire you!",
        [A, B],
    ),
    ("indented list", f"   1. {A}\n   2. {B}", [A, B]),
    ("blank lines between items", f"1. {A}\n\n2. {B}\n\n3. {C}", [A, B, C]),
    (
        "wrapped continuation line",
        f"1. {A}\n   who lives alone\n2. {B}",
        [f"{A} who lives alone", B],
    ),
    ("windows line endings", f"1. {A}\r\n2. {B}\r\n", [A, B]),
    ("case-insensitive duplicates", f"1. {A}\n2. {A.upper()}\n3. {B}", [A, B]),
    ("no list: one topic per line", f"{A}\n{B}\n{C}", [A, B, C]),
    (
        "no list: preamble and closing lines skipped",
        f"Here are some ideas:\n{A}\n{B}\nHope these help!",
        [A, B],
    ),
    ("no list: empty reply", "", []),
    ("no list: whitespace only", "  \n\t\n", []),
    ("too short items dropped", f"1. Dragons\n2. {B}", [B]),
    ("control characters removed", f"1. {A}\x00\n2. {B}\x07", [A, B]),
    (
        "markup kept as text",
        "1. A <script>alert(1)</script> in the castle",
        ["A <script>alert(1)</script> in the castle"],
    ),
    ("colon that is not a title", "1. Time: it runs out", ["Time: it runs out"]),
    (
        "nested numbering 10+",
        "\n".join(f"{n}. {A} number {n}" for n in range(1, 12)),
        [f"{A} number {n}" for n in range(1, 12)],
    ),
]


@pytest.mark.parametrize(("shape", "reply", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_reply_shapes(shape, reply, expected):
    assert parse_topics(reply).topics == expected


def test_at_least_25_shapes_are_covered():
    assert len(SHAPES) >= 25


def test_finish_reason_length_drops_the_last_item_as_cut_off():
    parsed = parse_topics(f"1. {A}\n2. {B}\n3. A knight who", finish_reason="length")
    assert parsed.topics == [A, B]
    assert parsed.dropped == [("A knight who", "cut off by the token limit")]


def test_finish_reason_length_with_no_list_drops_the_partial_line():
    parsed = parse_topics(f"{A}\n{B} and then", finish_reason="length")
    assert parsed.topics == [A]


def test_limit_keeps_the_first_n_and_reports_the_rest():
    parsed = parse_topics(f"1. {A}\n2. {B}\n3. {C}", limit=2)
    assert parsed.topics == [A, B]
    assert parsed.dropped == [(C, "more topics than asked")]


def test_overlong_items_are_dropped_not_truncated():
    long_item = "word " * 120
    parsed = parse_topics(f"1. {long_item}\n2. {A}")
    assert parsed.topics == [A]
    assert parsed.dropped[0][1] == "longer than 500 characters"


def test_clean_text_keeps_newlines_and_tabs():
    assert clean_text("a\r\nb\tc\x00\x1bd") == "a\nb\tcd"
