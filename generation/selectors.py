"""Read queries of the generation app."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from curation.models import Story, StoryQuerySet, Theme, Topic
from storyapp.workers import queues_served

from .models import GenerationJob, JobItem, ModelProfile, PromptTemplate

ITEM_STATUSES = [status for status, _ in JobItem.Status.choices]


def job_counts(job: GenerationJob) -> dict[str, int]:
    rows = job.items.values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(ITEM_STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def job_errors(job: GenerationJob, limit: int = 50) -> list[dict]:
    """The failed items, each named by its theme or topic (not "theme:3"), with its id for the
    item's page (prompt and raw reply)."""
    rows: list[dict] = [
        dict(row)
        for row in job.items.filter(status=JobItem.Status.FAILED)
        .order_by("pk")
        .values("id", "key", "error", "attempts", "theme_id", "topic_id")[:limit]
    ]
    names = item_names(rows)
    for row in rows:
        row["name"] = names.get(row["id"], row["key"])
    return rows


def item_names(rows: list[dict]) -> dict[int, str]:
    """``{item id: "Theme name" or "Topic #12: its text"}`` for rows with id/theme_id/topic_id."""
    themes = dict(
        Theme.objects.filter(pk__in={r["theme_id"] for r in rows if r["theme_id"]}).values_list(
            "pk", "name"
        )
    )
    topics = dict(
        Topic.objects.filter(pk__in={r["topic_id"] for r in rows if r["topic_id"]}).values_list(
            "pk", "text"
        )
    )
    names = {}
    for row in rows:
        if row["topic_id"] in topics:
            names[row["id"]] = f"Topic #{row['topic_id']}: {topics[row['topic_id']]}"
        elif row["theme_id"] in themes:
            names[row["id"]] = themes[row["theme_id"]]
    return names


def job_status_dict(job: GenerationJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "model": job.model_snapshot.get("name"),
        "queue": job.queue_name,
        "items": job_counts(job),
        "quality": job_quality(job),
        "errors": job_errors(job),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def judge_profiles():
    """The models with the role judge, by name (the pickers that ask a judge)."""
    return ModelProfile.objects.filter(role=ModelProfile.Role.JUDGE).order_by("name")


# When at least this share of a job's outputs stopped at the token limit, the page says so.
LENGTH_HINT_SHARE = 0.3


def job_quality(job: GenerationJob) -> dict:
    """What the job's outputs are worth, not only how many there are (three queries).

    Topics: items that came back with fewer topics than asked, topics flagged as similar to an
    earlier one. Stories: how many passed the quality gates as written, were kept after the
    repair, were repaired or cut off, how many stopped at the token limit (with a hint), and
    with generate-until-pass, how many topics ended with a passing story.
    """
    items = job.items.filter(status=JobItem.Status.DONE).aggregate(
        done=Count("pk"),
        short=Count("pk", filter=Q(short=True)),
        at_limit=Count("pk", filter=Q(finish_reason="length")),
        cut_at_bound=Count("pk", filter=Q(cut_at_bound=True)),
    )
    quality = {
        "items_done": items["done"],
        "short_items": items["short"],
        "cut_at_bound": items["cut_at_bound"],
        "hints": [],
    }
    if items["cut_at_bound"]:
        quality["hints"].append(
            f"{items['cut_at_bound']} of {items['done']} replies ran past "
            f"{settings.STORYAPP_MAX_TEXT_CHARS:,} characters and were stored cut there "
            "(STORYAPP_MAX_TEXT_CHARS)."
        )
    if job.kind == GenerationJob.Kind.TOPICS:
        topics = Topic.objects.filter(generation_job_id=job.pk).aggregate(
            n=Count("pk"), similar=Count("pk", filter=Q(similar_to__isnull=False))
        )
        quality.update(topics=topics["n"], flagged_similar=topics["similar"])
        if items["short"]:
            quality["hints"].append(
                f"{items['short']} of {items['done']} replies held fewer topics than asked: "
                "the teacher may need more new tokens or a clearer prompt."
            )
        return quality
    stories = Story.objects.filter(generation_job_id=job.pk)
    figures = stories.aggregate(
        **StoryQuerySet.quality_figures(),
        topics=Count("topic", distinct=True),
        topics_passed=Count("topic", distinct=True, filter=Q(auto_rejected=False)),
    )
    quality.update(figures)
    quality["pass_share"] = round(figures["passed"] / figures["n"], 3) if figures["n"] else None
    limit_share = items["at_limit"] / items["done"] if items["done"] else 0
    quality["at_limit_share"] = round(limit_share, 3)
    if items["done"] and limit_share >= LENGTH_HINT_SHARE:
        quality["hints"].append(_length_hint(job.model_snapshot, limit_share))
    return quality


def job_progress(job: GenerationJob) -> dict:
    """Counts, throughput and ETA for the console (two queries)."""
    counts = job_counts(job)
    total = sum(counts.values())
    finished = counts[JobItem.Status.DONE] + counts[JobItem.Status.FAILED]
    stats = job.items.filter(status=JobItem.Status.DONE).aggregate(
        tokens=Sum("completion_tokens"), outputs=Sum("outputs")
    )
    tokens = stats["tokens"] or 0
    elapsed = None
    if job.started_at:
        end = job.finished_at or timezone.now()
        elapsed = max((end - job.started_at).total_seconds(), 0.001)
    tokens_per_second = tokens / elapsed if elapsed and tokens else None
    eta_seconds = None
    if elapsed and finished and not job.is_finished:
        eta_seconds = elapsed / finished * (total - finished)
    return {
        "counts": counts,
        "total": total,
        "finished": finished,
        "percent": round(100 * finished / total) if total else 0,
        "tokens": tokens,
        "outputs": stats["outputs"] or 0,
        "tokens_per_second": tokens_per_second,
        "eta_seconds": eta_seconds,
        "elapsed_seconds": elapsed,
    }


def job_list() -> QuerySet[GenerationJob]:
    return (
        GenerationJob.objects.select_related("model", "template", "created_by")
        .annotate(
            n_items=Count("items"),
            n_finished=Count("items", filter=Q(items__status__in=JobItem.FINISHED)),
            n_failed=Count("items", filter=Q(items__status=JobItem.Status.FAILED)),
            n_short=Count("items", filter=Q(items__short=True)),
        )
        .order_by("-created_at", "-pk")
    )


def job_outputs(job: GenerationJob) -> QuerySet:
    """The topics or stories a job wrote, in the order they were stored."""
    outputs: QuerySet
    if job.kind == GenerationJob.Kind.TOPICS:
        outputs = Topic.objects.filter(generation_job_id=job.pk).select_related("theme")
    else:
        outputs = Story.objects.filter(generation_job_id=job.pk).select_related("topic__theme")
    return outputs.order_by("pk")


def template_current(kind: str) -> PromptTemplate:
    template = PromptTemplate.objects.filter(kind=kind).order_by("-version").first()
    if template is None:
        raise ValidationError(
            "No %(kind)s prompt template; run manage.py bootstrap.",
            code="template_missing",
            params={"kind": kind},
        )
    return template


@dataclass
class QueueWarning:
    queue: str
    waiting_jobs: int


def queues_without_workers(*, now=None) -> list[QueueWarning]:
    """Queues with waiting or running jobs and no live worker serving them."""
    served = queues_served(now=now)
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


def _length_hint(snapshot: dict, limit_share: float) -> str:
    """What to do when many stories ran into the token limit, given how they were sampled."""
    head = (
        f"{round(100 * limit_share)}% of the stories stopped at the token limit "
        f"({snapshot.get('max_new_tokens')} new tokens)"
    )
    controlled = (
        (snapshot.get("repetition_penalty") or 1.0) != 1.0
        or snapshot.get("no_repeat_ngram_size")
        or snapshot.get("frequency_penalty")
        or snapshot.get("presence_penalty")
    )
    if not controlled:
        return f"{head}: raise max new tokens, or add repetition control to the model profile."
    return (
        f"{head} with repetition control on: the model runs on past its story. A story cut "
        "off there is never repaired into a pass; a fine-tune on a release teaches it to stop."
    )
