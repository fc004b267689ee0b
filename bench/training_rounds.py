"""Rounds 2..N of bench/training.py (--rounds N) through the app's rounds
(training.services.rounds): round n's model writes the next stories, the same simulated
reviewers approve what the gates pass, then a release, a fine-tune and an evaluation on the
same held-out topics. Per round: passed as written with its 95% interval, the share of the
release repaired, validation perplexity, near-duplicates left out."""

import sys
import time


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_rounds(rounds: int, evaluation) -> list[dict]:
    """Round 1 is the fine-tune and evaluation above; rounds 2..N through the app's rounds."""
    from django.contrib.auth import get_user_model

    from curation.models import Story
    from curation.releases import export_run
    from curation.services.reviews import review_submit
    from generation.services import engine
    from training.models import FineTuneJob, Round
    from training.services import rounds as steps
    from training.services.runs import evaluation_run, finetune_run

    reviewers = list(get_user_model().objects.filter(username__startswith="bench-r"))
    current = Round.objects.filter(finetune__name="bench-tuned").first() or steps.round_start(
        finetune=FineTuneJob.objects.get(name="bench-tuned")
    )
    if current.evaluation_id is None:
        current.evaluation = evaluation
        current.save(update_fields=["evaluation"])
    figures = [round_row(current, None)]
    for _ in range(rounds - 1):
        started = time.perf_counter()
        current = steps.round_next(round_=current, enqueue=False)
        engine.job_work(job_id=current.stories_job_id)
        made = Story.objects.filter(generation_job_id=current.stories_job_id)
        for story in made.filter(status=Story.Status.PENDING):
            for reviewer in reviewers:  # the same simulated reviewers as round 1
                review_submit(
                    story_id=story.pk, reviewer=reviewer, data={"overall": 5, "decision": "approve"}
                )
        stories = {
            "minutes": round((time.perf_counter() - started) / 60, 1),
            "as_written": f"{made.filter(passed_as_written=True).count()}/{made.count()}",
        }
        log(f"round {current.number}: stories {stories}")
        export_run(export_id=steps.round_release(round_=current, enqueue=False).pk)
        current.refresh_from_db()
        finetune_run(job_id=steps.round_finetune(round_=current, enqueue=False).pk)
        current.refresh_from_db()
        evaluation_run(evaluation_id=steps.round_evaluate(round_=current, enqueue=False).pk)
        current.refresh_from_db()
        figures.append(round_row(current, stories))
        log(f"round {current.number}: {figures[-1]}")
    return figures


def round_row(round_, stories: dict | None) -> dict:
    from training.round_results import round_figures

    figures = round_figures(round_, people=[], judged=[])  # no blind comparisons here
    manifest_stats = figures["release_statistics"]
    return {
        "round": round_.number,
        "model": figures["model"].name,
        "passed": figures["passed"],
        "release_records": figures["release_records"],
        "repaired_share": figures["repaired"] or 0.0,
        "near_duplicates_left_out": manifest_stats.get("near_duplicates_left_out", 0),
        "perplexity": figures["perplexity"],
        "stories_minutes": stories["minutes"] if stories else None,
        "stories_as_written": stories["as_written"] if stories else None,
    }
