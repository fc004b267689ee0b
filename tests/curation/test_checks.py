import pytest

from curation.checks import repeated_ngram_ratio, split_paragraphs, story_checks

TWO = (
    "In the final days of the Solar Empire, a mad emperor ruled with an iron fist.\n\n"
    "The people rose against him, and the pyramid of skulls fell with his reign."
)


def test_a_good_two_paragraph_story_passes_every_check():
    checks = story_checks(TWO, "stop")
    assert checks == {
        "paragraph_count": 2,
        "word_count": 30,
        "cut_off": False,
        "repeated_ngram_ratio": 0.0,
        "not_english": False,
        "not_story": "",
        "too_short": False,
        "echo": False,
        "unfinished": False,
    }


@pytest.mark.parametrize(
    ("text", "count"),
    [("One paragraph only.", 1), ("A.\n\nB.\n\nC.", 3), ("A.\nB.", 2), ("", 0), ("A.\n \n\nB.", 2)],
)
def test_paragraph_count(text, count):
    assert len(split_paragraphs(text)) == count


def test_cut_off_by_length_or_missing_final_punctuation():
    assert story_checks(TWO, "length")["cut_off"] is True
    assert story_checks("And then the dragon", "stop")["cut_off"] is True
    assert story_checks('He said "goodbye."', "stop")["cut_off"] is False


def test_repeated_ngrams_flag_loops():
    loop = ("the cat sat on the mat " * 10).split()
    assert repeated_ngram_ratio(loop) > 0.8
    assert repeated_ngram_ratio("a b c d e f".split()) == 0.0


def test_non_english_text_is_flagged():
    german = (
        "Es war einmal ein kleiner Drache, der im dunklen Wald lebte und jeden Morgen "
        "nach dem glänzenden Kristall suchte, doch niemand wusste davon."
    )
    assert story_checks(german)["not_english"] is True
    assert story_checks(TWO)["not_english"] is False


def test_every_check_field_has_its_column_on_every_checked_text():
    """Each built-in check field has its column on CheckedText (stories and evaluation samples
    both); a registered check's result goes to ``checks``."""
    from curation.checks import story_checks
    from curation.models import CHECK_COLUMNS, Story
    from training.models import EvaluationSample

    assert set(story_checks("One fox.\n\nTwo foxes.", "stop")) == set(CHECK_COLUMNS)
    for model in (Story, EvaluationSample):
        assert set(CHECK_COLUMNS) <= {f.name for f in model._meta.concrete_fields}
    assert EvaluationSample.check_fields({"cut_off": True, "added": 1}) == {
        "cut_off": True,
        "checks": {"added": 1},
    }
