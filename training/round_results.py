"""What each round of distillation measured (training.models.Round), chain by chain."""

import math
from collections import defaultdict

from curation.models import DatasetExport
from curation.releases import release_manifest

from . import judge
from .models import Evaluation, JudgeRun, PairVerdict, Round
from .selectors import comparison_results, pair_outcome, win_rates


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


def judge_win_rates(evaluation_ids: list[int]) -> list[dict]:
    """Win rates by the model judge over the latest pairs run of each evaluation (one
    verdict per pair from its two orders, training.judge.combine), in two queries."""
    latest: dict[int, int] = {}
    for run_id, evaluation_id in (
        JudgeRun.objects.filter(evaluation_id__in=evaluation_ids, kind=JudgeRun.Kind.PAIRS)
        .order_by("-created_at", "-pk")
        .values_list("pk", "evaluation_id")
    ):
        latest.setdefault(evaluation_id, run_id)
    orders: dict[tuple[int, int], dict[bool, str]] = defaultdict(dict)
    pairs = {}
    for verdict in PairVerdict.objects.filter(run_id__in=latest.values()).select_related(
        "pair__a__model", "pair__b__model"
    ):
        orders[(verdict.run_id, verdict.pair_id)][verdict.a_first] = verdict.winner
        pairs[verdict.pair_id] = verdict.pair
    outcomes = []
    for (_, pair_id), both in orders.items():
        winner = judge.combine(both.get(True, ""), both.get(False, ""))
        if winner:
            outcomes.append(pair_outcome(pairs[pair_id], winner))
    return win_rates(outcomes)["pairs"]


def round_figures(round_: Round, *, people: list[dict], judged: list[dict]) -> dict:
    """What a round measured: passed as written on held-out topics (with its 95% interval),
    the share of its release the gates repaired, the validation perplexity of its model, and
    the human and judge win rates of its model against the previous round's (``people``,
    ``judged``: win_rates' pairs over the chains' evaluations)."""
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
    human = by_judge = None
    if model is not None and previous is not None:
        human = _win_rate(people, model.name, previous.name)
        by_judge = _win_rate(judged, model.name, previous.name)
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
        "judge": by_judge,
    }


def round_chains() -> list[list[dict]]:
    """Every chain of rounds (a round 1 and the rounds after it), newest chain first, each
    round with its figures; a fixed number of queries however many rounds there are."""
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
    evaluations = [r.evaluation_id for r in rounds if r.evaluation_id]
    people = (
        comparison_results(Evaluation.objects.filter(pk__in=evaluations))["pairs"]
        if evaluations
        else []
    )
    judged = judge_win_rates(evaluations) if evaluations else []
    chains = []
    for first in sorted((r for r in rounds if r.previous_id is None), key=lambda r: -r.pk):
        chain: list[dict] = []
        current: Round | None = first
        while current is not None and len(chain) < 100:
            chain.append(round_figures(current, people=people, judged=judged))
            current = after.get(current.pk)
        chains.append(chain)
    return chains
