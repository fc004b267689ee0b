"""A new export format is one object registered through curation's public surface: a test
adds one here and exports and fine-tunes on it without touching any other module."""

import json

import pytest

from curation.releases import (
    FORMATS,
    ExportFormat,
    export_create,
    export_folder,
    export_run,
    format_register,
    release_records,
)
from tests.factories import StoryFactory, TopicFactory
from tests.training.conftest import STORY
from training.services.finetune import finetune_create
from training.services.runs import finetune_run


def _qa_line(messages_json: str, prompt: str, story: str) -> str:
    messages = json.loads(messages_json) if messages_json else []
    question = next((m["content"] for m in messages if m.get("role") == "user"), prompt)
    return json.dumps({"question": question, "answer": story}, ensure_ascii=False)


@pytest.fixture
def qa_format():
    fmt = format_register(
        ExportFormat(
            "qa",
            shape='`{"question": "<user prompt>", "answer": "<story>"}`',
            columns=lambda pa, message: [("question", pa.string()), ("answer", pa.string())],
            story_of=lambda record: record["answer"],
            split=lambda record: (
                [{"role": "user", "content": record["question"]}],
                [{"role": "assistant", "content": record["answer"]}],
            ),
            line=_qa_line,
        )
    )
    yield fmt
    FORMATS.pop("qa")


@pytest.mark.django_db
def test_a_toy_format_exports_and_a_tiny_model_fine_tunes_on_it(qa_format, var_dir, tiny_student):
    for n in range(8):
        topic = TopicFactory(text=f"A dragon number {n}", status="approved")
        StoryFactory(
            topic=topic,
            status="approved",
            text=STORY.format(topic=f"Dragon {n}"),
            prompt_messages=[{"role": "user", "content": f"Tell of dragon {n}."}],
        )
    release = export_run(
        export_id=export_create(name="qa-release", fmt="qa", enqueue=False, seed=3).pk
    )
    assert release.status == "done", release.error
    folder = export_folder(release)
    first = json.loads((folder / "train.jsonl").read_text().splitlines()[0])
    assert set(first) == {"question", "answer"} and first["question"].startswith("Tell of")
    assert (
        '{"question": "<user prompt>", "answer": "<story>"}' in (folder / "README.md").read_text()
    )
    records = release_records(folder, "train", "qa")
    assert records[0]["completion"][0]["content"] == first["answer"]
    from datasets import load_dataset

    parquet = load_dataset("parquet", data_files=str(folder / "train.parquet"))["train"]
    assert parquet.column_names == ["id", "question", "answer", "metadata"]

    job = finetune_create(
        release=release,
        base=tiny_student,
        name="qa-tuned",
        epochs=1,
        max_length=128,
        enqueue=False,
    )
    job = finetune_run(job_id=job.pk)
    assert job.status == "done", job.error
    assert job.step == job.total_steps > 0 and job.output_model.name == "qa-tuned"
