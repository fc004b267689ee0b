"""Write operations of the generation app: the model registry, prompt versions and jobs.

Jobs never trust the queue for exactly-once delivery. A job owns items (unique key per job);
a task claims a batch with a conditional UPDATE, calls the model outside any transaction, and
writes outputs plus item status in one short transaction, only for items it still owns. Unique
constraints on topics and stories make a duplicated task harmless. A claim carries a heartbeat;
the sweeper returns items whose worker stopped beating.
"""

import contextlib
import logging
import math
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from curation.models import Story, Theme, Topic, text_key
from curation.reviews import story_check_fields, topics_flag_similar

from . import prompts
from .backends import GenerationRequest, GenerationResult, backend_for, validate_base_url
from .models import (
    GenerationJob,
    JobItem,
    ModelProfile,
    ModelTest,
    PromptTemplate,
    WorkerHeartbeat,
)
from .parsing import parse_topics

logger = logging.getLogger(__name__)

# --- model registry -------------------------------------------------------------------------

PROFILE_FIELDS = (
    "role",
    "backend",
    "model",
    "gguf_file",
    "base_url",
    "api_key_env",
    "max_new_tokens",
    "temperature",
    "top_p",
    "seed",
    "batch_size",
    "concurrency",
    "queue",
)


def _profile_validate(profile: ModelProfile) -> None:
    errors = []
    if profile.role not in ModelProfile.Role.values:
        errors.append(ValidationError("Role must be teacher or student.", code="role_invalid"))
    if profile.backend not in ModelProfile.Backend.values:
        errors.append(
            ValidationError("Backend must be transformers or openai.", code="backend_invalid")
        )
    if not profile.model.strip():
        errors.append(ValidationError("A model (folder or name) is required.", code="model_empty"))
    if profile.backend == ModelProfile.Backend.OPENAI:
        if not profile.base_url:
            errors.append(
                ValidationError("An openai profile needs a base URL.", code="base_url_missing")
            )
        else:
            try:
                validate_base_url(profile.base_url)
            except ValidationError as error:
                errors.append(error)
    if profile.api_key_env and not profile.api_key_env.replace("_", "").isalnum():
        errors.append(
            ValidationError(
                "The API key setting is the NAME of an environment variable (letters, digits, _).",
                code="api_key_env_invalid",
            )
        )
    if profile.queue not in settings.TASK_QUEUES:
        errors.append(
            ValidationError(
                "Queue %(queue)s is not configured; known queues: %(queues)s (STORYAPP_QUEUES).",
                code="queue_unknown",
                params={"queue": profile.queue, "queues": ", ".join(settings.TASK_QUEUES)},
            )
        )
    if not 0 <= profile.temperature <= 5:
        errors.append(ValidationError("Temperature must be 0-5.", code="temperature_range"))
    if not 0 < profile.top_p <= 1:
        errors.append(ValidationError("top-p must be in (0, 1].", code="top_p_range"))
    for name in ("max_new_tokens", "batch_size", "concurrency"):
        if getattr(profile, name) < 1:
            errors.append(ValidationError(f"{name} must be at least 1.", code=f"{name}_range"))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def model_register(*, name: str, **fields) -> tuple[ModelProfile, bool]:
    """Create the profile NAME, or update the fields given (None means: leave as is)."""
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValidationError(
            "A model name uses letters, digits, - and _ only.", code="model_name_invalid"
        )
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    profile = ModelProfile.objects.select_for_update().filter(name=name).first()
    created = profile is None
    if created:
        role = fields.get("role") or ""
        profile = ModelProfile(name=name, queue=role)
    for key, value in fields.items():
        if value is not None:
            setattr(profile, key, value)
    if created and not fields.get("queue"):
        profile.queue = profile.role
    _profile_validate(profile)
    profile.updated_at = timezone.now()
    profile.save()
    return profile, created


TEST_MESSAGES = [{"role": "user", "content": "Write one sentence about a lighthouse."}]


@transaction.atomic
def model_test_start(*, profile: ModelProfile) -> "ModelTest":
    """Queue a short test generation on the profile's queue (its workers hold the model)."""
    from .tasks import model_test_run as task

    test = ModelTest.objects.create(profile=profile)
    transaction.on_commit(partial(task.using(queue_name=profile.queue).enqueue, test_id=test.pk))
    return test


def model_test_run(*, test_id: int) -> None:
    test = ModelTest.objects.select_related("profile").filter(pk=test_id).first()
    if test is None or test.status != ModelTest.Status.QUEUED:
        return
    profile = test.profile
    request = GenerationRequest(
        messages=TEST_MESSAGES,
        max_new_tokens=min(32, profile.max_new_tokens),
        temperature=profile.temperature,
        top_p=profile.top_p,
        seed=profile.seed,
    )
    [result] = backend_for(profile).generate([request])
    test.status = ModelTest.Status.FAILED if result.error else ModelTest.Status.SUCCEEDED
    test.output = result.text
    test.error = result.error
    test.latency_ms = result.latency_ms
    test.completion_tokens = result.completion_tokens
    test.finished_at = timezone.now()
    test.save()


def bundled_models_register() -> list[ModelProfile]:
    """Convert the bundled SmolLM2-135M-Instruct once and register it as the default teacher
    and student (one folder, loaded once per worker). Keeps edits made to existing profiles."""
    from .backends import ensure_bundled_model

    folder = str(ensure_bundled_model())
    profiles = []
    for name, role in (("bundled-teacher", "teacher"), ("bundled-student", "student")):
        profile = ModelProfile.objects.filter(name=name).first()
        if profile is None or profile.model != folder:
            profile, _ = model_register(
                name=name,
                role=role,
                backend="transformers",
                model=folder,
                batch_size=8,
                max_new_tokens=256 if role == "student" else 160,
                temperature=0.7,
                top_p=0.9,
                seed=42,
            )
        profiles.append(profile)
    return profiles


# --- prompt templates -----------------------------------------------------------------------


def template_current(kind: str) -> PromptTemplate:
    template = PromptTemplate.objects.filter(kind=kind).order_by("-version").first()
    if template is None:
        raise ValidationError(
            "No %(kind)s prompt template; run manage.py bootstrap.",
            code="template_missing",
            params={"kind": kind},
        )
    return template


@transaction.atomic
def template_create_version(
    *, kind: str, system: str, user: str, raw: str, note: str = "", actor=None
) -> PromptTemplate:
    """Add the next version of a prompt. Existing versions never change."""
    if kind not in PromptTemplate.Kind.values:
        raise ValidationError("Unknown template kind.", code="template_kind_invalid")
    problems = prompts.template_problems(kind, {"system": system, "user": user, "raw": raw})
    if problems:
        raise ValidationError(problems)
    # Lock the kind's rows so two admins cannot both take the same next version.
    last = (
        PromptTemplate.objects.select_for_update()
        .filter(kind=kind)
        .aggregate(last=Max("version"))["last"]
    )
    return PromptTemplate.objects.create(
        kind=kind,
        version=(last or 0) + 1,
        system=system,
        user=user,
        raw=raw,
        note=note,
        created_by=actor,
    )


# --- jobs: creation -------------------------------------------------------------------------


def _ineligible(ids: list[int], reason: str, code: str) -> ValidationError:
    return ValidationError(
        "Not eligible (%(reason)s): %(ids)s.",
        code=code,
        params={"reason": reason, "ids": ", ".join(str(i) for i in sorted(ids))},
    )


def _select_themes(selection) -> list[Theme]:
    if selection in (None, "approved"):
        themes = list(Theme.objects.filter(status=Theme.Status.APPROVED).order_by("pk"))
        if not themes:
            raise ValidationError("No approved themes.", code="nothing_selected")
        return themes
    ids = sorted(set(selection))
    themes = {t.pk: t for t in Theme.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in themes]
    if missing:
        raise _ineligible(missing, "no such theme", "theme_missing")
    not_approved = [i for i in ids if themes[i].status != Theme.Status.APPROVED]
    if not_approved:
        raise _ineligible(not_approved, "theme not approved", "theme_not_approved")
    return [themes[i] for i in ids]


def _select_topics(selection) -> list[Topic]:
    eligible = Topic.objects.exclude(status=Topic.Status.REJECTED).filter(
        theme__status=Theme.Status.APPROVED
    )
    if selection in (None, "not-rejected"):
        topics = list(eligible.order_by("pk"))
    elif selection == "approved":
        topics = list(eligible.filter(status=Topic.Status.APPROVED).order_by("pk"))
    else:
        ids = sorted(set(selection))
        found = {t.pk: t for t in Topic.objects.select_related("theme").filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise _ineligible(missing, "no such topic", "topic_missing")
        rejected = [i for i in ids if found[i].status == Topic.Status.REJECTED]
        if rejected:
            raise _ineligible(rejected, "topic rejected", "topic_rejected")
        unapproved = [i for i in ids if found[i].theme.status != Theme.Status.APPROVED]
        if unapproved:
            raise _ineligible(unapproved, "theme not approved", "theme_not_approved")
        return [found[i] for i in ids]
    if not topics:
        raise ValidationError("No eligible topics.", code="nothing_selected")
    return topics


@transaction.atomic
def job_create(
    *,
    kind: str,
    model: ModelProfile,
    selection=None,
    per_input: int | None = None,
    prompt_mode: str = GenerationJob.PromptMode.CHAT,
    template: PromptTemplate | None = None,
    actor=None,
    enqueue: bool = True,
) -> GenerationJob:
    """Create a job and its items; enqueue its tasks when the transaction commits.

    ``selection``: for topics, "approved" (default) or theme ids; for stories, "not-rejected"
    (default), "approved" or topic ids. Ids that are not eligible refuse the whole job.
    """
    if kind not in GenerationJob.Kind.values:
        raise ValidationError("Kind must be topics or stories.", code="kind_invalid")
    if prompt_mode not in GenerationJob.PromptMode.values:
        raise ValidationError("Prompt mode must be chat or raw.", code="prompt_mode_invalid")
    per_input = per_input or (7 if kind == GenerationJob.Kind.TOPICS else 1)
    if not 1 <= per_input <= 50:
        raise ValidationError("Per-item count must be 1-50.", code="per_input_range")
    template_kind = "topics" if kind == GenerationJob.Kind.TOPICS else "story"
    template = template or template_current(template_kind)
    if template.kind != template_kind:
        raise ValidationError("That template is for another job kind.", code="template_kind")
    job = GenerationJob.objects.create(
        kind=kind,
        model=model,
        template=template,
        prompt_mode=prompt_mode,
        queue_name=model.queue,
        model_snapshot=model.snapshot(),
        per_input=per_input,
        created_by=actor,
    )
    if kind == GenerationJob.Kind.TOPICS:
        items = [
            JobItem(job=job, key=f"theme:{theme.pk}", theme_id=theme.pk)
            for theme in _select_themes(selection)
        ]
    else:
        items = [
            JobItem(
                job=job,
                key=f"topic:{topic.pk}:{index}",
                topic_id=topic.pk,
                theme_id=topic.theme_id,
                sample_index=index,
            )
            for topic in _select_topics(selection)
            for index in range(per_input)
        ]
    JobItem.objects.bulk_create(items)
    if enqueue:
        job_enqueue(job=job, n_items=len(items))
    return job


def job_enqueue(*, job: GenerationJob, n_items: int) -> None:
    """Enqueue enough tasks for the job's pending items, after the transaction commits.

    Several tasks let several workers share one job; extra tasks find nothing and return.
    """
    from .tasks import job_run

    model = job.model
    per_task = model.batch_size if model.backend == "transformers" else model.concurrency * 2
    n_tasks = max(1, min(settings.STORYAPP_TASKS_PER_JOB, math.ceil(n_items / max(per_task, 1))))
    task = job_run.using(queue_name=job.queue_name)
    for _ in range(n_tasks):
        transaction.on_commit(partial(task.enqueue, job_id=job.pk))


# --- jobs: claiming and completing ----------------------------------------------------------


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def items_claim(*, job_id: int, worker_id: str, limit: int) -> tuple[str, list[JobItem]]:
    """Claim up to ``limit`` pending items of a job that is not cancelled.

    Conditional UPDATE ... WHERE status = 'pending': two workers can never own one item. On
    PostgreSQL the candidates are picked with SKIP LOCKED so workers do not queue on each other.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        job = GenerationJob.objects.filter(pk=job_id).values("status", "cancel_requested").first()
        if job is None or job["cancel_requested"] or job["status"] in GenerationJob.FINISHED:
            return token, []
        candidates = JobItem.objects.filter(job_id=job_id, status=JobItem.Status.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        JobItem.objects.filter(pk__in=ids, status=JobItem.Status.PENDING).update(
            status=JobItem.Status.CLAIMED,
            claim_token=token,
            claimed_by=worker_id[:200],
            claimed_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
        GenerationJob.objects.filter(pk=job_id, status=GenerationJob.Status.QUEUED).update(
            status=GenerationJob.Status.RUNNING, started_at=now
        )
    return token, list(JobItem.objects.filter(claim_token=token).order_by("pk"))


@contextlib.contextmanager
def claim_heartbeat(token: str):
    """Keep a claim alive while the model works (a thread touching heartbeat_at)."""
    interval = settings.STORYAPP_HEARTBEAT_SECONDS
    if interval <= 0:
        yield
        return
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    JobItem.objects.filter(claim_token=token, status=JobItem.Status.CLAIMED).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    # A busy database delays a beat; the next one (or the sweeper's grace
                    # period, several beats long) covers it.
                    logger.warning("claim heartbeat skipped: database busy", exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="claim-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _sampling(job: GenerationJob, item: JobItem) -> dict:
    snap = job.model_snapshot
    seed = snap.get("seed")
    if seed is not None:
        seed = seed + item.sample_index
    return {
        "max_new_tokens": snap["max_new_tokens"],
        "temperature": snap["temperature"],
        "top_p": snap["top_p"],
        "seed": seed,
    }


def _request_for(job: GenerationJob, item: JobItem, names: dict[int, str]) -> GenerationRequest:
    if job.kind == GenerationJob.Kind.TOPICS:
        values = {"theme": names[item.theme_id], "n_topics": job.per_input}
    else:
        values = {"topic": names[item.topic_id]}
    sampling = _sampling(job, item)
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


def _provenance(job: GenerationJob, item: JobItem, result: GenerationResult) -> dict:
    return {
        "generation_job_id": job.pk,
        "model_name": job.model_snapshot.get("name", ""),
        "model_snapshot": job.model_snapshot,
        "template_version": f"{job.template.label} ({job.prompt_mode})",
        "prompt": result.prompt_text,
        "prompt_messages": result.extra.get("messages", []),
        "sampling": _sampling(job, item),
        "finish_reason": result.finish_reason[:32],
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "latency_ms": result.latency_ms,
    }


def _write_topics(job, item, result) -> tuple[int, bool, str]:
    parsed = parse_topics(result.text, finish_reason=result.finish_reason, limit=job.per_input)
    existing = set(Topic.objects.filter(theme_id=item.theme_id).values_list("text_key", flat=True))
    fresh = []
    for text in parsed.topics:
        key = text_key(text)
        if key in existing:
            continue
        existing.add(key)
        fresh.append(
            Topic(theme_id=item.theme_id, text=text, text_key=key, **_provenance(job, item, result))
        )
    topics_flag_similar(fresh)
    # ignore_conflicts: a concurrent writer of the same theme cannot make a duplicate either.
    Topic.objects.bulk_create(fresh, ignore_conflicts=True)
    short = len(parsed.topics) < job.per_input
    note = ""
    if not parsed.topics:
        note = "no topics found in the reply"
    return len(fresh), short, note


def _write_story(job, item, result) -> tuple[int, bool, str]:
    if not result.text.strip():
        return 0, False, "the model returned an empty story"
    Story.objects.bulk_create(
        [
            Story(
                topic_id=item.topic_id,
                text=result.text,
                sample_index=item.sample_index,
                **_provenance(job, item, result),
                **story_check_fields(
                    text=result.text, finish_reason=result.finish_reason, theme_id=item.theme_id
                ),
            )
        ],
        ignore_conflicts=True,
    )
    return 1, False, ""


def items_complete(
    *, job: GenerationJob, token: str, items: list[JobItem], results: list[GenerationResult]
) -> int:
    """Write outputs and item statuses in one transaction, for items this claim still owns.

    Returns how many items were written. An item whose claim was swept and taken by another
    worker is skipped: its outputs will come from that worker.
    """
    now = timezone.now()
    written = 0
    with transaction.atomic():
        owned = set(
            JobItem.objects.select_for_update()
            .filter(claim_token=token, status=JobItem.Status.CLAIMED)
            .values_list("pk", flat=True)
        )
        for item, result in zip(items, results, strict=True):
            if item.pk not in owned:
                continue
            item.raw_output = result.text
            item.prompt = result.prompt_text
            item.finish_reason = result.finish_reason[:32]
            item.prompt_tokens = result.prompt_tokens
            item.completion_tokens = result.completion_tokens
            item.latency_ms = result.latency_ms
            item.finished_at = now
            if result.error:
                item.status, item.error = JobItem.Status.FAILED, result.error
            else:
                writer = _write_topics if job.kind == GenerationJob.Kind.TOPICS else _write_story
                item.outputs, item.short, note = writer(job, item, result)
                item.status = JobItem.Status.DONE if not note else JobItem.Status.FAILED
                item.error = note
            written += 1
        JobItem.objects.bulk_update(
            [item for item in items if item.pk in owned],
            [
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
            ],
        )
    return written


def job_refresh_status(*, job_id: int) -> GenerationJob:
    """Set the final status once no item is pending or claimed (or the job was cancelled)."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        counts = dict(
            job.items.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        pending = counts.get("pending", 0)
        claimed = counts.get("claimed", 0)
        done = counts.get("done", 0)
        failed = counts.get("failed", 0)
        if job.cancel_requested and not claimed:
            job.status = GenerationJob.Status.CANCELLED
        elif pending or claimed:
            return job
        elif failed == 0:
            job.status = GenerationJob.Status.SUCCEEDED
        elif done == 0:
            job.status = GenerationJob.Status.FAILED
        else:
            job.status = GenerationJob.Status.FINISHED_WITH_ERRORS
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
    return job


def job_work(*, job_id: int, worker_id: str | None = None) -> int:
    """Process a job's items until none is left to claim; return how many this call wrote.

    Idempotent and safe to run in several workers at once: it returns early when the job is
    finished, cancelled, or has no pending item.
    """
    worker_id = worker_id or worker_identity()
    items_sweep()
    job = GenerationJob.objects.select_related("model", "template").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return 0
    backend = backend_for(job.model)
    limit = job.model.batch_size if job.model.backend == "transformers" else job.model.concurrency
    written = 0
    while True:
        token, items = items_claim(job_id=job.pk, worker_id=worker_id, limit=limit)
        if not items:
            break
        requests = requests_for(job, items)
        with claim_heartbeat(token):
            results = backend.generate(requests)
        for request, result in zip(requests, results, strict=True):
            result.extra["messages"] = request.messages or [
                {"role": "user", "content": request.prompt or ""}
            ]
        written += items_complete(job=job, token=token, items=items, results=results)
    job_refresh_status(job_id=job.pk)
    return written


def items_sweep(*, now=None) -> list[int]:
    """Return items of dead workers to the queue (or fail them after too many attempts).

    Re-enqueues a task for every job that got items back, and refreshes job statuses.
    Returns the ids of the jobs it touched.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    stale = JobItem.objects.filter(status=JobItem.Status.CLAIMED, heartbeat_at__lt=stale_before)
    with transaction.atomic():
        rows = list(stale.select_for_update().values_list("pk", "job_id", "attempts"))
        if not rows:
            return []
        give_up = [pk for pk, _, attempts in rows if attempts >= settings.STORYAPP_MAX_ATTEMPTS]
        retry = [pk for pk, _, attempts in rows if attempts < settings.STORYAPP_MAX_ATTEMPTS]
        JobItem.objects.filter(pk__in=retry, status=JobItem.Status.CLAIMED).update(
            status=JobItem.Status.PENDING, claim_token="", claimed_by="", heartbeat_at=None
        )
        JobItem.objects.filter(pk__in=give_up, status=JobItem.Status.CLAIMED).update(
            status=JobItem.Status.FAILED,
            claim_token="",
            finished_at=now,
            error=f"its worker stopped responding {settings.STORYAPP_MAX_ATTEMPTS} times",
        )
        job_ids = sorted({job_id for _, job_id, _ in rows})
        for job in GenerationJob.objects.filter(pk__in=job_ids).select_related("model"):
            pending = job.items.filter(status=JobItem.Status.PENDING).count()
            if pending and not job.cancel_requested:
                job_enqueue(job=job, n_items=pending)
    for job_id in job_ids:
        job_refresh_status(job_id=job_id)
    logger.info("swept %d stale item(s) of job(s) %s", len(rows), job_ids)
    return job_ids


@transaction.atomic
def job_cancel(*, job: GenerationJob) -> GenerationJob:
    """Stop new claims; items already running finish, then the job is marked cancelled."""
    GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    transaction.on_commit(partial(job_refresh_status, job_id=job.pk))
    job.cancel_requested = True
    return job


@transaction.atomic
def job_retry_failed(*, job: GenerationJob) -> int:
    """Re-queue only the failed items of a finished job; returns how many."""
    job = GenerationJob.objects.select_for_update().select_related("model").get(pk=job.pk)
    if not job.is_finished:
        raise ValidationError("The job is still running.", code="job_running")
    n = job.items.filter(status=JobItem.Status.FAILED).update(
        status=JobItem.Status.PENDING, attempts=0, error="", claim_token="", finished_at=None
    )
    if not n:
        raise ValidationError("The job has no failed items.", code="nothing_to_retry")
    job.status = GenerationJob.Status.QUEUED
    job.finished_at = None
    job.cancel_requested = False
    job.save(update_fields=["status", "finished_at", "cancel_requested"])
    job_enqueue(job=job, n_items=n)
    return n


# --- workers --------------------------------------------------------------------------------


def worker_beat(*, worker_id: str, backend: str, queues: list[str]) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "backend": backend,
            "queues": queues,
            "last_seen": timezone.now(),
        },
    )


@dataclass
class QueueWarning:
    queue: str
    waiting_jobs: int


def queues_without_workers(*, now=None) -> list[QueueWarning]:
    """Queues with waiting or running jobs and no live worker serving them."""
    now = now or timezone.now()
    alive_after = now - timedelta(seconds=max(3 * settings.STORYAPP_HEARTBEAT_SECONDS, 30))
    served: set[str] = set()
    for queues in WorkerHeartbeat.objects.filter(last_seen__gte=alive_after).values_list(
        "queues", flat=True
    ):
        served.update(queues)
    if "*" in served:
        return []
    waiting = (
        GenerationJob.objects.filter(
            Q(status=GenerationJob.Status.QUEUED) | Q(status=GenerationJob.Status.RUNNING)
        )
        .values("queue_name")
        .annotate(n=Count("pk"))
    )
    return [
        QueueWarning(row["queue_name"], row["n"])
        for row in waiting
        if row["queue_name"] not in served
    ]
