"""What the model judge said of an evaluation's pairs, set beside the people who judged the
same pairs blind: win rates and Bradley-Terry from the judge's verdicts (both orders
combined), its position bias, and its calibration against people (agreement and Cohen's kappa,
each with a 95% interval). A judge whose agreement with people is under
STORYAPP_JUDGE_MIN_AGREEMENT is labelled untrusted; one nobody checked, uncalibrated."""

from collections import defaultdict

from django.conf import settings

from storyapp.statistics import cohen_kappa, wilson_interval

from . import judge
from .models import Evaluation, JudgeRun, Judgment, PairVerdict
from .selectors import pair_outcome, win_rates


def latest_pair_run(evaluation: Evaluation) -> JudgeRun | None:
    return evaluation.judge_runs.filter(kind=JudgeRun.Kind.PAIRS).select_related("judge").first()


def judge_pair_results(run: JudgeRun) -> dict:
    """The figures of one pairs run (three queries)."""
    orders: dict[int, dict[bool, str]] = defaultdict(dict)
    rationale: dict[int, str] = {}
    first_won = decided = 0
    pairs = {}
    for verdict in PairVerdict.objects.filter(run=run).select_related(
        "pair__a__model", "pair__b__model"
    ):
        orders[verdict.pair_id][verdict.a_first] = verdict.winner
        pairs[verdict.pair_id] = verdict.pair
        rationale.setdefault(verdict.pair_id, verdict.rationale)
        if verdict.first_won is not None:
            decided += 1
            first_won += verdict.first_won
    combined = {
        pk: judge.combine(both.get(True, ""), both.get(False, ""))
        for pk, both in orders.items()
        if len(both) == 2
    }
    flips = sum(
        1
        for both in orders.values()
        if {both.get(True), both.get(False)} == {"a", "b"}  # each order picked the other
    )
    judged = {pk: w for pk, w in combined.items() if w}
    low, high = wilson_interval(first_won, decided)
    people = [
        (j.winner, judged[j.pair_id])
        for j in Judgment.objects.filter(pair_id__in=judged).exclude(winner="")
    ]
    calibration = cohen_kappa(people)
    minimum = settings.STORYAPP_JUDGE_MIN_AGREEMENT
    if not calibration["n"]:
        trust = "uncalibrated"
    elif calibration["share"] < minimum:
        trust = "untrusted"
    else:
        trust = "trusted"
    return {
        "run": run.pk,
        "judge": run.judge.name,
        "prompt_version": run.prompt_version,
        "pairs_judged": len(judged),
        "unreadable": run.unreadable,
        "ties": sum(1 for w in judged.values() if w == "tie"),
        "flips": flips,
        **win_rates([pair_outcome(pairs[pk], w) for pk, w in judged.items()]),
        "position": {
            "first_won": first_won,
            "decided": decided,
            "first_share": round(first_won / decided, 4) if decided else None,
            "low": round(low, 4),
            "high": round(high, 4),
        },
        "calibration": calibration,
        "min_agreement": minimum,
        "trust": trust,
    }
