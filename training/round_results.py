"""What each round of distillation measured (training.models.Round), chain by chain."""

import math

from curation.models import DatasetExport
from curation.releases import release_manifest

from .judge_results import judge_pair_results, latest_pair_run
from .models import Evaluation, Round
from .selectors import comparison_results


def _manifest(release: DatasetExport | None) -> dict:
    if release is None or release.status != DatasetExport.Status.DONE:
        return {}
    try:
        return release_manifest(release)
    except (OSError, ValueError):
        return {}


def _win_rate(pairs: list[dict], model: str, other: str) -> dict | None:
    """``model``'s win rate against ``other`` from win_rates' pairs (named in either order)."""
    for row in pairs:
        if (row["first"], row["second"]) == (model, other):
            return {"rate": row["win_rate"], "low": row["low"], "high": row["high"], "n": row["n"]}
        if (row["first"], row["second"]) == (other, model):
            return {
                "rate": round(1 - row["win_rate"], 4),
                "low": round(1 - row["high"], 4),
                "high": round(1 - row["low"], 4),
                "n": row["n"],
            }
    return None


def round_figures(round_: Round) -> dict:
    """What a round measured: passed as written on held-out topics (with its 95% interval),
    the share of its release the gates repaired, the validation perplexity of its model, and
    the human and judge win rates of its model against the previous round's."""
    model = round_.model
    evaluation = round_.evaluation
    results = (evaluation.results if evaluation else None) or {}
    passed = None
    if model is not None and results.get(model.name, {}).get("n"):
        row = results[model.name]
        passed = {
            "passed": row["passed"],
            "n": row["n"],
            "rate": row["pass_rate"],
            "low": row["pass_low"],
            "high": row["pass_high"],
        }
    base = round_.finetune.base if round_.finetune else None
    base_passed = None
    if base is not None and results.get(base.name, {}).get("n"):
        row = results[base.name]
        base_passed = {"rate": row["pass_rate"], "low": row["pass_low"], "high": row["pass_high"]}
    statistics = _manifest(round_.release).get("statistics", {})
    shares = statistics.get("shares", {})
    finetune = round_.finetune
    previous = round_.previous.model if round_.previous else None
    human = judge = None
    if evaluation is not None and model is not None and previous is not None:
        people = comparison_results(Evaluation.objects.filter(pk=evaluation.pk))
        human = _win_rate(people["pairs"], model.name, previous.name)
        run = latest_pair_run(evaluation)
        if run is not None:
            judge = _win_rate(judge_pair_results(run)["pairs"], model.name, previous.name)
    return {
        "round": round_,
        "model": model,
        "base": base,
        "passed": passed,
        "base_passed": base_passed,
        "repaired": shares.get("repaired"),
        "release_records": statistics.get("records"),
        "release_statistics": statistics,
        "perplexity": (
            round(math.exp(finetune.tuned_val_loss), 2)
            if finetune is not None and finetune.tuned_val_loss is not None
            else None
        ),
        "human": human,
        "judge": judge,
    }


def round_chains() -> list[list[dict]]:
    """Every chain of rounds (a round 1 and the rounds after it), newest chain first, each
    round with its figures."""
    rounds = list(
        Round.objects.select_related(
            "previous__finetune__output_model",
            "finetune__output_model",
            "finetune__base",
            "release",
            "evaluation",
            "stories_job__model",
        )
    )
    after = {r.previous_id: r for r in rounds if r.previous_id}
    chains = []
    for first in sorted((r for r in rounds if r.previous_id is None), key=lambda r: -r.pk):
        chain: list[dict] = []
        current: Round | None = first
        while current is not None and len(chain) < 100:
            chain.append(round_figures(current))
            current = after.get(current.pk)
        chains.append(chain)
    return chains
