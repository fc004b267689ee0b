"""Model profiles, prompt template versions, generation jobs and their items, model tests."""

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from storyapp.models import ClaimedWork, TrackedWork
from storyapp.names import NAME_MAX, name_constraint, validate_name


class ModelProfile(models.Model):
    """A model the app can call: where it lives, how to sample, which queue serves it."""

    class Role(models.TextChoices):
        TEACHER = "teacher", "Teacher"
        STUDENT = "student", "Student"
        # Judges stories and pairs of stories (training.judge): in production a large model
        # behind an OpenAI-compatible server.
        JUDGE = "judge", "Judge"

    class Backend(models.TextChoices):
        TRANSFORMERS = "transformers", "transformers (in-process)"
        OPENAI = "openai", "OpenAI-compatible server"

    # The fields people set (form, register_model, the service); name is the identity.
    EDITABLE_FIELDS = (
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
        "repetition_penalty",
        "no_repeat_ngram_size",
        "frequency_penalty",
        "presence_penalty",
        "extra_body",
    )

    name = models.CharField(max_length=NAME_MAX, unique=True, validators=[validate_name])
    # The name it had before the name rule, when a migration renamed it.
    renamed_from = models.CharField(max_length=200, blank=True, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices)
    backend = models.CharField(max_length=16, choices=Backend.choices)
    # transformers: a local folder; openai: the model name the server knows.
    model = models.CharField(max_length=500)
    gguf_file = models.CharField(max_length=300, blank=True)
    base_url = models.CharField(max_length=500, blank=True)
    # The NAME of an environment variable holding the key; the key itself is never stored.
    api_key_env = models.CharField(max_length=100, blank=True)
    max_new_tokens = models.PositiveIntegerField(default=256)
    temperature = models.FloatField(default=0.8)
    top_p = models.FloatField(default=0.95)
    seed = models.BigIntegerField(null=True, blank=True)
    # 0: pick the batch from the device (free GPU memory and the model's KV cache); CPU: 8.
    batch_size = models.PositiveIntegerField(default=0)
    concurrency = models.PositiveIntegerField(default=4)
    queue = models.CharField(max_length=50)
    # Repetition control. transformers: repetition_penalty (1 = off) and no_repeat_ngram_size
    # (0 = off); OpenAI-compatible servers: frequency_penalty and presence_penalty, plus
    # extra_body for server-specific fields (e.g. vLLM's repetition_penalty).
    repetition_penalty = models.FloatField(default=1.0)
    no_repeat_ngram_size = models.PositiveSmallIntegerField(default=0)
    frequency_penalty = models.FloatField(default=0.0)
    presence_penalty = models.FloatField(default=0.0)
    extra_body = models.JSONField(default=dict, blank=True)
    # Lineage of a fine-tuned model: the model it was trained from, and on which release.
    base_model = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived"
    )
    release = models.ForeignKey(
        "curation.DatasetExport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trained_models",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            name_constraint("modelprofile"),
            models.CheckConstraint(
                condition=Q(backend="transformers") | ~Q(base_url=""),
                name="modelprofile_openai_needs_base_url",
            ),
            models.CheckConstraint(
                condition=Q(temperature__gte=0) & Q(temperature__lte=5),
                name="modelprofile_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(top_p__gt=0) & Q(top_p__lte=1), name="modelprofile_top_p_range"
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=0) & Q(concurrency__gte=1),
                name="modelprofile_parallelism_positive",
            ),
        ]
        permissions = [("test_modelprofile", "Can run a test generation on a model")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("generation:model_detail", args=[self.name])

    @property
    def extra_body_json(self) -> str:
        """The extra request fields as the server gets them (JSON), for the model's page."""
        return json.dumps(self.extra_body, sort_keys=True)

    @property
    def items_per_claim(self) -> int:
        """How many items one claim takes: a local batch, or the requests a server gets at once."""
        if self.backend == self.Backend.TRANSFORMERS:
            return self.batch_size or 8
        return self.concurrency

    def sampling(self) -> dict:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "repetition_penalty": self.repetition_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "extra_body": self.extra_body,
        }

    def snapshot(self) -> dict:
        """What made an output, frozen at generation time. Never contains a secret."""
        return {
            "name": self.name,
            "role": self.role,
            "backend": self.backend,
            "model": self.model,
            "gguf_file": self.gguf_file,
            "base_url": self.base_url,
            **self.sampling(),
        }


class PromptTemplate(models.Model):
    """A versioned prompt. Outputs point at the version that made them; versions never change."""

    class Kind(models.TextChoices):
        TOPICS = "topics", "Topics from a theme"
        STORY = "story", "Story from a topic"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField()
    system = models.TextField()
    user = models.TextField()
    # The same prompt as one literal text, for completion endpoints ("raw" mode).
    raw = models.TextField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="prompttemplate_kind_version")
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.kind} v{self.version}"


class GenerationJob(TrackedWork):
    class Kind(models.TextChoices):
        TOPICS = "topics", "Topics"
        STORIES = "stories", "Stories"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FINISHED_WITH_ERRORS = "finished_with_errors", "Finished with errors"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (
        Status.SUCCEEDED,
        Status.FINISHED_WITH_ERRORS,
        Status.FAILED,
        Status.CANCELLED,
    )

    class PromptMode(models.TextChoices):
        CHAT = "chat", "Chat template"
        RAW = "raw", "Raw [INST] text"

    # The prompt template kind each job kind renders.
    TEMPLATE_KIND: dict[str, str] = {
        Kind.TOPICS: PromptTemplate.Kind.TOPICS,
        Kind.STORIES: PromptTemplate.Kind.STORY,
    }

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED)
    model = models.ForeignKey(ModelProfile, on_delete=models.PROTECT, related_name="jobs")
    template = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="jobs")
    prompt_mode = models.CharField(
        max_length=8, choices=PromptMode.choices, default=PromptMode.CHAT
    )
    queue_name = models.CharField(max_length=50)
    model_snapshot = models.JSONField(default=dict)
    per_input = models.PositiveIntegerField(default=1)
    # Stories jobs: generate again (new seed) for a topic whose stories all fail the quality
    # gates, up to this many samples per topic; 0: off.
    until_pass = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # Console list, newest first, and the "work waiting on queue X" warning.
            models.Index(fields=["status", "queue_name"], name="job_status_queue_idx"),
        ]
        permissions = [("launch_job", "Can launch, cancel and retry generation jobs")]

    def __str__(self):
        return f"#{self.pk} {self.kind}"

    def get_absolute_url(self):
        return reverse("generation:job_detail", args=[self.pk])


class JobItem(models.Model):
    """One unit of a job: a theme (topics job) or one sample of a topic (stories job)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.DONE, Status.FAILED)

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=100)
    theme_id = models.PositiveBigIntegerField(null=True, blank=True)
    topic_id = models.PositiveBigIntegerField(null=True, blank=True)
    sample_index = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    prompt = models.TextField(blank=True)
    raw_output = models.TextField(blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    outputs = models.PositiveIntegerField(default=0)
    short = models.BooleanField(default=False)
    # The reply ran past STORYAPP_MAX_TEXT_CHARS and was stored cut at that bound.
    cut_at_bound = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="jobitem_job_key_unique"),
        ]
        indexes = [
            # Claiming the next pending items of a job, and the per-status counts.
            models.Index(fields=["job", "status"], name="jobitem_job_status_idx"),
            # The sweeper: claimed items whose heartbeat is old.
            models.Index(fields=["status", "heartbeat_at"], name="jobitem_status_heartbeat_idx"),
        ]

    def __str__(self):
        return f"{self.job_id}:{self.key}"


class ModelTest(ClaimedWork):
    """One short test generation on a profile, run as a task (storyapp.claims.run_claimed); the
    page polls for its outcome. Never retried: the sweeper fails one whose worker died."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    WAITING = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    profile = models.ForeignKey(ModelProfile, on_delete=models.CASCADE, related_name="tests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    output = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"test {self.pk} of {self.profile_id}"

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING
