"""Fine-tune jobs: create (validated, queued on ``train``), run (claimed, beating, cancellable,
crash-safe), and register the result as a new student profile linked to its release and base.

The model folder appears under ``var/models/<name>/`` in one rename of a complete folder, and
the profile is registered in the same transaction that marks the job done: a killed worker
never leaves a half-written folder registered. A rerun starts the training again.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from curation.models import DatasetExport
from curation.releases import export_folder, format_of
from generation.models import ModelProfile
from storyapp.names import NAME_HELP, name_valid
from storyapp.params import SEED_HELP, Range, seed_valid

from .. import tasks
from ..models import FineTuneJob
from ..trainer import MaxLengthTooShort, check_max_length
from .paths import models_root

logger = logging.getLogger(__name__)

# Models under this many parameters default to a full fine-tune; larger ones to LoRA.
FULL_BELOW_PARAMETERS = 500_000_000


def _parameters(folder: str) -> int | None:
    """The parameter count from a model folder's config (no weights loaded), when known."""
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(folder)
        hidden, layers = config.hidden_size, config.num_hidden_layers
        inner = getattr(config, "intermediate_size", 4 * hidden)
        return layers * (4 * hidden * hidden + 3 * hidden * inner) + config.vocab_size * hidden
    except Exception:
        return None


def default_method(base: ModelProfile) -> str:
    n = _parameters(base.model)
    return FineTuneJob.Method.LORA if n and n >= FULL_BELOW_PARAMETERS else FineTuneJob.Method.FULL


# The ranges of a fine-tune's settings, here once: the service enforces them, the form and the
# command read them.
LIMITS = {
    "epochs": Range(
        0, 20, "Epochs must be more than 0 and at most 20.", open_low=True, whole=False
    ),
    "learning_rate": Range(
        0, 1e-2, "The learning rate must be in (0, 0.01].", open_low=True, whole=False
    ),
    "max_length": Range(16, 8192, "Max length must be 16-8192 tokens."),
    "batch_size": Range(1, 512, "Batch size must be 1-512."),
    "lora_rank": Range(1, 512, "LoRA rank must be 1-512."),
    "lora_alpha": Range(1, 1024, "LoRA alpha must be 1-1024."),
    "lora_dropout": Range(0, 0.99, "LoRA dropout must be in [0, 0.99].", whole=False),
}


@transaction.atomic
def finetune_create(
    *,
    release: DatasetExport,
    base: ModelProfile,
    name: str,
    method: str | None = None,
    epochs: float = 1.0,
    learning_rate: float = 5e-5,
    max_length: int = 512,
    batch_size: int = 4,
    seed: int = 42,
    lora_rank: int = 16,
    lora_alpha: int = 32,
    lora_dropout: float = 0.05,
    lora_targets=(),
    actor=None,
    enqueue: bool = True,
) -> FineTuneJob:
    """Validate and queue a fine-tune of ``base`` on ``release``; the new model is ``name``."""
    errors = []
    if release.status != DatasetExport.Status.DONE:
        errors.append(ValidationError("The release is not finished.", code="release_not_done"))
    elif not format_of(release.format).trainable:
        errors.append(
            ValidationError(format_of(release.format).why_not_trainable, code="release_format")
        )
    if base.backend != ModelProfile.Backend.TRANSFORMERS:
        errors.append(
            ValidationError(
                "The base must be a local (transformers) model: its weights are trained here.",
                code="base_not_local",
            )
        )
    if not name_valid(name):
        errors.append(
            ValidationError(
                "The new model's name uses %(help)s.", code="name", params={"help": NAME_HELP}
            )
        )
    elif (
        ModelProfile.objects.filter(name=name).exists()
        or FineTuneJob.objects.filter(name=name).exists()
        or (models_root() / name).exists()
    ):
        errors.append(
            ValidationError(
                "A model named %(name)s exists.", code="name_taken", params={"name": name}
            )
        )
    method = method or default_method(base)
    if method not in FineTuneJob.Method.values:
        errors.append(ValidationError("Method must be full or lora.", code="method"))
    values = {
        "epochs": epochs,
        "learning_rate": learning_rate,
        "max_length": max_length,
        "batch_size": batch_size,
        "lora_rank": lora_rank,
        "lora_alpha": lora_alpha,
        "lora_dropout": lora_dropout,
    }
    errors += [
        LIMITS[name].error(name) for name, value in values.items() if not LIMITS[name].holds(value)
    ]
    if not seed_valid(seed):
        errors.append(ValidationError(f"The seed is {SEED_HELP}.", code="seed"))
    if errors:
        raise ValidationError(errors)
    try:
        check_max_length(max_length, base.model, export_folder(release), release.format)
    except MaxLengthTooShort as exc:
        raise ValidationError(str(exc), code="max_length_too_short") from None
    except Exception:  # noqa: BLE001  (an unreadable base or release: the run reports it)
        logger.info("fine-tune %s: max length not checked before the run", name, exc_info=True)
    try:
        with transaction.atomic():
            job = FineTuneJob.objects.create(
                release=release,
                base=base,
                name=name,
                method=method,
                epochs=epochs,
                learning_rate=learning_rate,
                max_length=max_length,
                batch_size=batch_size,
                seed=seed,
                lora_rank=lora_rank,
                lora_alpha=lora_alpha,
                lora_dropout=lora_dropout,
                lora_targets=list(lora_targets),
                created_by=actor,
            )
    except IntegrityError:
        raise ValidationError(
            "A model named %(name)s exists.", code="name_taken", params={"name": name}
        ) from None
    if enqueue:
        tasks.finetune_enqueue(job_id=job.pk)
    return job


@transaction.atomic
def finetune_cancel(*, job: FineTuneJob) -> None:
    """Stop the training at the next step (a queued job is cancelled at once)."""
    FineTuneJob.objects.filter(pk=job.pk, status=FineTuneJob.Status.QUEUED).update(
        status=FineTuneJob.Status.CANCELLED, finished_at=timezone.now()
    )
    FineTuneJob.objects.filter(pk=job.pk).update(cancel_requested=True)
