"""Generated texts: topics (from a theme) and stories (from a topic), with their provenance."""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from ..checks import REPETITIVE_RATIO, split_paragraphs
from .themes import Theme


class CheckedText(models.Model):
    """The columns of the automatic checks (``curation.checks.story_checks``), one per check
    field, for any stored text that is judged: stories here, evaluation samples in training.
    A new check field is a new column here (a test holds the two lists equal)."""

    paragraph_count = models.PositiveSmallIntegerField(default=0)
    word_count = models.PositiveIntegerField(default=0)
    cut_off = models.BooleanField(default=False)
    repeated_ngram_ratio = models.FloatField(default=0.0)
    not_english = models.BooleanField(default=False)
    # What the reply is instead of a story ("answer", "chatter", "meta", "heading", "list"), or "".
    not_story = models.CharField(max_length=16, blank=True, default="")
    too_short = models.BooleanField(default=False)
    echo = models.BooleanField(default=False)
    unfinished = models.BooleanField(default=False)
    # The results of checks added with curation.checks.check_register (no column of their own).
    checks = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def check_fields(cls, checks: dict) -> dict:
        """The fields to store for the results ``checks``: each built-in check in its column,
        the others in ``checks``."""
        return {
            **{name: checks[name] for name in CHECK_COLUMNS if name in checks},
            "checks": {name: value for name, value in checks.items() if name not in CHECK_COLUMNS},
        }


CHECK_COLUMNS = tuple(f.name for f in CheckedText._meta.fields if f.name != "checks")


class Provenance(models.Model):
    """How a generated text was made. Plain values, not foreign keys: curation does not depend
    on generation, and a record of provenance must not change when a profile is edited."""

    generation_job_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    model_name = models.CharField(max_length=200, blank=True)
    model_snapshot = models.JSONField(default=dict, blank=True)
    template_version = models.CharField(max_length=64, blank=True)
    prompt = models.TextField(blank=True)
    # The chat messages (system, user) that were sent, before any chat template.
    prompt_messages = models.JSONField(default=list, blank=True)
    sampling = models.JSONField(default=dict, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


def wanted_topic(prefix: str = "") -> Q:
    """The one definition of a topic still wanted: its theme approved, itself not rejected
    (``prefix``: the path to the topic, e.g. "topic__"). Stories of wanted topics go to
    reviewers; approved stories of approved wanted topics are exported; stories jobs write for
    wanted topics; evaluations hold out approved ones."""
    return Q(**{f"{prefix}theme__status": Theme.Status.APPROVED}) & ~Q(
        **{f"{prefix}status": "rejected"}
    )


class TopicQuerySet(models.QuerySet):
    def wanted(self):
        return self.filter(wanted_topic())


class Topic(Provenance):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="topics")
    text = models.CharField(max_length=500)
    text_key = models.CharField(max_length=2000, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Pre-flag: the most similar earlier topic (any theme) above the similarity threshold.
    similar_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    similarity = models.FloatField(null=True, blank=True)
    # Set when a reviewer rejects it as a duplicate of another topic.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["theme_id", "pk"]
        constraints = [
            # Exact and case-insensitive duplicates within a theme are stored once.
            models.UniqueConstraint(fields=["theme", "text_key"], name="topic_theme_text_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="topic_status_valid",
            ),
        ]
        indexes = [
            # Topic lists per job (job console) and eligibility filters by status.
            models.Index(fields=["status", "theme"], name="topic_status_theme_idx"),
        ]
        permissions = [("triage_topic", "Can approve or reject topics")]

    def __str__(self):
        return self.text


class StoryQuerySet(models.QuerySet):
    def reviewable(self):
        """Stories whose topic and theme are still wanted: only these go to reviewers."""
        return self.filter(wanted_topic("topic__"))

    def exportable(self):
        """Approved stories whose topic is not rejected and whose theme is approved."""
        return self.filter(wanted_topic("topic__"), status=Story.Status.APPROVED)

    @staticmethod
    def quality_figures() -> dict:
        """The story-quality aggregates, one definition for every page that shows them (a
        job's summary, the overview per model): stories, passed the gates as written (the
        headline), kept after the automatic repair, repaired, cut off. Use with
        ``aggregate(**...)`` or ``annotate(**...)``."""
        return {
            "n": Count("pk"),
            "as_written": Count("pk", filter=Q(passed_as_written=True)),
            "passed": Count("pk", filter=Q(auto_rejected=False)),
            "repaired": Count("pk", filter=~Q(auto_edited_text="")),
            "cut_off": Count("pk", filter=Q(cut_off=True)),
        }


class Story(Provenance, CheckedText):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ADJUDICATION = "adjudication", "Needs adjudication"

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="stories")
    text = models.TextField()
    sample_index = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Kept in step with the reviews, in the same transaction as each review.
    review_count = models.PositiveIntegerField(default=0)
    mean_overall = models.FloatField(null=True, blank=True)
    # One reviewer at a time may hold a story, until reserved_until.
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reserved_until = models.DateTimeField(null=True, blank=True)
    # Automatic checks (CheckedText, curation.checks), computed when the story is stored; and
    # the near-duplicate search in its theme.
    near_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The quality gates (curation.gates): an automatic edit (a story that ended on its own in
    # more than two paragraphs, re-paragraphed into two), kept beside the original text, which
    # never changes; the checks above judge the edit when there is one. auto_rejected: the
    # gates rejected it (an admin can reverse). passed_as_written: the text as the model wrote
    # it passes every reject gate (no repair needed).
    auto_edited_text = models.TextField(blank=True)
    original_paragraph_count = models.PositiveSmallIntegerField(null=True, blank=True)
    auto_rejected = models.BooleanField(default=False)
    passed_as_written = models.BooleanField(default=False)
    # The model judge's latest suggestion (JudgeSuggestion): does the story meet the brief?
    # None until a judge read it. Never a decision: reviewers decide.
    judge_passed = models.BooleanField(null=True, blank=True)

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A re-delivered task cannot write the same sample of a job twice.
            models.UniqueConstraint(
                fields=["generation_job_id", "topic", "sample_index"],
                name="story_job_topic_sample_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "adjudication"]),
                name="story_status_valid",
            ),
        ]
        indexes = [
            # Story lists by status, newest first.
            models.Index(fields=["status", "-created_at"], name="story_status_created_idx"),
            # The review queue: pending stories with the fewest reviews first.
            models.Index(fields=["status", "review_count", "id"], name="story_queue_idx"),
            # The story browser's default order (newest first), also for deep pages.
            models.Index(fields=["created_at", "id"], name="story_created_idx"),
            # The browser's other sorts (by score, words, reviews), first and deep pages.
            models.Index(fields=["mean_overall", "id"], name="story_score_idx"),
            models.Index(fields=["word_count", "id"], name="story_words_idx"),
            models.Index(fields=["review_count", "id"], name="story_reviews_idx"),
        ]
        permissions = [
            ("rate_story", "Can review and rate stories"),
            ("adjudicate_story", "Can decide stories that need adjudication"),
        ]

    def __str__(self):
        return self.text[:60]

    def get_absolute_url(self):
        return reverse("curation:story_detail", args=[self.pk])

    @property
    def judged_text(self) -> str:
        """What the checks judged and reviewers read: the automatic edit, or the text."""
        return self.auto_edited_text or self.text

    @property
    def paragraphs(self) -> list[str]:
        return split_paragraphs(self.judged_text)

    @property
    def is_repetitive(self) -> bool:
        return self.repeated_ngram_ratio >= REPETITIVE_RATIO

    @property
    def failed_checks(self) -> list[str]:
        """Labels of the automatic checks the (judged) story fails, for badges."""
        from ..gates import CHECKS

        return [check.label for check in CHECKS.values() if check.fails(self)]


class StoryBand(models.Model):
    """One LSH band of a story's MinHash signature (curation.near_duplicates): stories that
    share a band key are candidates for near-duplicates, across every theme. A story has
    ``BANDS`` rows; a story without rows is not indexed yet (the backlog task indexes it)."""

    key = models.BigIntegerField()
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["key"], name="storyband_key_idx"),
            models.Index(fields=["story"], name="storyband_story_idx"),
        ]

    def __str__(self):
        return f"band {self.key} of story {self.story_id}"
