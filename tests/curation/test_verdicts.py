"""The gates judge stories as a careful reader would: the cases a reader failed and the app
passed, each judged with the production settings (tests/settings.py lowers the minimum
lengths for the short stories other tests write)."""

import pytest

import storyapp.settings as production
from curation.checks import repair_two, story_checks
from curation.gates import DEFAULT_ACTIONS, GatePolicy
from curation.judging import judge

# The seed's own example story (its topic: "The Last Days of the Solar Empire: ...").
SEED_TOPIC = (
    "The Last Days of the Solar Empire: A tale of a dying empire ruled by a mad emperor who "
    "uses his power to build a pyramid of skulls."
)
SEED_STORY = (
    "In the final days of the Solar Empire, a mad emperor ruled with an iron fist. His power was "
    "unmatched, and his people lived in fear of his wrath. The emperor was obsessed with the idea "
    "of building a pyramid of skulls, a monument to his own greatness. He believed that the "
    "pyramid would grant him immortality, and he spared no expense in its construction.\n\n"
    "The empire was in decline, and the people suffered under the emperor's rule. They were "
    "forced to work long hours, and their meager wages were barely enough to sustain them. The "
    "emperor cared little for their suffering, and he taxed them heavily to fund his grand "
    "project. As the pyramid rose higher and higher, the people grew more and more desperate. "
    "They knew that the emperor's madness would be their downfall, and they longed for the day "
    "when he would be overthrown. But the emperor's grip on power was too strong, and it seemed "
    "that he would never be defeated. The pyramid of skulls stood as a symbol of the empire's "
    "decay, a monument to the emperor's madness and the people's suffering."
)
FIRST = (
    "Mara kept the lighthouse on the northern rock, and every night she climbed the hundred steps "
    "to trim the wick and listen for the ships that passed beyond the reef."
)
SECOND = (
    "When the winter storm came and the lamp failed, she carried every lantern she owned up the "
    "stairs, and by dawn the fishing boats were home safe in the harbour below."
)
LAST = "The village never forgot her, and she never again feared the dark."
TOPIC = "A lighthouse keeper on a northern rock"


@pytest.fixture(autouse=True)
def production_minimums(settings):
    settings.STORYAPP_MIN_STORY_WORDS = production.STORYAPP_MIN_STORY_WORDS
    settings.STORYAPP_MIN_PARAGRAPH_WORDS = production.STORYAPP_MIN_PARAGRAPH_WORDS
    settings.STORYAPP_GATES = ""
    settings.STORYAPP_GATE_REPAIR = True


def verdict(text, finish_reason="stop", topic=TOPIC):
    return judge(text, finish_reason, GatePolicy(DEFAULT_ACTIONS, True), topic=topic)


def test_the_seeds_own_example_story_passes_as_written():
    result = verdict(SEED_STORY, topic=SEED_TOPIC)
    assert (result.passed, result.usable, result.repaired) == (True, True, False)
    assert result.rejections == []


@pytest.mark.parametrize(
    "text", ['The answer to this question is:\n\n"Awesome."', "The answer is: 'Awesome.'"]
)
def test_the_fifteen_token_answer_is_not_a_story(text):
    result = verdict(text)
    assert not result.passed and not result.usable
    assert result.checks["not_story"] == "answer"
    assert {"not_story", "too_short"} <= set(result.rejections)


@pytest.mark.parametrize(
    ("preamble", "kind"),
    [
        ("I'm excited to share my latest creation with you!", "chatter"),
        ("Sure! Here is a short story about a lighthouse keeper.", "chatter"),
        ("This opening adds a fresh perspective to an old tale.", "meta"),
    ],
)
def test_a_preamble_before_a_story_is_not_a_story(preamble, kind):
    result = verdict(f"{preamble}\n\n{FIRST}\n\n{SECOND}")
    assert result.checks["not_story"] == kind
    assert not result.usable and "not_story" in result.rejections


@pytest.mark.parametrize(
    "head", ["# The Keeper of the Light", "**The Keeper of the Light**", "The Keeper of the Light"]
)
@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_a_title_or_a_markdown_heading_is_not_a_story(head, gap):
    result = verdict(f"{head}{gap}{FIRST}\n\n{SECOND}")
    assert result.checks["not_story"] == "heading"
    assert not result.usable


def test_a_list_is_not_a_story():
    result = verdict(f"{FIRST}\n\n1. The storm.\n2. The lantern.\n3. The boats came home.")
    assert result.checks["not_story"] == "list" and not result.usable


def test_a_four_paragraph_story_that_ended_on_its_own_is_repaired_with_its_ending_kept():
    third = "The fishermen rang the harbour bell for her, once for every boat."
    text = f"{FIRST}\n\n{SECOND}\n\n{third}\n\n{LAST}"
    result = verdict(text)
    assert not result.passed  # as written: four paragraphs
    assert result.usable and result.repaired
    assert result.judged_text.count("\n\n") == 1
    assert result.judged_text.endswith(LAST)  # the ending is kept
    assert result.judged_text.split() == text.split()  # nothing dropped, nothing added
    assert result.judged_checks["paragraph_count"] == 2


def test_a_story_cut_off_at_the_token_limit_never_passes_and_is_never_repaired():
    text = f"{FIRST}\n\n{SECOND}\n\n{LAST} Then one night a stranger knocked and"
    for finish in ("length", "stop"):
        result = verdict(text, finish)
        assert not result.passed and not result.usable and not result.repaired
        assert result.judged_text == text
    # even when the limit fell right after a full stop
    complete = f"{FIRST}\n\n{SECOND}\n\n{LAST}"
    result = verdict(complete, "length")
    assert (result.usable, result.repaired, result.checks["cut_off"]) == (False, False, True)
    assert repair_two(complete, "length") is None


@pytest.mark.parametrize(
    "ending",
    [
        "and as she opened the door, she saw…",
        "and as she opened the door, she saw...",
        "and as she opened the door, she saw the.",
        "and as she opened the door she —",
    ],
)
def test_a_second_paragraph_that_stops_mid_sentence_has_no_ending(ending):
    text = f"{FIRST}\n\n{SECOND[:-1]}, {ending}"
    result = verdict(text)
    assert result.checks["unfinished"] is True
    assert not result.passed and "unfinished" in result.rejections


def test_too_short_per_story_and_per_paragraph():
    assert story_checks("A fox.\n\nIt ran home.", "stop")["too_short"] is True
    one_short = f"{FIRST} {SECOND}\n\n{LAST}"  # the second paragraph has 12 words
    assert story_checks(one_short, "stop")["too_short"] is True
    assert story_checks(f"{FIRST}\n\n{SECOND}", "stop")["too_short"] is False


def test_a_reply_that_echoes_the_prompt_or_restates_its_topic():
    assert verdict(f"{TOPIC}.\n\n{FIRST}\n\n{SECOND}").checks["echo"] is True
    leaked = f"{FIRST}\n\n{SECOND} [/INST] Invent a completely new story."
    assert verdict(leaked).checks["echo"] is True
    # a story that merely mentions its subject does not echo
    assert verdict(f"{FIRST}\n\n{SECOND}").checks["echo"] is False


def test_dialogue_and_plain_openings_are_stories():
    dialogue = (
        '"Hello," said the keeper to the gull that landed on the rail each morning, and the '
        "gull, as always, said nothing at all and only watched the sea."
    )
    for first in (dialogue, "Great storms swept the northern rock every winter, " + FIRST[5:]):
        result = verdict(f"{first}\n\n{SECOND} {LAST}")
        assert result.checks["not_story"] == "", first
        assert result.passed, result.rejections


@pytest.mark.django_db
def test_a_story_stored_with_the_brief_met_passes_as_written_and_a_preamble_is_rejected():
    from curation.services.stories import story_add_generated
    from tests.factories import TopicFactory

    topic = TopicFactory(text=TOPIC)

    def add(text, index):
        return story_add_generated(
            topic_id=topic.pk,
            theme_id=topic.theme_id,
            sample_index=index,
            text=text,
            provenance={"finish_reason": "stop", "generation_job_id": 1},
        )

    good = add(f"{FIRST}\n\n{SECOND}", 0)
    assert (good.status, good.passed_as_written) == ("pending", True)
    chatter = add(f"I'm ready to create something amazing!\n\n{FIRST}\n\n{SECOND}", 1)
    assert (chatter.status, chatter.not_story, chatter.passed_as_written) == (
        "rejected",
        "chatter",
        False,
    )
    assert "not a story" in [label.lower() for label in chatter.failed_checks]


@pytest.mark.parametrize(
    "ending",
    ["What were you looking at?", "And the years went by.", "She had waited since then."],
)
def test_a_finished_last_sentence_is_not_unfinished(ending):
    assert story_checks(f"{FIRST}\n\n{SECOND} {ending}", "stop")["unfinished"] is False
