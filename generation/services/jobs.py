"""Generation jobs: creation (with its eligibility rules), cancelling and retrying."""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.models import Theme, Topic

from .. import tasks
from ..models import GenerationJob, JobItem, ModelProfile, PromptTemplate
from ..selectors import template_current
from .claims import job_refresh_status


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
    by_id = {t.pk: t for t in Theme.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise _ineligible(missing, "no such theme", "theme_missing")
    not_approved = [i for i in ids if by_id[i].status != Theme.Status.APPROVED]
    if not_approved:
        raise _ineligible(not_approved, "theme not approved", "theme_not_approved")
    return [by_id[i] for i in ids]


def _select_topics(selection) -> list[Topic]:
    eligible = Topic.objects.wanted()
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
    until_pass: int = 0,
    prompt_mode: str = GenerationJob.PromptMode.CHAT,
    template: PromptTemplate | None = None,
    actor=None,
    enqueue: bool = True,
) -> GenerationJob:
    """Create a job and its items; enqueue its tasks when the transaction commits.

    ``selection``: for topics, "approved" (default) or theme ids; for stories, "not-rejected"
    (default), "approved" or topic ids. Ids that are not eligible refuse the whole job.
    ``until_pass`` (stories): sample a topic again while none of its stories passes the
    quality gates, up to that many samples in all.
    """
    if kind not in GenerationJob.Kind.values:
        raise ValidationError("Kind must be topics or stories.", code="kind_invalid")
    if prompt_mode not in GenerationJob.PromptMode.values:
        raise ValidationError("Prompt mode must be chat or raw.", code="prompt_mode_invalid")
    per_input = per_input or (7 if kind == GenerationJob.Kind.TOPICS else 1)
    if not 1 <= per_input <= 50:
        raise ValidationError("Per-item count must be 1-50.", code="per_input_range")
    until_pass = until_pass or 0
    if until_pass and (kind != GenerationJob.Kind.STORIES or not per_input <= until_pass <= 20):
        raise ValidationError(
            "Generate-until-pass is for stories jobs: at least the samples per topic "
            "(%(per)s), at most 20.",
            code="until_pass_range",
            params={"per": per_input},
        )
    template_kind = GenerationJob.TEMPLATE_KIND[kind]
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
        until_pass=until_pass,
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
        tasks.job_enqueue(job=job, n_items=len(items))
    return job


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
    tasks.job_enqueue(job=job, n_items=n)
    return n
