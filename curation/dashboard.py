"""Dashboard aggregates, from the shared cache.

Two parts: the figures people act on (counts, reviews per day, score distribution, per
reviewer) are dropped from the cache whenever a review or decision is recorded, so they are
always current; the statistics that need every review (agreement, per-model intervals) are
recomputed at most every few minutes, with their time shown."""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta
from statistics import median
from typing import Any, cast

import numpy as np
from django.core.cache import cache
from django.db.models import Avg, Count, Q, StdDev
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Review, Story, StoryQuerySet, Theme, Topic

CACHE_KEY = "dashboard:current"
STATS_CACHE_KEY = "dashboard:statistics"
CACHE_SECONDS = 120
STATS_CACHE_SECONDS = 600
AGREEMENT_SAMPLE = 20000


def dashboard_invalidate() -> None:
    cache.delete(CACHE_KEY)


def _counts() -> dict:
    themes = Theme.objects.bucket_counts()
    topics = _status_counts(Topic)
    stories = _status_counts(Story)
    return {"themes": themes, "topics": topics, "stories": stories}


def _status_counts(model) -> dict[str, int]:
    """{"all": n, <status>: n, ...} for every status of ``model``, in one query."""
    return model.objects.aggregate(
        all=Count("pk"),
        **{status: Count("pk", filter=Q(status=status)) for status in model.Status.values},
    )


def _reviews_per_day(days: int = 30) -> list[dict]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        Review.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return [{"day": row["day"].isoformat(), "n": row["n"]} for row in rows]


def _per_model() -> list[dict]:
    rows = (
        Review.objects.values("story__model_name")
        .annotate(n=Count("pk"), mean=Avg("overall"), sd=StdDev("overall"))
        .order_by("story__model_name")
    )
    result = []
    for row in rows:
        n, mean, sd = row["n"], row["mean"], row["sd"] or 0.0
        half = 1.96 * sd / math.sqrt(n) if n > 1 else None
        result.append(
            {
                "model": row["story__model_name"] or "(unknown)",
                "n": n,
                "mean": round(mean, 2),
                "low": round(mean - half, 2) if half is not None else None,
                "high": round(mean + half, 2) if half is not None else None,
            }
        )
    return result


def _model_quality() -> list[dict]:
    """Per model: stories written, share passed as written, through the quality gates,
    repaired, cut off, approved by reviewers, mean words."""
    # Rows of plain dicts: the figures' names come from quality_figures().
    rows = cast(
        Iterable[dict[str, Any]],
        Story.objects.values("model_name")
        .annotate(
            **StoryQuerySet.quality_figures(),
            approved=Count("pk", filter=Q(status=Story.Status.APPROVED)),
            words=Avg("word_count"),
        )
        .order_by("model_name"),
    )
    return [
        {
            "model": row["model_name"] or "(unknown)",
            "n": row["n"],
            **{
                f"{key}_share": round(row[key] / row["n"], 3)
                for key in ("as_written", "passed", "repaired", "cut_off", "approved")
            },
            "words": round(row["words"] or 0, 1),
        }
        for row in rows
    ]


def _distribution() -> list[dict]:
    counts = dict(Review.objects.values_list("overall").annotate(n=Count("pk")))
    total = sum(counts.values()) or 1
    return [
        {"score": s, "n": counts.get(s, 0), "share": counts.get(s, 0) / total} for s in range(1, 6)
    ]


def _agreement() -> dict:
    """Krippendorff's alpha (ordinal) per axis, over the most recent multiply-reviewed stories."""
    import krippendorff

    # One query, unordered: sorting the reviews (their default order) cost most of the time.
    recent = Story.objects.filter(review_count__gte=2).order_by("-pk").values("pk")
    rows = list(
        Review.objects.filter(story_id__in=recent[:AGREEMENT_SAMPLE])
        .order_by()
        .values_list("reviewer_id", "story_id", *Review.SCORE_AXES)
    )
    if not rows:
        return {}
    reviewers = {r: i for i, r in enumerate(sorted({row[0] for row in rows}))}
    units = {s: i for i, s in enumerate(sorted({row[1] for row in rows}))}
    result: dict[str, object] = {}
    for axis_index, axis in enumerate(Review.SCORE_AXES):
        # Only the reviews that rated this axis count: an axis left empty is not a rating.
        matrix = np.full((len(reviewers), len(units)), np.nan)
        ratings: Counter[int] = Counter()
        for row in rows:
            value = row[2 + axis_index]
            if value is not None:
                matrix[reviewers[row[0]], units[row[1]]] = value
                ratings[row[1]] += 1
        rated = sum(1 for n in ratings.values() if n >= 2)
        alpha = None
        if rated >= 2:
            try:
                alpha = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
            except (ValueError, ZeroDivisionError):
                alpha = None
        value = None if alpha is None or math.isnan(alpha) else round(float(alpha), 3)
        result[axis] = {"alpha": value, "stories": rated}
    result["stories"] = len(units)
    return result


def _per_reviewer() -> list[dict]:
    rows = Review.objects.values("reviewer__username").annotate(n=Count("pk")).order_by("-n")[:50]
    seconds: defaultdict[str, list[int]] = defaultdict(list)
    names = [row["reviewer__username"] for row in rows]
    recent = (
        Review.objects.filter(reviewer__username__in=names, seconds_spent__isnull=False)
        .order_by("-pk")
        .values_list("reviewer__username", "seconds_spent")[:20000]
    )
    for name, spent in recent:
        if spent is not None:  # filtered out above; the type does not know
            seconds[name].append(spent)
    return [
        {
            "reviewer": row["reviewer__username"],
            "n": row["n"],
            "median_seconds": median(seconds[row["reviewer__username"]])
            if seconds[row["reviewer__username"]]
            else None,
        }
        for row in rows
    ]


def dashboard_data() -> dict:
    def current():
        return {
            "counts": _counts(),
            "per_day": _reviews_per_day(),
            "distribution": _distribution(),
            "per_reviewer": _per_reviewer(),
        }

    def statistics():
        return {
            "per_model": _per_model(),
            "model_quality": _model_quality(),
            "agreement": _agreement(),
            "computed_at": timezone.now(),
        }

    return {
        **(cache.get_or_set(CACHE_KEY, current, CACHE_SECONDS) or {}),
        **(cache.get_or_set(STATS_CACHE_KEY, statistics, STATS_CACHE_SECONDS) or {}),
    }
