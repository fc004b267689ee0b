import pytest

from curation.exports.runner import export_run
from curation.exports.services import export_create
from generation.models import ModelProfile
from generation.prompts import default_messages
from tests.factories import ModelProfileFactory, StoryFactory, TopicFactory

# The generation fixtures (a tiny random model, a scripted backend, a teacher) serve here too.
from tests.generation.conftest import scripted, teacher, tiny_model_folder  # noqa: F401, F811

STORY = "{topic} lived by the sea.\n\nIn the end {topic} found the way home."


@pytest.fixture
def release(var_dir):
    """A finished chat release of 12 approved stories (3 of them in validation)."""
    for n in range(12):
        topic = TopicFactory(text=f"A dragon number {n}", status="approved")
        StoryFactory(
            topic=topic,
            status="approved",
            text=STORY.format(topic=f"Dragon {n}"),
            # The user part only: the tiny tokenizer spends a token per letter or two, and the
            # tiny model reads at most 512 tokens.
            prompt_messages=default_messages("story", {"topic": topic.text})[1:],
        )
    export = export_create(name="for-training", enqueue=False, val_fraction=0.25, seed=3)
    return export_run(export_id=export.pk)


@pytest.fixture
def tiny_student(db, tiny_model_folder):  # noqa: F811
    return ModelProfileFactory(
        name="tiny-student",
        role=ModelProfile.Role.STUDENT,
        model=str(tiny_model_folder),
        max_new_tokens=8,
        batch_size=4,
    )


@pytest.fixture
def models(db, monkeypatch):
    """Two students, "weak" and "good", whose backend (test_evaluation.PerModel) writes
    cut-off and good stories."""
    from tests.training.test_evaluation import PerModel

    weak = ModelProfileFactory(name="weak", role="student")
    good = ModelProfileFactory(name="good", role="student")
    monkeypatch.setattr("training.services.runs.backend_for", PerModel)
    return weak, good
