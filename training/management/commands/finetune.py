import json
import os
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import DatasetExport
from generation.models import ModelProfile
from storyapp.params import SEED_HELP
from training.models import FineTuneJob
from training.services.finetune import finetune_create
from training.services.runs import finetune_run
from training.tasks import sweep

# How long a follower process of a multi-process run waits for the first to save and
# register the model before it reports the job as it stands.
FOLLOWER_WAIT_SECONDS = 1800

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Fine-tune a student on a release (loss on the story only). Prints the job id; with "
        "--wait or --inline, its outcome as JSON. Exit 0 when it finished, 1 when it failed or "
        "was cancelled, 2 on bad input."
    )

    def add_arguments(self, parser):
        parser.add_argument("--release", help="a finished release's name")
        parser.add_argument("--base", help="a transformers model profile")
        parser.add_argument("--name", help="the new model's name")
        parser.add_argument(
            "--job",
            type=int,
            help="run this queued fine-tune here (with --inline; e.g. under accelerate launch)",
        )
        parser.add_argument("--method", choices=FineTuneJob.Method.values)
        parser.add_argument("--epochs", type=float, default=1.0)
        parser.add_argument("--lr", type=float, default=5e-5, dest="learning_rate")
        parser.add_argument("--max-length", type=int, default=512)
        parser.add_argument("--batch-size", type=int, default=4)
        parser.add_argument("--seed", type=int, default=42, help=f"{SEED_HELP}")
        parser.add_argument("--lora-rank", type=int, default=16)
        parser.add_argument("--lora-alpha", type=int, default=32)
        parser.add_argument("--lora-dropout", type=float, default=0.05)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="block until a worker finishes")
        mode.add_argument("--inline", action="store_true", help="train here, no worker")

    def handle(self, *args, release, base, wait, inline, job=None, **options):
        if job is not None:
            return self._run_queued(job)
        if not (release and base and options["name"]):
            raise CommandError(
                "Give --release, --base and --name (or --job ID --inline).",
                returncode=EXIT_BAD_INPUT,
            )
        found_release = DatasetExport.objects.filter(name=release).first()
        found_base = ModelProfile.objects.filter(name=base).first()
        if found_release is None or found_base is None:
            missing = f"release {release!r}" if found_release is None else f"model {base!r}"
            raise CommandError(f"No {missing}.", returncode=EXIT_BAD_INPUT)
        fields = {
            key: options[key]
            for key in (
                "name",
                "method",
                "epochs",
                "learning_rate",
                "max_length",
                "batch_size",
                "seed",
                "lora_rank",
                "lora_alpha",
                "lora_dropout",
            )
        }
        try:
            job = finetune_create(
                release=found_release, base=found_base, enqueue=not inline, **fields
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=EXIT_BAD_INPUT) from None
        self.stdout.write(f"fine-tune {job.pk}")
        if inline:
            try:
                finetune_run(job_id=job.pk)
            except Exception:
                pass  # recorded on the job; reported below
        elif wait:
            while True:
                job.refresh_from_db()
                if job.is_finished:
                    break
                sweep()
                time.sleep(2)
        else:
            return
        self._report(job)

    def _run_queued(self, job_id: int) -> None:
        """Every process of ``accelerate launch ... finetune --job ID --inline`` runs this."""
        job = FineTuneJob.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No fine-tune {job_id}.", returncode=EXIT_BAD_INPUT)
        try:
            finetune_run(job_id=job.pk)
        except Exception:
            pass  # recorded on the job; reported below
        if int(os.environ.get("RANK", "0")) > 0:
            # A follower ends its training with the first process, which then still saves
            # and registers the model: report the job once that is done.
            deadline = time.monotonic() + FOLLOWER_WAIT_SECONDS
            while time.monotonic() < deadline:
                job.refresh_from_db()
                if job.is_finished:
                    break
                time.sleep(1)
        self._report(job)

    def _report(self, job: FineTuneJob) -> None:
        job.refresh_from_db()
        self.stdout.write(json.dumps(outcome(job), indent=2))
        if job.status != FineTuneJob.Status.DONE:
            raise CommandError(
                f"fine-tune {job.pk} {job.get_status_display().lower()}: {job.error}",
                returncode=EXIT_FAILED,
            )


def outcome(job: FineTuneJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "model": job.output_model.name if job.output_model else None,
        "folder": job.output_model.model if job.output_model else None,
        "method": job.method,
        "device": job.device,
        "steps": job.step,
        "tokens_seen": job.tokens_seen,
        "tokens_per_second": job.tokens_per_second,
        "train_seconds": job.train_seconds,
        "base_val_loss": job.base_val_loss,
        "tuned_val_loss": job.tuned_val_loss,
        "error": job.error,
    }
