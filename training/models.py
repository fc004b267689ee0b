"""Closing the loop: fine-tunes of a student on a release, held-out evaluations, and blind
pairwise comparisons by reviewers. Each row links to the one before it: that is the lineage
(release -> fine-tune -> model -> evaluations -> comparisons)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from curation.models import CheckedText, DatasetExport, Topic
from generation.models import ModelProfile
from storyapp.models import ClaimedWork
from storyapp.names import NAME_MAX, name_constraint, validate_name


class TrainingWork(ClaimedWork):
    """A fine-tune or an evaluation: claimed work (storyapp.models.ClaimedWork) that people can
    cancel."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        abstract = True


class FineTuneJob(TrainingWork):
    """Fine-tune a base student on a release's train split; the result is a new model."""

    class Method(models.TextChoices):
        FULL = "full", "Full fine-tune"
        LORA = "lora", "LoRA (peft)"

    release = models.ForeignKey(DatasetExport, on_delete=models.PROTECT, related_name="finetunes")
    base = models.ForeignKey(ModelProfile, on_delete=models.PROTECT, related_name="finetunes")
    # The name of the model profile (and of its folder under var/models/) it produces.
    name = models.CharField(max_length=NAME_MAX, unique=True, validators=[validate_name])
    # The name it had before the name rule, when a migration renamed it.
    renamed_from = models.CharField(max_length=200, blank=True, editable=False)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.FULL)
    lora_rank = models.PositiveSmallIntegerField(default=16)
    lora_alpha = models.PositiveSmallIntegerField(default=32)
    lora_dropout = models.FloatField(default=0.05)
    lora_targets = models.JSONField(default=list, blank=True)
    epochs = models.FloatField(default=1.0)
    learning_rate = models.FloatField(default=5e-5)
    max_length = models.PositiveIntegerField(default=512)
    batch_size = models.PositiveSmallIntegerField(default=4)
    seed = models.BigIntegerField(default=42)
    # Live progress (written by the run's heartbeat).
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    tokens_seen = models.PositiveBigIntegerField(default=0)
    tokens_per_second = models.FloatField(null=True, blank=True)
    losses = models.JSONField(default=list, blank=True)  # [[step, loss], ...]
    # What the run does now ("measuring the base model on validation"), written with its beat.
    phase = models.CharField(max_length=60, blank=True)
    device = models.CharField(max_length=32, blank=True)
    # Validation loss on the release's validation split, story tokens only.
    base_val_loss = models.FloatField(null=True, blank=True)
    tuned_val_loss = models.FloatField(null=True, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    output_model = models.OneToOneField(
        ModelProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="finetune"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            name_constraint("finetune"),
            models.CheckConstraint(
                condition=Q(epochs__gt=0) & Q(learning_rate__gt=0), name="finetune_positive"
            ),
        ]
        indexes = [
            # The sweeper: running jobs whose heartbeat is old.
            models.Index(fields=["status", "heartbeat_at"], name="finetune_status_beat_idx"),
        ]
        permissions = [("launch_finetune", "Can launch fine-tunes and evaluations")]

    def __str__(self):
        return f"fine-tune {self.name}"

    def get_absolute_url(self):
        return reverse("training:finetune_detail", args=[self.pk])


class Evaluation(TrainingWork):
    """Stories from two or more models for the same held-out topics, with the same sampling and
    seeds, judged by the automatic checks and gates."""

    name = models.CharField(max_length=200)
    release = models.ForeignKey(
        DatasetExport, null=True, blank=True, on_delete=models.PROTECT, related_name="evaluations"
    )
    profiles = models.ManyToManyField(ModelProfile, related_name="evaluations")
    topic_ids = models.JSONField(default=list)
    sampling = models.JSONField(default=dict)
    seed = models.BigIntegerField(default=42)
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="evaluation_status_beat_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("training:evaluation_detail", args=[self.pk])


class EvaluationSample(CheckedText):
    """One story of one model for one topic of an evaluation, with its checks."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="samples")
    model = models.ForeignKey(ModelProfile, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    judged_text = models.TextField(blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The checks of the story as the model wrote it: CheckedText's columns.
    repaired = models.BooleanField(default=False)
    # Passes the quality gates as written (no repair): what the model does on its own.
    passed = models.BooleanField(default=False)
    # Passes them after the automatic repair: what curation would keep.
    usable = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "model", "topic"], name="sample_once_per_model_topic"
            )
        ]

    def __str__(self):
        return f"{self.evaluation_id}:{self.model_id}:{self.topic_id}"


class ComparisonPair(models.Model):
    """Two stories for the same topic from two models of an evaluation, to be judged blind."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="pairs")
    a = models.ForeignKey(EvaluationSample, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(EvaluationSample, on_delete=models.CASCADE, related_name="+")
    judgments_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="pair_once"),
            models.CheckConstraint(condition=~Q(a=models.F("b")), name="pair_two_samples"),
        ]
        indexes = [
            # "Next pair for me": pairs with the fewest judgments first.
            models.Index(fields=["judgments_count", "id"], name="pair_queue_idx"),
        ]

    def __str__(self):
        return f"pair {self.pk}"


class Judgment(models.Model):
    """A reviewer's blind verdict on a pair. The order shown is drawn at random when the pair
    is served (``left_is_a``); ``winner`` says which sample won, whatever side it was on."""

    class Winner(models.TextChoices):
        A = "a", "A"
        B = "b", "B"
        TIE = "tie", "Tie"

    pair = models.ForeignKey(ComparisonPair, on_delete=models.CASCADE, related_name="judgments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    left_is_a = models.BooleanField()
    winner = models.CharField(max_length=4, choices=Winner.choices, blank=True)
    reason = models.TextField(blank=True)
    served_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "reviewer"], name="judgment_once_per_pair")
        ]
        permissions = [("compare_stories", "Can judge blind pairwise comparisons")]

    def __str__(self):
        return f"judgment {self.pk}"

    @property
    def left_won(self) -> bool | None:
        if self.winner in ("", self.Winner.TIE):
            return None
        return (self.winner == self.Winner.A) == self.left_is_a


class JudgeRun(TrainingWork):
    """A model judge at work (training.judge): ``pairs``: every blind pair of an evaluation,
    in both orders; ``stories``: the brief point by point for each of ``story_ids``, stored as
    suggestions. Claimed work like the rest: a killed worker's run is taken back and goes on
    where it stopped (verdicts already stored are kept)."""

    class Kind(models.TextChoices):
        PAIRS = "pairs", "Pairs of an evaluation"
        STORIES = "stories", "Single stories"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    judge = models.ForeignKey(ModelProfile, on_delete=models.PROTECT, related_name="judge_runs")
    prompt_version = models.CharField(max_length=64)
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="judge_runs"
    )
    story_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Progress: requests to make and made; tokens the judge read and wrote.
    total = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    unreadable = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="stories") | Q(evaluation__isnull=False),
                name="judgerun_pairs_have_evaluation",
            )
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="judgerun_status_beat_idx"),
        ]

    def __str__(self):
        return f"judge run {self.pk}"

    def get_absolute_url(self):
        return reverse("training:judge_run_detail", args=[self.pk])


class PairVerdict(models.Model):
    """The judge's verdict on one pair shown in one order (``a_first``: sample a was shown as
    story 1). ``winner`` names the sample ("a", "b", "tie"), "" when the reply could not be
    read; the two orders together make the judge's verdict on the pair (a winner that flips
    with the order is a tie)."""

    run = models.ForeignKey(JudgeRun, on_delete=models.CASCADE, related_name="verdicts")
    pair = models.ForeignKey(ComparisonPair, on_delete=models.CASCADE, related_name="verdicts")
    a_first = models.BooleanField()
    winner = models.CharField(max_length=4, blank=True)
    rationale = models.TextField(blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "pair", "a_first"], name="verdict_once"),
            models.CheckConstraint(
                condition=Q(winner__in=["a", "b", "tie", ""]), name="verdict_winner_valid"
            ),
        ]

    def __str__(self):
        return f"verdict {self.pk}"

    @property
    def first_won(self) -> bool | None:
        """Did the story shown first win? None for a tie or an unreadable reply."""
        if self.winner not in ("a", "b"):
            return None
        return (self.winner == "a") == self.a_first


class Round(models.Model):
    """One round of distillation: a release, the fine-tune on it, the tuned model and its
    held-out evaluation. A round after the first starts from the previous round's model: the
    stories job that model writes, then a release with the previous release's options, a
    fine-tune with the previous fine-tune's settings, and an evaluation against the base and
    the previous round's model (training.services.rounds). Each step links the one before it,
    so the lineage runs through every round."""

    class Topics(models.TextChoices):
        APPROVED = "approved", "Approved topics"
        NOT_REJECTED = "not-rejected", "Every topic not rejected"

    number = models.PositiveSmallIntegerField()
    # Which topics the next round's stories job takes (the same in every round of a chain).
    topics = models.CharField(max_length=16, choices=Topics.choices, default=Topics.APPROVED)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_round"
    )
    stories_job = models.ForeignKey(
        "generation.GenerationJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    release = models.ForeignKey(
        DatasetExport, null=True, blank=True, on_delete=models.PROTECT, related_name="rounds"
    )
    finetune = models.OneToOneField(
        FineTuneJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="round"
    )
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["number", "pk"]

    def __str__(self):
        return f"round {self.number}"

    @property
    def model(self) -> ModelProfile | None:
        return self.finetune.output_model if self.finetune else None
