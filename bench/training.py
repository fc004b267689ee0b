"""Closing the loop on the bundled student, end to end, in the app, on this machine's CPU.

    python bench/training.py [--json] [--stories 200] [--heldout 40] [--keep DIR] [--rounds 2]
        [--judge-url http://host:8000/v1 --judge-model NAME]
    python bench/training.py --throughput [--steps 6] [--batch-size 8] [--max-length 512]
        (the app's fine-tune against a plain PyTorch loop: bench/training_throughput.py)

1. A fresh site (SQLite in a temporary folder): the built-in themes approved, topics from the
   bundled teacher, stories from the bundled student with the quality gates on and
   generate-until-pass, every story through the gates approved by two reviewers (simulated
   curation: the gates decide, people would only confirm), until the release holds at least
   --stories stories; --heldout approved topics are kept without stories.
2. The release (prompt-completion, validation 10%) and a full fine-tune of one epoch
   (`manage.py finetune --inline` in its own process): wall time, tokens/s, peak RSS.
3. The held-out evaluation of the base against the tuned student on --heldout topics, same
   sampling and seeds: gate-pass rate as written first (and kept after the repair) with 95%
   Wilson intervals, and validation perplexity.
4. With a judge (an OpenAI-compatible server): the judge run over the evaluation's blind pairs
   in both orders (training.judge): base against tuned by the judge, with its position bias.
5. With --rounds N: rounds 2..N through the app's rounds (training.services.rounds): the last
   round's model writes a story for every approved topic but the held-out ones, through the
   same gates; the same simulated reviewers approve what passes; the release keeps round 1's
   options, the fine-tune its settings; the evaluation runs the base, the previous round's
   model and this round's on the same held-out topics. Per round: passed as written with its
   95% interval, the share of the release repaired, validation perplexity, near-duplicates
   left out of the release.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before bench/ (the script's folder): the app, not this file

from measure import run_measured  # noqa: E402


def setup_site(folder: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyapp.settings",
        "DEBUG": "1",
        "STORYAPP_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "STORYAPP_HEARTBEAT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "bootstrap", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    import django

    django.setup()
    return env


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def curate(stories_wanted: int, heldout: int) -> dict:
    """Themes, topics and stories through the app's services; returns figures."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from curation.models import Story, Theme, Topic
    from curation.services.reviews import review_submit
    from curation.services.team import roles_sync
    from curation.services.topics import topics_decide_bulk
    from generation.models import GenerationJob, ModelProfile
    from generation.services import engine, jobs

    roles_sync()
    reviewers = []
    for name in ("bench-r1", "bench-r2"):
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.groups.add(Group.objects.get(name="Reviewer"))
        reviewers.append(user)
    teacher = ModelProfile.objects.get(name="bundled-teacher")
    student = ModelProfile.objects.get(name="bundled-student")
    themes = list(
        Theme.objects.filter(restricted_reason="").order_by("pk").values_list("pk", flat=True)
    )
    Theme.objects.filter(pk__in=themes).update(status=Theme.Status.APPROVED)
    generated = 0
    approved = Story.objects.exportable().count()
    batch = GenerationJob.objects.filter(kind="topics").count()
    while approved < stories_wanted:
        # Topics for the next 20 themes (7 each), all approved (a triage would).
        chunk = themes[batch * 20 : (batch + 1) * 20]
        batch += 1
        if not chunk:
            break
        job = jobs.job_create(kind="topics", model=teacher, selection=chunk, enqueue=False)
        engine.job_work(job_id=job.pk)
        topics_decide_bulk(
            topic_ids=list(
                Topic.objects.filter(generation_job_id=job.pk).values_list("pk", flat=True)
            ),
            decision="approve",
            actor=reviewers[0],
        )
        fresh = list(
            Topic.objects.filter(generation_job_id=job.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # Keep the first topics of the first batch for the held-out evaluation.
        if batch == 1:
            fresh = fresh[heldout:]
        if not fresh:
            continue
        job = jobs.job_create(
            kind="stories", model=student, selection=fresh, until_pass=3, enqueue=False
        )
        engine.job_work(job_id=job.pk)
        made = Story.objects.filter(generation_job_id=job.pk)
        generated += made.count()
        for story in made.filter(status=Story.Status.PENDING):
            for reviewer in reviewers:
                review_submit(
                    story_id=story.pk,
                    reviewer=reviewer,
                    data={"overall": 5, "decision": "approve"},
                )
        approved = Story.objects.exportable().count()
        log(f"batch {batch}: {generated} stories generated, {approved} approved")
    return curation_figures()


def curation_figures() -> dict:
    """What curation made, read back from the site (so a rerun on a kept folder reports it)."""
    from django.db.models import Max, Min

    from curation.models import Review, Story
    from generation.models import GenerationJob

    generated = Story.objects.count()
    approved = Story.objects.exportable().count()
    as_written = Story.objects.filter(passed_as_written=True).count()
    jobs = GenerationJob.objects.aggregate(start=Min("created_at"), end=Max("finished_at"))
    end = max(filter(None, [jobs["end"], Review.objects.aggregate(m=Max("created_at"))["m"]]))
    return {
        "themes": GenerationJob.objects.filter(kind="topics").count() * 20,
        "stories_generated": generated,
        "stories_approved": approved,
        "as_written_share": round(as_written / generated, 3) if generated else None,
        "gate_pass_share": round(approved / generated, 3) if generated else None,
        "minutes": round((end - jobs["start"]).total_seconds() / 60, 1),
    }


def forget_model(name: str) -> None:
    """Remove a fine-tune's output (profile, job, folder) so the stage can run again."""
    import shutil

    from generation.models import ModelProfile
    from training.models import FineTuneJob
    from training.services.paths import models_root

    FineTuneJob.objects.filter(name=name).delete()
    ModelProfile.objects.filter(name=name).delete()
    shutil.rmtree(models_root() / name, ignore_errors=True)


def judge_pairs(evaluation, url: str, model: str) -> dict:
    """The evaluation's pairs judged by a model judge, in both orders (a judge run, inline)."""
    from generation.services.registry import model_register
    from training.judge import server_judge
    from training.judge_results import judge_pair_results
    from training.services.judge_runs import judge_run_create
    from training.services.judge_work import judge_run

    judge, _ = model_register(name="bench-judge", queue="teacher", **server_judge(url, model))
    run = judge_run_create(judge_profile=judge, evaluation=evaluation, enqueue=False)
    return judge_pair_results(judge_run(run_id=run.pk))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--heldout", type=int, default=40)
    parser.add_argument(
        "--keep",
        help="use (and keep) this folder instead of a temporary one; a rerun on it reuses what "
        "finished (the curated stories, the release, the measured fine-tune)",
    )
    parser.add_argument("--judge-url", help="an OpenAI-compatible server with a judge model")
    parser.add_argument("--judge-model", help="the judge model's name on that server")
    parser.add_argument(
        "--throughput",
        action="store_true",
        help="only measure tokens/s: the app's fine-tune against a plain PyTorch loop",
    )
    parser.add_argument("--steps", type=int, default=6, help="--throughput: steps per run")
    parser.add_argument("--batch-size", type=int, default=8, help="--throughput: batch size")
    parser.add_argument("--max-length", type=int, default=512, help="--throughput: tokens")
    parser.add_argument("--records", type=int, default=96, help="--throughput: records")
    parser.add_argument("--repeats", type=int, default=1, help="--throughput: interleaved repeats")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds of distillation: round n+1's stories are written by round n's model, "
        "through the same gates and simulated reviewers, then released, fine-tuned and "
        "evaluated on the same held-out topics (training.services.rounds)",
    )
    parser.add_argument(
        "--variants",
        default="app,plain,app-checkpointing",
        help="--throughput: app, plain, app-checkpointing",
    )
    args = parser.parse_args()
    if args.throughput:
        import training_throughput

        result = training_throughput.run(args)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            training_throughput.report(result)
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-training-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = setup_site(folder)
    report = {"curation": curate(args.stories, args.heldout)}

    from curation.models import DatasetExport
    from curation.releases import export_create, export_run

    release = DatasetExport.objects.filter(name="bench-release", status="done").first()
    if release is None:  # made once per folder: a rerun on a kept folder trains on the same
        release = export_run(
            export_id=export_create(
                name="bench-release",
                fmt="prompt-completion",
                val_fraction=0.1,
                seed=7,
                enqueue=False,
            ).pk
        )
    report["release"] = {"train": release.train_count, "validation": release.validation_count}
    log(f"release: {release.train_count} train, {release.validation_count} validation")

    command = [
        *(sys.executable, "manage.py", "finetune", "--release", release.name),
        *("--base", "bundled-student", "--name", "bench-tuned", "--method", "full"),
        *("--epochs", "1", "--batch-size", "4", "--lr", "5e-5", "--max-length", "512"),
        "--inline",
    ]
    measured = folder / "finetune-report.json"
    if measured.exists():
        report["finetune"] = json.loads(measured.read_text())
    else:
        forget_model("bench-tuned")  # a run that stopped before its report was written
        output = folder / "finetune.json"
        with output.open("w") as out, (folder / "finetune.log").open("w") as err:
            seconds, peak_mb = run_measured(command, env, out, err)
        outcome = json.loads(output.read_text().split("\n", 1)[1])
        report["finetune"] = {
            **outcome,
            "process_seconds": round(seconds, 1),
            "peak_rss_gb": round(peak_mb / 1024, 2),
            "base_perplexity": round(math.exp(outcome["base_val_loss"]), 3),
            "tuned_perplexity": round(math.exp(outcome["tuned_val_loss"]), 3),
        }
        measured.write_text(json.dumps(report["finetune"], indent=2))
    log(f"fine-tune: {report['finetune']}")

    from generation.models import ModelProfile
    from training.services.evaluation import evaluation_create
    from training.services.runs import evaluation_run

    base, tuned = (ModelProfile.objects.get(name=n) for n in ("bundled-student", "bench-tuned"))
    started = time.perf_counter()
    evaluation = evaluation_create(
        profiles=[base, tuned], release=release, n_topics=args.heldout, enqueue=False
    )
    evaluation = evaluation_run(evaluation_id=evaluation.pk)
    report["evaluation"] = {
        "topics": len(evaluation.topic_ids),
        "sampling": evaluation.sampling,
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "results": evaluation.results,
    }
    if args.judge_url and args.judge_model:
        report["judge"] = judge_pairs(evaluation, args.judge_url, args.judge_model)
    base_row, tuned_row = (evaluation.results[n] for n in ("bundled-student", "bench-tuned"))
    report["verdict"] = {
        "tuned_pass_rate_higher": tuned_row["pass_rate"] > base_row["pass_rate"],
        "intervals_apart": tuned_row["pass_low"] > base_row["pass_high"],
        "perplexity_lower": report["finetune"]["tuned_perplexity"]
        < report["finetune"]["base_perplexity"],
        "peak_rss_under_8gb": report["finetune"]["peak_rss_gb"] < 8,
    }
    if args.rounds > 1:
        import training_rounds

        report["rounds"] = training_rounds.run_rounds(args.rounds, evaluation)
        last = report["rounds"][-1]["passed"]
        report["verdict"]["last_round_reached_80_percent"] = last["rate"] >= 0.8
    if args.json:
        print(json.dumps(report, indent=2))
        return
    c, f = report["curation"], report["finetune"]
    print(
        f"Release: {release.train_count} train + {release.validation_count} validation stories "
        f"({c['stories_generated']} generated, {c['as_written_share']:.0%} passed the gates "
        f"as written, {c['gate_pass_share']:.0%} kept after the repair, "
        f"{c['minutes']} min)"
    )
    print(
        f"Full fine-tune, 1 epoch, {f['device']}: {f['train_seconds']} s training "
        f"({f['process_seconds']} s process), {f['tokens_per_second']:.0f} tokens/s, "
        f"peak RSS {f['peak_rss_gb']} GB"
    )
    print(f"Validation perplexity: base {f['base_perplexity']} -> tuned {f['tuned_perplexity']}")
    for name, row in (("base", base_row), ("tuned", tuned_row)):
        print(
            f"Held-out ({report['evaluation']['topics']} topics) {name}: "
            f"{row['passed']}/{row['n']} pass the gates as written "
            f"(95% {row['pass_low']:.2f}-{row['pass_high']:.2f}), "
            f"{row['usable']}/{row['n']} kept after the repair "
            f"(95% {row['usable_low']:.2f}-{row['usable_high']:.2f}), "
            f"{row['mean_paragraphs']} paragraphs, {row['mean_words']} words, "
            f"cut off {row['cut_off_share']:.0%}, distinct-2 {row['distinct_2']}, "
            f"'Once upon a time' {row['once_upon_a_time_share']:.0%}"
        )
    if "judge" in report:
        j = report["judge"]
        pair = j["pairs"][0] if j["pairs"] else None
        print(
            f"Judge {j['judge']} ({j['prompt_version']}), {j['pairs_judged']} pairs in both "
            f"orders: "
            + (
                f"{pair['first']} against {pair['second']} {pair['win_rate']:.0%} "
                f"(95% {pair['low']:.2f}-{pair['high']:.2f}), "
                if pair
                else ""
            )
            + f"{j['ties']} ties ({j['flips']} flipped with the order), the story shown first "
            f"won {j['position']['first_won']} of {j['position']['decided']}"
        )
    for row in report.get("rounds", []):
        p = row["passed"]
        print(
            f"Round {row['round']} ({row['model']}): held-out passed as written "
            f"{p['passed']}/{p['n']} (95% {p['low']:.2f}-{p['high']:.2f}); release "
            f"{row['release_records']} records, {row['repaired_share']:.1%} repaired, "
            f"{row['near_duplicates_left_out']} near-duplicates left out; validation perplexity "
            f"{row['perplexity']}; stories job {row['stories_minutes']} min, as written "
            f"{row['stories_as_written']}"
        )
    print(json.dumps(report["verdict"]))


if __name__ == "__main__":
    main()
