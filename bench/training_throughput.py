"""Training throughput: the app's fine-tune against a plain PyTorch loop, side by side.

    python bench/training.py --throughput [--steps 6] [--batch-size 8] [--max-length 512]
                             [--records 96] [--variants app,plain,app-checkpointing]

Each variant runs in its own process (its peak RSS measured by os.wait4) on the bundled
student, with the same records, tokenization, batches, max length, dtype and optimiser:
  app                the app's trainer (training.trainer.build_trainer: TRL's SFTTrainer with
                     the app's settings) for --steps steps
  plain              a plain loop over the very batches the app's trainer takes (its data
                     loader): forward with the model's loss, backward, gradient clipping at
                     1.0, AdamW and a linear schedule
  app-checkpointing  the app's trainer with gradient checkpointing on (TRL's default)
The first step of each is a warm-up and is not timed; tokens/s counts the input tokens of the
timed steps (padding included, the same batches in every variant).
"""

import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the a little dragon forest crystal fairy lantern river storm village clock mirror ocean "
    "queen thief garden wolf bridge tower letter secret winter summer voice shadow map key door "
    "found walked into under over she he they saw heard whispered ran quietly bright old"
).split()


def make_records(n: int, seed: int = 7) -> list[dict]:
    """Prompt-completion chat records shaped like a release of two-paragraph stories (the
    story prompt as generation sends it; stories of 150-230 words)."""
    from generation import prompts

    rng = random.Random(seed)
    records = []
    for i in range(n):
        topic = f"A {rng.choice(WORDS)} and a {rng.choice(WORDS)} (topic {i})"
        words = [rng.choice(WORDS) for _ in range(rng.randint(150, 230))]
        half = len(words) // 2
        story = " ".join(words[:half]).capitalize() + ".\n\n" + " ".join(words[half:]) + "."
        records.append(
            {
                "prompt": prompts.default_messages("story", {"topic": topic}),
                "completion": [{"role": "assistant", "content": story}],
            }
        )
    return records


def child(variant: str, records_file: str, steps: int, batch: int, max_length: int) -> dict:
    """One variant in this process; returns tokens and seconds of the timed steps."""
    import django

    django.setup()
    import torch
    from transformers import TrainerCallback

    from generation.bundled import ensure_bundled_model
    from training.trainer import Settings, build_trainer

    torch.manual_seed(0)
    records = json.loads(Path(records_file).read_text())
    settings = Settings(
        base_folder=str(ensure_bundled_model()),
        batch_size=batch,
        max_length=max_length,
        gradient_checkpointing=variant == "app-checkpointing",
    )
    out = tempfile.mkdtemp(prefix="bench-throughput-")
    trainer = build_trainer(settings, records, [], out)
    marks: list[tuple[float, int]] = []

    if variant.startswith("app"):
        trainer.args.max_steps = steps

        class Clock(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                marks.append((time.perf_counter(), int(state.num_input_tokens_seen or 0)))

        trainer.add_callback(Clock())
        trainer.train()
        shutil.rmtree(out, ignore_errors=True)
        (t0, tokens0), (t1, tokens1) = marks[0], marks[-1]
        return {"steps": len(marks) - 1, "tokens": tokens1 - tokens0, "seconds": t1 - t0}

    # The plain loop: the trainer above only tokenized the records and made the collator.
    from transformers import get_linear_schedule_with_warmup

    model = trainer.model
    model.train()
    loader = trainer.get_train_dataloader()  # the very batches the app's trainer takes
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0)
    schedule = get_linear_schedule_with_warmup(optimiser, 0, steps)
    tokens = 0
    started = None
    done = 0
    while done < steps:
        for batch_data in loader:
            loss = model(
                input_ids=batch_data["input_ids"],
                attention_mask=batch_data.get("attention_mask"),
                labels=batch_data["labels"],
            ).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            done += 1
            if started is None:  # the first step warms up, untimed
                started = time.perf_counter()
            else:
                tokens += batch_data["input_ids"].numel()
            if done >= steps:
                break
    seconds = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {"steps": steps - 1, "tokens": tokens, "seconds": seconds}


def run(args) -> dict:
    from measure import run_measured

    work = Path(tempfile.mkdtemp(prefix="bench-throughput-run-"))
    records_file = work / "records.json"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyapp.settings")
    # Only the bundled model's folder is used (converted once under the var folder); no
    # database is touched.
    os.environ.setdefault("SECRET_KEY", "bench-throughput-secret-key-0123456789-abcdefghijklmn")
    import django

    django.setup()
    from generation.bundled import ensure_bundled_model

    ensure_bundled_model()
    records_file.write_text(json.dumps(make_records(args.records)))
    env = {**os.environ, "LOG_LEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false"}
    variants = args.variants.split(",")
    runs: dict[str, list] = {v: [] for v in variants}
    for _ in range(args.repeats):  # interleaved repeats: a slow minute does not pick a winner
        for variant in variants:
            out = work / f"{variant}.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                variant,
                str(records_file),
                str(args.steps),
                str(args.batch_size),
                str(args.max_length),
            ]
            with out.open("w") as stdout, (work / f"{variant}.log").open("w") as stderr:
                _, peak_mb = run_measured(command, env, stdout, stderr)
            measured = json.loads(out.read_text().strip().splitlines()[-1])
            runs[variant].append(
                {
                    **measured,
                    "tokens_per_second": measured["tokens"] / measured["seconds"],
                    "peak_rss_gb": peak_mb / 1024,
                }
            )
    result = {
        "records": args.records,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "repeats": args.repeats,
        "variants": {
            v: {
                "tokens_per_second": round(
                    statistics.median(r["tokens_per_second"] for r in rs), 1
                ),
                "peak_rss_gb": round(max(r["peak_rss_gb"] for r in rs), 2),
                "runs_tokens_per_second": [round(r["tokens_per_second"], 1) for r in rs],
            }
            for v, rs in runs.items()
        },
    }
    shutil.rmtree(work, ignore_errors=True)
    if "app" in runs and "plain" in runs:
        result["app_over_plain"] = round(
            result["variants"]["app"]["tokens_per_second"]
            / result["variants"]["plain"]["tokens_per_second"],
            3,
        )
    return result


def report(result: dict) -> None:
    print(
        f"Training throughput, bundled student, full fine-tune, fp32 on the CPU: batch "
        f"{result['batch_size']}, max length {result['max_length']}, {result['steps']} steps "
        f"(the first untimed), median of {result['rounds']} interleaved rounds"
    )
    print(f"{'variant':<20}{'tokens/s':>10}{'peak RSS GB':>13}  runs")
    for name, row in result["variants"].items():
        print(
            f"{name:<20}{row['tokens_per_second']:>10}{row['peak_rss_gb']:>13}  "
            f"{row['runs_tokens_per_second']}"
        )
    if "app_over_plain" in result:
        print(f"app / plain loop: {result['app_over_plain']:.1%} (target >= 90%)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyapp.settings")
    variant, records_file, steps, batch, max_length = sys.argv[1:6]
    print(json.dumps(child(variant, records_file, int(steps), int(batch), int(max_length))))
