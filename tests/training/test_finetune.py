import json
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError

from curation.exports.layout import export_folder
from generation.models import ModelProfile
from training import trainer
from training.models import FineTuneJob
from training.services.finetune import finetune_cancel, finetune_create
from training.services.paths import models_root
from training.services.runs import finetune_run


@pytest.mark.django_db
def test_the_loss_is_on_the_story_tokens_only(release, tiny_student, tmp_path):
    records = trainer.release_records(export_folder(release), "train", release.format)
    settings_ = trainer.Settings(base_folder=tiny_student.model, batch_size=2, max_length=256)
    built = trainer.build_trainer(settings_, records[:2], [], tmp_path / "out")
    batch = next(iter(built.get_train_dataloader()))
    tokenizer = built.processing_class
    for row, record in enumerate(records[:2]):
        labels = batch["labels"][row].tolist()
        ids = batch["input_ids"][row].tolist()
        prompt = tokenizer.apply_chat_template(
            record["prompt"], tokenize=True, add_generation_prompt=True
        )
        prompt = prompt["input_ids"] if hasattr(prompt, "keys") else prompt
        learned = [i for i, label in enumerate(labels) if label != -100]
        # nothing of the prompt is learned; every story token after it is, up to its end
        assert ids[: len(prompt)] == prompt
        assert learned == list(range(len(prompt), len(prompt) + len(learned)))
        assert [labels[i] for i in learned] == [ids[i] for i in learned]
        assert tokenizer.convert_tokens_to_ids("<|im_end|>") in [ids[i] for i in learned]
        assert len(learned) > 10


@pytest.mark.django_db
def test_a_fine_tune_trains_saves_and_registers_the_student_with_its_lineage(release, tiny_student):
    job = finetune_create(
        release=release,
        base=tiny_student,
        name="tiny-tuned",
        epochs=2,
        batch_size=4,
        learning_rate=1e-3,
        max_length=128,
        enqueue=False,
    )
    assert job.method == "full"  # a tiny model: full fine-tune by default
    job = finetune_run(job_id=job.pk)
    assert job.status == "done", job.error
    tuned = ModelProfile.objects.get(name="tiny-tuned")
    assert job.output_model == tuned
    assert (tuned.role, tuned.base_model, tuned.release) == ("student", tiny_student, release)
    folder = models_root() / "tiny-tuned"
    assert tuned.model == str(folder) and (folder / "config.json").exists()
    assert [p.name for p in models_root().iterdir()] == ["tiny-tuned"]  # no temp left
    assert job.step == job.total_steps > 0 and len(job.losses) == job.step
    assert job.tuned_val_loss < job.base_val_loss  # it learned the release's stories
    assert job.tokens_seen > 0 and job.device == "cpu"
    # a second delivery of the task changes nothing
    assert finetune_run(job_id=job.pk) is None


@pytest.mark.django_db
def test_a_lora_fine_tune_is_merged_into_a_plain_model_folder(release, tiny_student):
    job = finetune_create(
        release=release,
        base=tiny_student,
        name="tiny-lora",
        method="lora",
        lora_rank=4,
        lora_alpha=8,
        epochs=1,
        max_length=128,
        enqueue=False,
    )
    job = finetune_run(job_id=job.pk)
    assert job.status == "done", job.error
    folder = models_root() / "tiny-lora"
    assert (folder / "config.json").exists() and not (folder / "adapter_config.json").exists()
    from generation.backends import GenerationRequest, TransformersBackend

    [result] = TransformersBackend(folder=str(folder)).generate(
        [GenerationRequest(messages=[{"role": "user", "content": "dragon"}], max_new_tokens=4)]
    )
    assert result.ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": "tiny-student"}, "name_taken"),
        ({"name": "bad name"}, "name"),
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": 1.0}, "learning_rate"),
        ({"method": "dreambooth"}, "method"),
    ],
)
def test_bad_fine_tunes_are_refused_with_codes(release, tiny_student, changes, code):
    with pytest.raises(ValidationError) as excinfo:
        finetune_create(
            release=release, base=tiny_student, enqueue=False, **{"name": "ok", **changes}
        )
    assert code in [e.code for e in excinfo.value.error_list]
    assert not FineTuneJob.objects.exists()


@pytest.mark.django_db
def test_a_text_release_or_a_server_model_cannot_be_trained(var_dir, tiny_student):
    from curation.models import DatasetExport
    from tests.factories import ModelProfileFactory

    text = DatasetExport.objects.create(name="plain", format="text", status="done")
    server = ModelProfileFactory(name="remote", backend="openai", base_url="http://127.0.0.1/v1")
    with pytest.raises(ValidationError) as excinfo:
        finetune_create(release=text, base=server, name="x", enqueue=False)
    assert {e.code for e in excinfo.value.error_list} == {"release_format", "base_not_local"}


@pytest.mark.django_db
def test_cancel_stops_the_training_and_registers_nothing(release, tiny_student, monkeypatch):
    job = finetune_create(
        release=release,
        base=tiny_student,
        name="stopped",
        epochs=5,
        max_length=64,
        enqueue=False,
    )
    real = trainer.build_trainer

    def cancel_at_the_second_step(*args, should_stop, **kwargs):
        steps = {"n": 0}

        def stop():
            steps["n"] += 1
            if steps["n"] == 2:
                finetune_cancel(job=job)  # as if someone pressed Cancel now
            return should_stop()

        return real(*args, should_stop=stop, **kwargs)

    monkeypatch.setattr(trainer, "build_trainer", cancel_at_the_second_step)
    job = finetune_run(job_id=job.pk)
    assert job.status == "cancelled" and job.output_model is None
    assert not ModelProfile.objects.filter(name="stopped").exists()
    assert list(models_root().iterdir()) == []


@pytest.mark.django_db
def test_the_command_prints_the_outcome_and_exit_codes(release, tiny_student, capsys):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command(
        "finetune",
        "--release",
        release.name,
        "--base",
        "tiny-student",
        "--name",
        "cli-tuned",
        "--epochs",
        "1",
        "--max-length",
        "64",
        "--inline",
        stdout=out,
    )
    outcome = json.loads(out.getvalue().split("\n", 1)[1])
    assert outcome["status"] == "done" and outcome["model"] == "cli-tuned"
    # the trainer's step logs stay off stdout: a script reads the outcome there
    assert "'loss'" not in capsys.readouterr().out
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "finetune", "--release", "nope", "--base", "tiny-student", "--name", "x", stdout=out
        )
    assert excinfo.value.returncode == 2


@pytest.mark.django_db
def test_the_page_says_what_a_run_does_while_its_steps_stand_still(
    release, tiny_student, monkeypatch, admin_client
):
    phases: list[str] = []

    @dataclass
    class Recording(trainer.Progress):
        def __setattr__(self, name, value):
            if name == "phase" and value:
                phases.append(value)
            super().__setattr__(name, value)

    monkeypatch.setattr(trainer, "Progress", Recording)
    job = finetune_create(
        release=release, base=tiny_student, name="phased", max_length=64, enqueue=False
    )
    assert finetune_run(job_id=job.pk).status == "done"
    assert phases == [
        "loading the model",
        "measuring the base model on validation",
        "training",
        "measuring the tuned model on validation",
        "saving the model",
    ]
    # while it runs at step 0, the page names the phase
    FineTuneJob.objects.filter(pk=job.pk).update(
        status="running", step=0, phase="measuring the base model on validation"
    )
    body = admin_client.get(job.get_absolute_url()).content.decode()
    assert 'id="finetune-phase">Measuring the base model on validation…' in body
