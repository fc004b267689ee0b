"""The multi-process path as the README gives it: ``accelerate launch --multi_gpu
--num_processes N manage.py finetune --job ID --inline``, here on two CPU processes (torchrun
and gloo): both train, the first claims the job, saves and registers one model."""

import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.test_worker_crash import SETUP
from tests.workers import ROOT, Site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(400)
def test_accelerate_launch_on_two_cpu_processes_ends_done_with_one_model(
    tmp_path, tiny_model_folder
):
    launcher = Path(sys.executable).with_name("accelerate")
    assert launcher.exists(), f"accelerate's launcher is missing beside {sys.executable}"
    site = Site(tmp_path, "db")
    site.prepare()
    setup = SETUP.replace("learning_rate=1e-3)", "learning_rate=1e-3, enqueue=False)")
    out = site.manage(
        "shell", "-c", setup.format(folder=tiny_model_folder, epochs=2, stories=16, batch=2)
    )
    job_id = int(out.split("JOB")[1])
    command = [
        str(launcher),
        "launch",
        *("--multi_gpu", "--num_processes", "2", "--num_machines", "1"),
        *("--mixed_precision", "no", "--dynamo_backend", "no"),
        *("--main_process_port", str(free_port())),
        *("manage.py", "finetune", "--job", str(job_id), "--inline"),
    ]
    env = {**site.env, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"accelerate launch ran past 300 s:\n{(expired.stderr or '')[-4000:]}")
    (tmp_path / "launch.log").write_text(result.stderr)
    assert result.returncode == 0, _failure(result.stderr)
    # Two processes ran (torchrun's world of two): each printed the job's outcome.
    outcomes = [json.loads(part) for part in _json_objects(result.stdout)]
    assert len(outcomes) == 2, result.stdout[-2000:]
    assert {o["status"] for o in outcomes} == {"done"}
    status, world_model, steps = site.query(
        "SELECT status, output_model_id, step FROM training_finetunejob WHERE id=?", job_id
    )[0]
    assert status == "done"
    # One world of two: each process took half of every epoch's batches (batch 2, 2 epochs).
    (train,) = site.query("SELECT train_count FROM curation_datasetexport WHERE name='rel'")[0]
    assert steps == 2 * math.ceil(train / (2 * 2)) < 2 * math.ceil(train / 2), (steps, train)
    registered = site.query("SELECT id, model FROM generation_modelprofile WHERE name='tiny-tuned'")
    assert len(registered) == 1 and registered[0][0] == world_model
    models = tmp_path / "models"
    assert sorted(p.name for p in models.iterdir()) == ["tiny-tuned"]  # the follower left none
    assert (models / "tiny-tuned" / "config.json").exists()


def _json_objects(text: str) -> list[str]:
    """The top-level JSON objects printed one after the other (indented)."""
    objects, depth, start = [], 0, None
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                objects.append(text[start : i + 1])
    return objects


def _failure(stderr: str) -> str:
    """The tracebacks of the failed processes (each rank's), else the end of the output."""
    blocks = stderr.split("Traceback (most recent call last):")[1:]
    if not blocks:
        return stderr[-4000:]
    return "\n".join("Traceback:" + block[-1500:] for block in blocks[:2])
