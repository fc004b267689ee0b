"""The generation loop: claim items, build their requests, call the model outside any
transaction, and hand the outputs to curation with their provenance. Also model tests."""

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from curation.models import Theme, Topic
from curation.selectors import topic_passed_in_job
from curation.services.stories import story_add_generated
from curation.services.topics import topics_add_generated
from storyapp.claims import run_claimed
from storyapp.params import seed_plus
from storyapp.workers import activity, worker_identity

from .. import prompts
from ..backends import GenerationRequest, GenerationResult, backend_for, short_text
from ..models import GenerationJob, JobItem, ModelTest
from ..parsing import clean_text, parse_topics
from .claims import claim_heartbeat, items_claim, job_refresh_status

logger = logging.getLogger(__name__)

TEST_MESSAGES = [{"role": "user", "content": "Write one sentence about a lighthouse."}]


# Sampling fields of a profile snapshot, with the value that means "off" (older snapshots
# were made before repetition control existed).
REPETITION_CONTROL = {
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
}


def _sampling(job: GenerationJob, item: JobItem) -> dict:
    """The sampling of one item: the profile's, with the seed moved by the sample index (so
    each sample of a topic, and each retry of generate-until-pass, draws anew)."""
    snap = job.model_snapshot
    seed = snap.get("seed")
    if seed is not None:
        seed = seed_plus(seed, item.sample_index)
    return {
        "max_new_tokens": snap["max_new_tokens"],
        "temperature": snap["temperature"],
        "top_p": snap["top_p"],
        "seed": seed,
        **{name: snap.get(name, off) for name, off in REPETITION_CONTROL.items()},
    }


def _request_for(job: GenerationJob, item: JobItem, names: dict[int, str]) -> GenerationRequest:
    if job.kind == GenerationJob.Kind.TOPICS:
        values = {"theme": names[item.theme_id or 0], "n_topics": job.per_input}
    else:
        values = {"topic": names[item.topic_id or 0]}
    sampling = _sampling(job, item)
    sampling["extra_body"] = job.model_snapshot.get("extra_body") or None
    if job.prompt_mode == GenerationJob.PromptMode.RAW:
        return GenerationRequest(prompt=prompts.render_raw(job.template, values), **sampling)
    return GenerationRequest(messages=prompts.render_messages(job.template, values), **sampling)


def requests_for(job: GenerationJob, items: list[JobItem]) -> list[GenerationRequest]:
    if job.kind == GenerationJob.Kind.TOPICS:
        names = dict(
            Theme.objects.filter(pk__in=[i.theme_id for i in items]).values_list("pk", "name")
        )
    else:
        names = dict(
            Topic.objects.filter(pk__in=[i.topic_id for i in items]).values_list("pk", "text")
        )
    return [_request_for(job, item, names) for item in items]


def _provenance(job: GenerationJob, item: JobItem, request, result: GenerationResult) -> dict:
    """Everything that made an output, as curation's Provenance fields. The messages are the
    ones sent (a raw prompt is stored as one user message), so curation never needs to know
    the default prompts."""
    return {
        "generation_job_id": job.pk,
        "model_name": job.model_snapshot.get("name", ""),
        "model_snapshot": job.model_snapshot,
        "template_version": f"{job.template.label} ({job.prompt_mode})",
        "prompt": result.prompt_text,
        "prompt_messages": request.messages or [{"role": "user", "content": request.prompt or ""}],
        "sampling": _sampling(job, item),
        "finish_reason": result.finish_reason[:32],
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "latency_ms": result.latency_ms,
    }


def _write_topics(job, item, provenance, result) -> tuple[int, bool, str]:
    parsed = parse_topics(result.text, finish_reason=result.finish_reason, limit=job.per_input)
    stored = topics_add_generated(
        theme_id=item.theme_id, texts=parsed.topics, provenance=provenance
    )
    short = len(parsed.topics) < job.per_input
    note = "" if parsed.topics else "no topics found in the reply"
    return stored, short, note


def _write_story(job, item, provenance, result) -> tuple[int, bool, str]:
    if not result.text.strip():
        return 0, False, "the model returned an empty story"
    story = story_add_generated(
        topic_id=item.topic_id,
        theme_id=item.theme_id,
        sample_index=item.sample_index,
        text=result.text,
        provenance=provenance,
    )
    if story is not None and story.auto_rejected and job.until_pass:
        _sample_again(job, item)
    return int(story is not None), False, ""


def _sample_again(job: GenerationJob, item: JobItem) -> None:
    """Generate until it passes: a topic with no story of this job through the gates gets one
    more sample (a new seed), up to ``until_pass`` samples."""
    if item.topic_id is None:  # a topics item: nothing to sample again
        return
    passed = topic_passed_in_job(generation_job_id=job.pk, topic_id=item.topic_id)
    samples = JobItem.objects.filter(job=job, topic_id=item.topic_id)
    if passed or samples.count() >= job.until_pass:
        return
    index = max(samples.values_list("sample_index", flat=True)) + 1
    JobItem.objects.get_or_create(
        job=job,
        key=f"topic:{item.topic_id}:{index}",
        defaults={"topic_id": item.topic_id, "theme_id": item.theme_id, "sample_index": index},
    )


ITEM_RESULT_FIELDS = [
    "raw_output",
    "prompt",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "finished_at",
    "status",
    "error",
    "outputs",
    "short",
    "cut_at_bound",
]


def items_complete(
    *,
    job: GenerationJob,
    token: str,
    items: list[JobItem],
    requests: list[GenerationRequest],
    results: list[GenerationResult],
) -> int:
    """Write outputs and item statuses in one transaction, for items this claim still owns.

    Returns how many items were written. An item whose claim was swept and taken by another
    worker is skipped: its outputs will come from that worker.
    """
    now = timezone.now()
    written = []
    with transaction.atomic():
        owned = set(
            JobItem.objects.select_for_update()
            .filter(claim_token=token, status=JobItem.Status.CLAIMED)
            .values_list("pk", flat=True)
        )
        for item, request, result in zip(items, requests, results, strict=True):
            if item.pk not in owned:
                continue
            result = result.sanitized()
            item.raw_output = result.text
            item.prompt = result.prompt_text
            item.finish_reason = result.finish_reason
            item.cut_at_bound = result.cut_at_bound
            item.prompt_tokens = result.prompt_tokens
            item.completion_tokens = result.completion_tokens
            item.latency_ms = result.latency_ms
            item.finished_at = now
            if result.error:
                item.status, item.error = JobItem.Status.FAILED, result.error
            else:
                writer = _write_topics if job.kind == GenerationJob.Kind.TOPICS else _write_story
                provenance = _provenance(job, item, request, result)
                try:
                    with transaction.atomic():  # a savepoint: a refused output fails one item
                        item.outputs, item.short, note = writer(job, item, provenance, result)
                except DatabaseError as exc:
                    logger.warning(
                        "job %s item %s: output refused", job.pk, item.key, exc_info=True
                    )
                    item.outputs, item.short = 0, False
                    note = f"could not store the output: {short_text(clean_text(str(exc)))}"
                item.status = JobItem.Status.DONE if not note else JobItem.Status.FAILED
                item.error = note
            written.append(item)
        JobItem.objects.bulk_update(written, ITEM_RESULT_FIELDS)
    return len(written)


def job_work(*, job_id: int, worker_id: str | None = None) -> int:
    """Process a job's items until none is left to claim; return how many this call wrote.

    Idempotent and safe to run in several workers at once: it returns early when the job is
    finished, cancelled, or has no pending item.
    """
    worker_id = worker_id or worker_identity()
    job = GenerationJob.objects.select_related("model", "template").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return 0
    backend = backend_for(job.model)
    limit = _claim_size(backend, job)
    written = 0
    with activity(f"job {job.pk}"):
        while True:
            # A test of this model jumps the queue: it runs between two claims of the job.
            model_tests_run_waiting(profile=job.model, backend=backend)
            token, items = items_claim(job_id=job.pk, worker_id=worker_id, limit=limit)
            if not items:
                break
            requests = requests_for(job, items)

            def record(index, result, token=token, items=items, requests=requests) -> None:
                # Each item is written as its result comes in, so progress moves per item.
                nonlocal written
                written += items_complete(
                    job=job,
                    token=token,
                    items=[items[index]],
                    requests=[requests[index]],
                    results=[result],
                )

            with claim_heartbeat(token):
                _generate(backend, requests, record)
    job_refresh_status(job_id=job.pk)
    return written


def _claim_size(backend, job: GenerationJob) -> int:
    """Items per claim: the batch the backend will run (a local model on a GPU picks it from
    free memory when the profile leaves batch_size at 0)."""
    preferred = getattr(backend, "claim_size", None)
    if preferred is not None:
        return preferred(max_new_tokens=job.model_snapshot.get("max_new_tokens", 256))
    return job.model.items_per_claim


def _generate(backend, requests, on_result) -> None:
    """Run the backend, reporting each result to ``on_result``; a backend that raises fails
    the items it had not reported, with the reason (they must not stay claimed until the
    sweeper hides the cause)."""
    reported: set[int] = set()

    def report(index: int, result: GenerationResult) -> None:
        reported.add(index)
        on_result(index, result)

    try:
        results = backend.generate(requests, on_result=report)
    except Exception as exc:
        logger.exception("generation failed")
        error = f"generation failed: {short_text(clean_text(str(exc)))}"
        results = [GenerationResult(error=error) for _ in requests]
    for index, result in enumerate(results):
        if index not in reported:
            report(index, result)


def model_test_run(*, test_id: int, backend=None) -> None:
    """Run one short generation for a queued ModelTest and store its outcome on it.

    The skeleton of claimed work (storyapp.claims.run_claimed): a duplicated task does
    nothing, a heartbeat keeps the claim, and the test ends succeeded or failed with the reason
    (``model_tests_sweep`` fails one whose worker died)."""

    def work(test: ModelTest, token: str) -> dict:
        profile = test.profile
        request = GenerationRequest(
            messages=TEST_MESSAGES,
            max_new_tokens=min(32, profile.max_new_tokens),
            temperature=profile.temperature,
            top_p=profile.top_p,
            seed=profile.seed,
        )
        outcome: list[GenerationResult] = []
        _generate(backend or backend_for(profile), [request], lambda i, r: outcome.append(r))
        result = outcome[0].sanitized()
        return {
            "status": ModelTest.Status.FAILED if result.error else ModelTest.Status.SUCCEEDED,
            "output": result.text,
            "error": result.error,
            "latency_ms": result.latency_ms,
            "completion_tokens": result.completion_tokens,
        }

    run_claimed(ModelTest, test_id, work)


def model_tests_run_waiting(*, profile, backend) -> int:
    """Run the queued tests of ``profile`` here and now, with the backend already loaded (a
    job's worker runs them between claims, so a test never waits for a whole job)."""
    waiting = list(
        ModelTest.objects.filter(profile=profile, status=ModelTest.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for test_id in waiting:
        model_test_run(test_id=test_id, backend=backend)
    return len(waiting)
