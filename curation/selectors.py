"""Read queries of the curation app."""

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .agreement import disagreements
from .gates import CHECKS
from .models import CHECK_COLUMNS, Adjudication, Guidelines, Review, Story, Theme, ThemeEvent, Topic
from .text import text_key

STORY_SORTS = {
    "newest": "-created_at",
    "oldest": "created_at",
    "score": "-mean_overall",
    "score_low": "mean_overall",
    "words": "-word_count",
    "reviews": "-review_count",
}
TOPIC_FILTERS = ("pending", "flagged", "approved", "rejected", "all")


def theme_list(*, q: str = "", bucket: str = "all") -> QuerySet[Theme]:
    return Theme.objects.in_bucket(bucket).search(q).select_related("decided_by")


def theme_bucket_counts(*, q: str = "") -> dict[str, int]:
    """Counts per bucket for the themes matching the search (one query)."""
    return Theme.objects.search(q).bucket_counts()


def theme_events(*, theme: Theme) -> QuerySet[ThemeEvent]:
    return theme.events.select_related("actor")


def approved_themes() -> QuerySet[Theme]:
    """Approved themes by name, for filters and pickers."""
    return Theme.objects.filter(status=Theme.Status.APPROVED).order_by("name_key").only("name")


# --- topics ---------------------------------------------------------------------------------


def topic_list(
    *, status: str = "pending", theme_id: int | None = None, q: str = ""
) -> QuerySet[Topic]:
    """Topics for triage. ``status`` is one of TOPIC_FILTERS ("flagged": pending topics with a
    similar earlier topic); ``q`` searches the text (case-insensitive)."""
    topics = Topic.objects.select_related("theme", "similar_to__theme", "duplicate_of")
    if theme_id:
        topics = topics.filter(theme_id=theme_id)
    if q:
        topics = topics.filter(text_key__contains=text_key(q))
    if status == "flagged":
        topics = topics.filter(status=Topic.Status.PENDING, similar_to__isnull=False)
    elif status != "all":
        topics = topics.filter(status=status)
    return topics.order_by("theme__name_key", "pk")


def topic_themes() -> list[Theme]:
    """Themes that have topics, each with its number of pending topics (``pending``). The
    counts read the pending topics only (the status and theme index), not every topic."""
    pending = dict(
        Topic.objects.filter(status=Topic.Status.PENDING)
        .order_by()
        .values_list("theme_id")
        .annotate(n=Count("pk"))
    )
    themes = list(
        Theme.objects.filter(Exists(Topic.objects.filter(theme=OuterRef("pk")))).order_by(
            "name_key"
        )
    )
    for theme in themes:
        theme.pending = pending.get(theme.pk, 0)  # type: ignore[attr-defined]
    return themes


# --- stories and reviews ---------------------------------------------------------------------


def story_list(*, filters: dict) -> QuerySet[Story]:
    """Stories for the browser, filtered by whitelisted fields (see StoryFilterForm)."""
    stories = Story.objects.select_related("topic__theme")
    if filters.get("status"):
        stories = stories.filter(status=filters["status"])
    if filters.get("theme"):
        stories = stories.filter(topic__theme_id=filters["theme"])
    if filters.get("model"):
        stories = stories.filter(model_name=filters["model"])
    if filters.get("job"):
        stories = stories.filter(generation_job_id=filters["job"])
    for name in filters.get("check") or ():
        stories = stories.filter(CHECKS[name].where)
    if filters.get("decided_by") == "checks":
        stories = stories.filter(auto_rejected=True)
    elif filters.get("decided_by") == "admin":
        stories = stories.filter(
            Exists(Adjudication.objects.filter(story=OuterRef("pk"), admin__isnull=False))
        )
    if filters.get("disagree"):
        stories = stories.filter(disagreements(filters["disagree"]))
    if filters.get("topic_status"):
        stories = stories.filter(topic__status=filters["topic_status"])
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


# What a row of the story browser shows: only these columns are read (the JSON of the
# prompt, sampling and model snapshot is never decoded for a list).
STORY_ROW_FIELDS = (
    "pk",
    "text",
    "auto_edited_text",
    "original_paragraph_count",
    "status",
    "review_count",
    "mean_overall",
    "auto_rejected",
    "near_duplicate_of_id",
    "created_at",
    *CHECK_COLUMNS,
    "checks",
    "topic__text",
    "topic__status",
    "topic__theme__name",
    "topic__theme__status",
)


def story_rows(*, filters: dict) -> QuerySet[Story]:
    """The story browser's rows: story_list with only the columns a row shows."""
    return story_list(filters=filters).only(*STORY_ROW_FIELDS)


def story_reviews(*, story: Story) -> QuerySet[Review]:
    return story.reviews.select_related("reviewer").order_by("created_at", "pk")


def review_remaining(*, user, cap: int) -> int:
    """Stories still waiting for reviews that this user has not reviewed, counted up to
    ``cap + 1`` (more than ``cap`` is shown as such): the count reads at most that many rows
    of the queue's index, however many stories wait."""
    mine = Review.objects.filter(story=OuterRef("pk"), reviewer=user)
    return (
        Story.objects.reviewable()
        .filter(status=Story.Status.PENDING, review_count__lt=settings.STORYAPP_REVIEW_OVERLAP)
        .exclude(Exists(mine))
        .order_by()  # any rows will do for a count: no sort of every pending story
        .values("pk")[: cap + 1]
        .count()
    )


def adjudication_queue() -> QuerySet[Story]:
    """Stories the approval policy could not decide, oldest first."""
    return (
        Story.objects.filter(status=Story.Status.ADJUDICATION)
        .select_related("topic__theme")
        .order_by("pk")
    )


def adjudication_next(*, after: int) -> Story | None:
    """The next story waiting for an admin after ``after`` (then from the start)."""
    queue = adjudication_queue()
    return queue.filter(pk__gt=after).first() or queue.exclude(pk=after).first()


def guidelines_current() -> Guidelines | None:
    return Guidelines.objects.order_by("-updated_at").first()


def exportable_model_names() -> list[str]:
    """Models that wrote at least one exportable story, for the export form."""
    return list(
        Story.objects.exportable()
        .exclude(model_name="")
        .values_list("model_name", flat=True)
        .distinct()
        .order_by("model_name")
    )


def locked_usernames() -> set[str]:
    """Usernames the sign-in throttle holds locked now (from any client address)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def topic_passed_in_job(*, generation_job_id: int, topic_id: int) -> bool:
    """Whether a generation job stored a story of this topic that passed the gates (what
    "generate until it passes" asks curation before sampling the topic again)."""
    return Story.objects.filter(
        generation_job_id=generation_job_id, topic_id=topic_id, auto_rejected=False
    ).exists()
