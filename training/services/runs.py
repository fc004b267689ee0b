"""The worker side of training: running a fine-tune and an evaluation. Tasks call these;
they never enqueue anything (services create and enqueue, tasks run)."""

import contextlib
import logging
import os
import shutil
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction

from curation.judging import GatePolicy, Verdict, judge
from curation.models import Topic
from curation.releases import export_folder
from generation.backends import GenerationRequest, backend_for
from generation.models import ModelProfile
from generation.prompts import default_messages
from generation.services.registry import model_lineage_set, model_register
from storyapp.claims import finish, run_claimed, temp_folder_name, temp_folders_of
from storyapp.params import seed_plus
from storyapp.redaction import scrub

from .. import trainer
from ..models import ComparisonPair, Evaluation, EvaluationSample, FineTuneJob
from ..selectors import evaluation_results
from .paths import models_root

logger = logging.getLogger(__name__)


def _finetune_follow(job_id: int) -> None:
    """A secondary process of a multi-GPU run: train beside the first, write nothing."""
    job = FineTuneJob.objects.select_related("release", "base").get(pk=job_id)
    trainer.fine_tune(
        _settings(job),
        export_folder(job.release),
        job.release.format,
        models_root() / f".{job.name}-follower",
        progress=trainer.Progress(),
        should_stop=lambda: FineTuneJob.objects.filter(pk=job_id, cancel_requested=True).exists(),
    )


def _settings(job: FineTuneJob) -> trainer.Settings:
    return trainer.Settings(
        base_folder=job.base.model,
        **{name: getattr(job, name) for name in TRAINING_FIELDS},
    )


TRAINING_FIELDS = (
    "method",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
    "lora_targets",
    "epochs",
    "learning_rate",
    "max_length",
    "batch_size",
    "seed",
)


def _temp_folder(job: FineTuneJob, token: str) -> Path:
    return models_root() / temp_folder_name(job.name, token)


def remove_leftovers(job: FineTuneJob) -> None:
    """Temp folders of this job's earlier runs (never another job's), and a model folder no
    profile was registered for."""
    root = models_root()
    if not root.is_dir():
        return
    for path in temp_folders_of(root, job.name):
        shutil.rmtree(path, ignore_errors=True)
    final = root / job.name
    if final.exists() and not ModelProfile.objects.filter(name=job.name).exists():
        shutil.rmtree(final, ignore_errors=True)


def finetune_run(*, job_id: int) -> FineTuneJob | None:
    """Run a queued fine-tune; None when it was not queued (a duplicated delivery).

    Under accelerate's launcher (``WORLD_SIZE`` > 1) every process trains; only the first
    (``RANK`` 0) claims the job, writes its progress, saves and registers the model."""
    if int(os.environ.get("RANK", "0")) > 0:
        _finetune_follow(job_id)
        return None
    progress = trainer.Progress()

    def beat() -> dict:
        return {
            "step": progress.step,
            "total_steps": progress.total_steps,
            "tokens_seen": progress.tokens_seen,
            "tokens_per_second": progress.tokens_per_second,
            "losses": progress.losses[-2000:],
            "phase": progress.phase,
        }

    def cancelled() -> bool:
        # Read once a step: a step takes far longer than this query.
        return FineTuneJob.objects.filter(pk=job_id, cancel_requested=True).exists()

    def work(job: FineTuneJob, token: str) -> dict | None:
        models_root().mkdir(parents=True, exist_ok=True)
        remove_leftovers(job)
        tmp = _temp_folder(job, token)
        try:
            outcome = trainer.fine_tune(
                _settings(job),
                export_folder(job.release),
                job.release.format,
                tmp,
                progress=progress,
                should_stop=cancelled,
            )
            if outcome is None:
                shutil.rmtree(tmp, ignore_errors=True)
                return {"status": FineTuneJob.Status.CANCELLED}
            final = models_root() / job.name
            tmp.rename(final)
            _register(job, token, final, outcome, progress)  # records the outcome itself
            return None
        finally:
            shutil.rmtree(tmp.parent / f"{tmp.name}-checkpoints", ignore_errors=True)

    def cleanup(job: FineTuneJob, token: str) -> None:
        shutil.rmtree(_temp_folder(job, token), ignore_errors=True)

    return run_claimed(FineTuneJob, job_id, work, progress=beat, cleanup=cleanup)


@transaction.atomic
def _register(job, token, folder: Path, outcome, progress) -> None:
    """The new student profile and the job's outcome, together."""
    base = job.base
    profile, _ = model_register(
        name=job.name,
        role=ModelProfile.Role.STUDENT,
        backend=ModelProfile.Backend.TRANSFORMERS,
        model=str(folder),
        queue=base.queue if base.role == ModelProfile.Role.STUDENT else "student",
        **{field: getattr(base, field) for field in SAMPLING_FIELDS},
    )
    model_lineage_set(profile=profile, base=base, release=job.release)
    done = finish(
        FineTuneJob,
        job.pk,
        token,
        status=FineTuneJob.Status.DONE,
        output_model=profile,
        base_val_loss=outcome.base_val_loss,
        tuned_val_loss=outcome.tuned_val_loss,
        train_seconds=round(outcome.seconds, 1),
        device=outcome.device,
        step=outcome.steps,
        total_steps=progress.total_steps,
        tokens_seen=outcome.tokens_seen,
        tokens_per_second=progress.tokens_per_second,
        losses=progress.losses[-2000:],
    )
    if not done:
        raise RuntimeError("the job was taken back while it finished; a rerun will train again")


# The base's sampling carries over to the tuned model (a fair comparison).
SAMPLING_FIELDS = (
    "max_new_tokens",
    "temperature",
    "top_p",
    "seed",
    "batch_size",
    "repetition_penalty",
    "no_repeat_ngram_size",
)


def sample_fields(verdict: Verdict) -> dict:
    """An evaluation sample's columns from curation's verdict: the checks of the story as the
    model wrote it (those the sample stores), the judged text and both verdicts."""
    return {
        **EvaluationSample.check_fields(verdict.checks),
        "judged_text": verdict.judged_text,
        "repaired": verdict.repaired,
        "passed": verdict.passed,
        "usable": verdict.usable,
    }


def evaluation_run(*, evaluation_id: int) -> Evaluation | None:
    """Generate the missing samples model by model, judge them, make the blind pairs."""

    def work(evaluation: Evaluation, token: str) -> dict:
        policy = GatePolicy.current()
        topics = dict(Topic.objects.filter(pk__in=evaluation.topic_ids).values_list("pk", "text"))
        for profile in evaluation.profiles.order_by("pk"):
            _generate(evaluation, profile, topics, policy)
        _pair_up(evaluation)
        return {"results": evaluation_results(evaluation)}

    return run_claimed(Evaluation, evaluation_id, work)


def _generate(evaluation, profile, topics: dict, policy) -> None:
    done = set(evaluation.samples.filter(model=profile).values_list("topic_id", flat=True))
    todo = [(i, pk) for i, pk in enumerate(evaluation.topic_ids) if pk not in done]
    if not todo:
        return
    sampling = evaluation.sampling
    requests = [
        GenerationRequest(
            messages=default_messages("story", {"topic": topics[pk]}),
            seed=seed_plus(evaluation.seed, i),
            **sampling,
        )
        for i, pk in todo
    ]

    def record(index, result):
        i, topic_id = todo[index]
        result = result.sanitized()
        verdict = (
            sample_fields(judge(result.text, result.finish_reason, policy, topic=topics[topic_id]))
            if not result.error
            else {}
        )
        row = {
            "evaluation": evaluation,
            "model": profile,
            "topic_id": topic_id,
            "seed": seed_plus(evaluation.seed, i),
        }
        try:
            with transaction.atomic():
                EvaluationSample.objects.create(
                    **row,
                    text=result.text,
                    finish_reason=result.finish_reason,
                    completion_tokens=result.completion_tokens,
                    error=result.error,
                    **{k: v for k, v in verdict.items()},
                )
        except IntegrityError:
            pass  # written by an earlier run
        except DatabaseError as exc:
            # Kept as a failed sample with its reason: the results count it, nothing is lost
            # in a log line.
            logger.warning("evaluation %s: sample refused", evaluation.pk, exc_info=True)
            reason = scrub(f"could not store the sample: {type(exc).__name__}: {exc}")[:2000]
            with contextlib.suppress(IntegrityError):
                EvaluationSample.objects.create(**row, error=reason)

    backend_for(profile).generate(requests, on_result=record)


def _pair_up(evaluation) -> None:
    """One blind pair per topic for every two models of the evaluation."""
    samples: dict[int, list] = {}
    for sample in evaluation.samples.filter(error="").order_by("model_id"):
        samples.setdefault(sample.topic_id, []).append(sample)
    pairs = [
        ComparisonPair(evaluation=evaluation, a=first, b=second)
        for group in samples.values()
        for n, first in enumerate(group)
        for second in group[n + 1 :]
    ]
    ComparisonPair.objects.bulk_create(pairs, ignore_conflicts=True)
