"""Read queries of the curation app."""

from django.db.models import QuerySet

from .models import Theme, ThemeEvent


def theme_list(*, q: str = "", bucket: str = "all") -> QuerySet[Theme]:
    return Theme.objects.in_bucket(bucket).search(q).select_related("decided_by")


def theme_bucket_counts(*, q: str = "") -> dict[str, int]:
    """Counts per bucket for the themes matching the search (one query)."""
    return Theme.objects.search(q).bucket_counts()


def theme_events(*, theme: Theme) -> QuerySet[ThemeEvent]:
    return theme.events.select_related("actor")


# --- stories and reviews ---------------------------------------------------------------------


def story_list(*, filters: dict):
    """Stories for the browser, filtered by whitelisted fields (see StoryFilterForm)."""
    from django.db.models import Exists, OuterRef, Q

    from .forms import STORY_SORTS
    from .models import Review, Story

    stories = Story.objects.select_related("topic__theme")
    if filters.get("status"):
        stories = stories.filter(status=filters["status"])
    if filters.get("theme"):
        stories = stories.filter(topic__theme_id=filters["theme"])
    if filters.get("model"):
        stories = stories.filter(model_name=filters["model"])
    if filters.get("job"):
        stories = stories.filter(generation_job_id=filters["job"])
    checks = set(filters.get("check") or ())
    if "paragraphs" in checks:
        stories = stories.exclude(paragraph_count=2)
    if "cut_off" in checks:
        stories = stories.filter(cut_off=True)
    if "repetitive" in checks:
        stories = stories.filter(repeated_ngram_ratio__gte=REPETITIVE_RATIO)
    if "near_duplicate" in checks:
        stories = stories.filter(near_duplicate_of__isnull=False)
    if "not_english" in checks:
        stories = stories.filter(not_english=True)
    if filters.get("min_score") is not None:
        stories = stories.filter(mean_overall__gte=filters["min_score"])
    if filters.get("max_score") is not None:
        stories = stories.filter(mean_overall__lte=filters["max_score"])
    if filters.get("reviewer"):
        stories = stories.filter(
            Exists(
                Review.objects.filter(story=OuterRef("pk"), reviewer__username=filters["reviewer"])
            )
        )
    if filters.get("q"):
        stories = stories.filter(
            Q(text__icontains=filters["q"]) | Q(topic__text__icontains=filters["q"])
        )
    order = STORY_SORTS[filters.get("sort") or "newest"]
    return stories.order_by(order, "-pk" if order.startswith("-") else "pk")


REPETITIVE_RATIO = 0.2


def story_reviews(*, story):
    return story.reviews.select_related("reviewer").order_by("created_at", "pk")
