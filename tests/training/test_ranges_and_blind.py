"""Seeds and counts in one range, failed samples counted, blind judging kept blind, a max length
too short for any story refused, and each fine-tune's temp folders its own."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError
from django.urls import reverse

from storyapp.params import SEED_MAX
from tests.factories import TopicFactory
from training.models import Evaluation, EvaluationSample
from training.selectors import evaluation_results
from training.services.evaluation import evaluation_create
from training.services.finetune import finetune_create
from training.services.paths import models_root
from training.services.runs import evaluation_run, remove_leftovers


def _evaluate(*args):
    out = io.StringIO()
    call_command("evaluate", "--models", "weak,good", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, says",
    [
        (["--seed", str(2**63 - 1)], "The seed is a whole number from 0 to 2,147,483,647."),
        (["--seed", "-5"], "The seed is a whole number from 0 to 2,147,483,647."),
        (["--n-topics", "-1"], "The number of topics is 1 to"),
        (["--n-topics", "0"], "The number of topics is 1 to"),
    ],
)
def test_evaluate_refuses_seeds_and_counts_out_of_range(models, args, says):
    TopicFactory(status="approved")
    with pytest.raises(CommandError) as excinfo:
        _evaluate(*args)
    assert excinfo.value.returncode == 2 and says in str(excinfo.value)
    assert not Evaluation.objects.exists()


@pytest.mark.django_db
def test_the_help_texts_state_the_range():
    from training.forms import FineTuneForm

    assert "2,147,483,647" in str(FineTuneForm().fields["seed"].help_text)
    parser = (
        __import__("training.management.commands.evaluate", fromlist=["Command"])
        .Command()
        .create_parser("manage.py", "evaluate")
    )
    assert "2,147,483,647" in parser.format_help()


@pytest.mark.django_db
def test_the_top_seed_writes_every_sample_with_seeds_in_range(models):
    weak, good = models
    topics = [TopicFactory(status="approved") for _ in range(4)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], seed=SEED_MAX, enqueue=False
    )
    evaluation = evaluation_run(evaluation_id=evaluation.pk)
    assert evaluation.status == "done"
    seeds = sorted(set(EvaluationSample.objects.values_list("seed", flat=True)))
    assert seeds == [0, 1, 2, SEED_MAX]  # it wraps within the range, never overflows
    assert {r["n"] for r in evaluation.results.values()} == {4}
    assert {r["missing"] for r in evaluation.results.values()} == {0}


@pytest.mark.django_db
def test_a_sample_that_cannot_be_stored_is_recorded_with_its_reason_and_counted(
    models, monkeypatch, admin_client
):
    weak, good = models
    topics = [TopicFactory(status="approved") for _ in range(3)]
    create = EvaluationSample.objects.create
    refused = []

    def flaky(**fields):
        if fields.get("text") and fields["model"] == good and not refused:
            refused.append(fields["topic_id"])
            raise DataError("value out of range for type integer")
        return create(**fields)

    monkeypatch.setattr(EvaluationSample.objects, "create", flaky)
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation = evaluation_run(evaluation_id=evaluation.pk)
    failed = EvaluationSample.objects.get(model=good, topic_id=refused[0])
    assert failed.error.startswith("could not store the sample: DataError: value out of range")
    assert (evaluation.results["good"]["n"], evaluation.results["good"]["errors"]) == (2, 1)
    page = admin_client.get(reverse("training:evaluation_detail", args=[evaluation.pk]))
    assert "1 failed, 0 missing" in page.content.decode()


@pytest.mark.django_db
def test_the_results_count_models_and_topics_with_no_sample(models):
    weak, good = models
    topics = [TopicFactory(status="approved") for _ in range(3)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    EvaluationSample.objects.create(
        evaluation=evaluation, model=weak, topic_id=topics[0].pk, seed=1, text="x"
    )
    results = evaluation_results(evaluation)
    assert (results["weak"]["n"], results["weak"]["missing"]) == (1, 2)
    assert (results["good"]["n"], results["good"]["missing"]) == (0, 3)


@pytest.mark.django_db
def test_a_reviewer_gets_403_on_every_results_page(models, reviewer_client, editor_client):
    evaluation = evaluation_create(
        profiles=list(models), topic_ids=[TopicFactory(status="approved").pk], enqueue=False
    )
    pages = [
        reverse("training:compare_results"),
        reverse("training:evaluation_list"),
        reverse("training:evaluation_detail", args=[evaluation.pk]),
        reverse("training:model_lineage", args=["good"]),
    ]
    for url in pages:
        assert reviewer_client.get(url).status_code == 403, url
        assert editor_client.get(url).status_code == 200, url
    # the reviewer still judges, and the judging page links to no result
    page = reviewer_client.get(reverse("training:compare")).content.decode()
    assert reverse("training:compare_results") not in page
    assert reverse("training:evaluation_list") not in page


@pytest.mark.django_db
def test_a_max_length_too_short_for_any_story_is_refused_with_the_length_that_fits(
    release, tiny_student
):
    with pytest.raises(ValidationError) as excinfo:
        finetune_create(
            release=release, base=tiny_student, name="short", max_length=16, enqueue=False
        )
    error = excinfo.value.error_list[0]
    assert error.code == "max_length_too_short"
    shortest = int(error.message.split("takes ")[1].split()[0])
    assert shortest >= 16 and f"Use at least {shortest + 1}" in error.message
    # the length it names is accepted
    job = finetune_create(
        release=release, base=tiny_student, name="fits", max_length=shortest + 1, enqueue=False
    )
    assert job.max_length == shortest + 1


@pytest.mark.django_db
def test_starting_student_keeps_the_temp_folders_of_student_r2(var_dir):
    root = models_root()
    token = "0123456789abcdef0123456789abcdef"
    mine = [root / f".student-{token}", root / f".student-{token}-checkpoints"]
    theirs = [
        root / f".student-r2-{token}",
        root / f".student-r2-{token}-checkpoints",
        root / ".student-notes",
    ]
    for folder in mine + theirs:
        folder.mkdir(parents=True)
    remove_leftovers(type("Job", (), {"name": "student"})())
    assert [f.exists() for f in mine] == [False, False]
    assert [f.exists() for f in theirs] == [True, True, True]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, outside",
    [
        ("epochs", 0),
        ("epochs", 20.5),
        ("learning_rate", 0.02),
        ("max_length", 8193),
        ("batch_size", 0),
        ("lora_rank", 513),
        ("lora_alpha", 0),
        ("lora_dropout", 1.0),
    ],
)
def test_the_form_and_the_service_refuse_the_same_values_with_the_same_words(
    release, tiny_student, name, outside
):
    """Each range is written once (training.services.finetune.LIMITS); the form reads it."""
    from training.forms import FineTuneForm
    from training.services.finetune import LIMITS

    form = FineTuneForm(
        data={"release": release.name, "base": tiny_student.name, "name": "x", name: outside}
    )
    assert not form.is_valid()
    assert form.errors[name] == [LIMITS[name].message]
    with pytest.raises(ValidationError) as excinfo:
        finetune_create(
            release=release, base=tiny_student, name="x", enqueue=False, **{name: outside}
        )
    assert [e.message for e in excinfo.value.error_list if e.code == name] == [LIMITS[name].message]
