"""A real worker killed mid-training: the fine-tune is taken back and finished by another
worker (or failed with the reason), never left running, and no half-written model folder is
ever registered."""

import pytest

from tests.workers import Site

SETUP = """
from curation.exports.runner import export_run
from curation.exports.services import export_create
from curation.models import Story, Theme, Topic
from generation.prompts import default_messages
from generation.services.registry import model_register
from training.services.finetune import finetune_create
theme = Theme.objects.create(name="Crash", name_key="crash", status="approved")
for n in range({stories}):
    text = f"A dragon number {{n}}"
    topic = Topic.objects.create(theme=theme, text=text, text_key=text.lower(), status="approved")
    Story.objects.create(
        topic=topic, status="approved", generation_job_id=n,
        text=f"Dragon {{n}} lived by the sea.\\n\\nIn the end it found the way home.",
        prompt_messages=default_messages("story", {{"topic": text}})[1:],
    )
export = export_create(name="rel", enqueue=False, val_fraction=0.25, seed=3)
export = export_run(export_id=export.pk)
base, _ = model_register(name="tiny", role="student", backend="transformers",
    model="{folder}", max_new_tokens=8)
job = finetune_create(release=export, base=base, name="tiny-tuned", epochs={epochs},
    max_length=128, batch_size={batch}, learning_rate=1e-3)
print("JOB", job.pk)
"""


@pytest.mark.timeout(400)
def test_a_worker_killed_mid_training_leaves_the_job_to_another(tmp_path, tiny_model_folder):
    site = Site(tmp_path, "db")
    site.prepare()
    # Enough steps that the training outlasts a few heartbeats (1 s) on a fast machine: the
    # kill must land mid-training.
    out = site.manage(
        "shell",
        "-c",
        SETUP.format(folder=tiny_model_folder, epochs=20, stories=64, batch=1),
    )
    job_id = int(out.split("JOB")[1])
    logs = [tmp_path / "a.log", tmp_path / "b.log"]

    def job():
        return site.query(
            "SELECT status, step, attempts, error, output_model_id FROM training_finetunejob "
            "WHERE id=?",
            job_id,
        )[0]

    try:
        first = site.start_worker(logs[0], queues="train")
        site.wait_until(
            lambda: job()[0] != "queued" and (job()[0] != "running" or job()[1] > 0),
            120,
            "training",
            logs,
        )
        site.kill(first)
        status, step, attempts, _, model = job()
        assert (status, attempts, model) == ("running", 1, None), "it finished before the kill"
        assert (
            site.query("SELECT COUNT(*) FROM generation_modelprofile WHERE name='tiny-tuned'")[0][0]
            == 0
        )
        site.start_worker(logs[1], queues="train")
        site.wait_until(lambda: job()[0] != "running", 120, "the sweeper", logs)
        site.wait_until(lambda: job()[0] in ("done", "failed"), 240, "the second run", logs)
    finally:
        site.stop_all()
    status, _, attempts, error, model = job()
    assert (status, attempts) == ("done", 2), error
    registered = site.query("SELECT id, model FROM generation_modelprofile WHERE name='tiny-tuned'")
    assert len(registered) == 1 and registered[0][0] == model
    models = tmp_path / "models"
    assert sorted(p.name for p in models.iterdir()) == ["tiny-tuned"]  # no temp left behind
    assert (models / "tiny-tuned" / "config.json").exists()
