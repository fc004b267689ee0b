"""The training itself: TRL's SFTTrainer on a release in the prompt-completion form, so the
loss is on the story tokens only (the prompt is masked). CUDA and bf16 when present, CPU
otherwise. On a multi-GPU box, the same code runs under ``accelerate launch`` (see README).

Pure of the database: the service gives it the job's settings and callbacks, and saves.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from curation.releases import SPLITS, ReleaseNotTrainable, release_records

logger = logging.getLogger(__name__)


def shortest_prompt_tokens(base_folder: str, records: list[dict]) -> int:
    """The fewest tokens any record's prompt takes with the base's tokenizer (chat template
    applied, as the trainer does)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    texts = [
        tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        if isinstance(r["prompt"], list)
        else r["prompt"]
        for r in records
    ]
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return min(len(ids) for ids in encoded)


def check_max_length(max_length: int, base_folder: str, release_folder: Path, fmt: str) -> None:
    """Refuse a max length that leaves no story token in any record: every token would be
    masked away (the loss would be on nothing), and the validation loss would not exist."""
    train = release_records(release_folder, "train", fmt)
    if not train:
        return
    shortest = shortest_prompt_tokens(base_folder, train)
    if max_length <= shortest:
        raise MaxLengthTooShort(
            f"Max length {max_length} leaves no story token: the shortest prompt in this "
            f"release takes {shortest} tokens. Use at least {shortest + 1} (a whole story "
            f"needs about {shortest + 256})."
        )


class MaxLengthTooShort(ValueError):
    pass


@dataclass
class Settings:
    base_folder: str
    method: str = "full"
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list = field(default_factory=list)
    epochs: float = 1.0
    learning_rate: float = 5e-5
    max_length: int = 512
    batch_size: int = 4
    seed: int = 42
    # Off: on the CPU and for small models it costs a third more compute and buys memory
    # nobody needs (bench/training.py --throughput). On for a model that does not fit.
    gradient_checkpointing: bool = False


@dataclass
class Progress:
    """Read by the run's heartbeat thread, written by the training loop."""

    step: int = 0
    total_steps: int = 0
    tokens_seen: int = 0
    started: float = field(default_factory=time.perf_counter)
    losses: list = field(default_factory=list)
    # What the run does now, for the page: the steps stay at 0 while the model loads and
    # the base is measured, which takes minutes on a CPU.
    phase: str = ""

    @property
    def tokens_per_second(self) -> float | None:
        elapsed = time.perf_counter() - self.started
        return self.tokens_seen / elapsed if self.tokens_seen and elapsed > 0 else None


@dataclass
class Outcome:
    base_val_loss: float | None
    tuned_val_loss: float | None
    seconds: float
    device: str
    steps: int
    tokens_seen: int


def device_name() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_trainer(
    settings: Settings,
    train: list[dict],
    validation: list[dict],
    output_dir,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = bool,
):
    """An SFTTrainer for these records (exposed so tests can look at its batches)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(settings.base_folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        settings.base_folder, dtype=torch.bfloat16 if cuda else torch.float32
    )
    peft_config = None
    if settings.method == "lora":
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=settings.lora_rank,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules=settings.lora_targets or "all-linear",
            task_type="CAUSAL_LM",
        )
    config = SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        max_length=settings.max_length,
        seed=settings.seed,
        data_seed=settings.seed,
        bf16=cuda,
        completion_only_loss=True,  # the loss is on the story, never on the prompt
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        disable_tqdm=True,
        include_num_input_tokens_seen="all",
        dataloader_num_workers=0,
        use_cpu=not cuda,
        gradient_checkpointing=settings.gradient_checkpointing,
    )

    class Report(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if progress:
                progress.total_steps = state.max_steps
                progress.started = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if progress and logs and "loss" in logs:
                loss = float(logs["loss"])
                progress.losses.append([state.global_step, round(loss, 4)])
                logger.info("step %d/%d: loss %.4f", state.global_step, state.max_steps, loss)

        def on_step_end(self, args, state, control, **kwargs):
            if progress:
                progress.step = state.global_step
                progress.tokens_seen = int(state.num_input_tokens_seen or 0)
            if should_stop():
                control.should_training_stop = True

    class StoryTrainer(SFTTrainer):
        """TRL's SFTTrainer with the model's own loss (the story tokens only: the collator
        labels the prompt -100). TRL's own loss runs a fused LM head that also computes the
        entropy and token accuracy of every position for its logs: a quarter of each step on
        a CPU (bench/training.py --throughput), for figures nobody reads here."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            return Trainer.compute_loss(
                self,
                model,
                {**inputs, "use_cache": False},
                return_outputs=return_outputs,
                num_items_in_batch=num_items_in_batch,
            )

    trainer = StoryTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(validation) if validation else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[Report()],
    )
    # Progress goes to the job (and the log), never to stdout, which belongs to the caller
    # (``manage.py finetune`` prints its outcome there as JSON).
    trainer.remove_callback(PrinterCallback)
    return trainer


def fine_tune(
    settings: Settings,
    release_folder: Path,
    fmt: str,
    save_to: Path,
    *,
    progress: Progress,
    should_stop: Callable[[], bool],
) -> Outcome | None:
    """Train, measure the validation loss before and after, and save the tuned model (merged,
    for LoRA) into ``save_to``. None when it was stopped (cancelled) before the end."""
    train, validation = (release_records(release_folder, s, fmt) for s in SPLITS)
    if not train:
        raise ReleaseNotTrainable("The release's train split is empty.")
    check_max_length(settings.max_length, settings.base_folder, release_folder, fmt)
    started = time.perf_counter()
    progress.phase = "loading the model"
    trainer = build_trainer(
        settings,
        train,
        validation,
        save_to.parent / f"{save_to.name}-checkpoints",
        progress=progress,
        should_stop=should_stop,
    )
    progress.phase = "measuring the base model on validation"
    base_loss = trainer.evaluate().get("eval_loss") if validation else None
    progress.phase = "training"
    state = trainer.train()
    if should_stop():
        return None
    progress.phase = "measuring the tuned model on validation"
    tuned_loss = trainer.evaluate().get("eval_loss") if validation else None
    progress.phase = "saving the model"
    model = trainer.model
    if settings.method == "lora":
        model = model.merge_and_unload()
    if trainer.is_world_process_zero():  # under accelerate's launcher, one process saves
        model.save_pretrained(save_to)
        trainer.processing_class.save_pretrained(save_to)
    return Outcome(
        base_val_loss=_finite(base_loss),
        tuned_val_loss=_finite(tuned_loss),
        seconds=time.perf_counter() - started,
        device=device_name(),
        steps=state.global_step,
        tokens_seen=progress.tokens_seen,
    )


def _finite(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
