"""Reads of the training app: evaluation and comparison results, lineage."""

from collections import defaultdict
from itertools import combinations

from django.db.models import QuerySet

from curation.judging import REPETITIVE_RATIO
from curation.models import DatasetExport
from generation.models import ModelProfile
from storyapp.statistics import wilson_interval

from .models import Evaluation, EvaluationSample, FineTuneJob, Judgment, Round
from .statistics import bradley_terry, distinct_n

ONCE_UPON = "once upon a time"


def evaluation_results(evaluation: Evaluation) -> dict:
    """Per model: the gate-pass rate of the stories as written, and the share usable after the
    automatic repair, each with its 95% Wilson interval; and what the stories are like as written
    (paragraphs, words, cut off, repetition, distinct-2, "Once upon a time" openings)."""
    by_model: dict[str, list] = {profile.name: [] for profile in evaluation.profiles.all()}
    for sample in evaluation.samples.select_related("model").order_by("pk"):
        by_model.setdefault(sample.model.name, []).append(sample)
    expected = len(evaluation.topic_ids)
    results = {}
    for name, samples in sorted(by_model.items()):
        ok = [s for s in samples if not s.error]
        n = len(ok)
        passed = sum(s.passed for s in ok)
        usable = sum(s.usable for s in ok)
        low, high = wilson_interval(passed, n)
        usable_low, usable_high = wilson_interval(usable, n)
        results[name] = {
            "n": n,
            "errors": len(samples) - n,
            # Topics with no sample at all (a run that stopped, a sample that was never made).
            "missing": max(expected - len(samples), 0),
            "passed": passed,
            "pass_rate": round(passed / n, 4) if n else None,
            "pass_low": round(low, 4),
            "pass_high": round(high, 4),
            "usable": usable,
            "usable_rate": round(usable / n, 4) if n else None,
            "usable_low": round(usable_low, 4),
            "usable_high": round(usable_high, 4),
            "mean_paragraphs": _mean(s.paragraph_count for s in ok),
            "mean_words": _mean(s.word_count for s in ok),
            "cut_off_share": _share(s.cut_off for s in ok),
            "repetitive_share": _share(s.repeated_ngram_ratio >= REPETITIVE_RATIO for s in ok),
            "mean_repeated_ratio": _mean((s.repeated_ngram_ratio for s in ok), digits=4),
            "distinct_2": round(distinct_n([s.judged_text for s in ok], 2), 4),
            "once_upon_a_time_share": _share(
                s.text.strip().lower().startswith(ONCE_UPON) for s in ok
            ),
            "repaired_share": _share(s.repaired for s in ok),
        }
    return results


def _mean(values, digits: int = 2):
    values = list(values)
    return round(sum(values) / len(values), digits) if values else None


def _share(flags):
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 4) if flags else None


def comparison_results(evaluations: QuerySet | None = None) -> dict:
    """Blind comparisons: per pair of models the win rate (ties count half) with its 95%
    interval; Bradley-Terry strengths over every compared model; the position-bias check (the
    share of decided judgments the left story won); per theme; agreement between reviewers
    who judged the same pair."""
    query = Judgment.objects.exclude(winner="").select_related(
        "pair__a__model", "pair__b__model", "pair__a__topic__theme"
    )
    if evaluations is not None:
        query = query.filter(pair__evaluation__in=evaluations)
    judgments = list(query)
    themes: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    left_wins = decided = 0
    by_pair = defaultdict(list)
    for j in judgments:
        first, second, score = pair_outcome(j.pair, j.winner)
        theme = j.pair.a.topic.theme.name
        themes[theme][f"{first} vs {second}:n"] += 1
        themes[theme][f"{first} vs {second}:wins"] += score
        if j.left_won is not None:
            decided += 1
            left_wins += j.left_won
        by_pair[j.pair_id].append(j.winner)
    both = [w for w in by_pair.values() if len(w) >= 2]
    agreeing = sum(1 for w in both if len(set(w[:2])) == 1)
    low, high = wilson_interval(left_wins, decided)
    return {
        "judgments": len(judgments),
        **win_rates([pair_outcome(j.pair, j.winner) for j in judgments]),
        "position": {
            "left_wins": left_wins,
            "decided": decided,
            "left_share": round(left_wins / decided, 4) if decided else None,
            "low": round(low, 4),
            "high": round(high, 4),
        },
        "themes": {
            theme: {
                key.rsplit(":", 1)[0]: round(values[key.replace(":n", ":wins")] / n, 4)
                for key, n in values.items()
                if key.endswith(":n")
            }
            for theme, values in sorted(themes.items())
        },
        "agreement": {
            "pairs_judged_twice": len(both),
            "agreeing": agreeing,
            "share": round(agreeing / len(both), 4) if both else None,
        },
    }


def pair_outcome(pair, winner: str) -> tuple[str, str, float]:
    """(first model, second model by name, the first's score: 1 won, 0.5 tie, 0 lost)."""
    a, b = pair.a.model.name, pair.b.model.name
    score = {"a": 1.0, "b": 0.0, "tie": 0.5}[winner]
    first, second = sorted((a, b))
    return (first, second, score) if first == a else (first, second, 1 - score)


def win_rates(outcomes: list[tuple[str, str, float]]) -> dict:
    """Per pair of models the win rate of the first by name (ties count half) with its 95%
    Wilson interval, and Bradley-Terry strengths over every model (prior 0.5)."""
    pairs: dict[tuple[str, str], dict] = {}
    for first, second, score in outcomes:
        stats = pairs.setdefault((first, second), {"n": 0, "wins": 0.0, "ties": 0})
        stats["n"] += 1
        stats["wins"] += score
        stats["ties"] += score == 0.5
    for (first, second), stats in pairs.items():
        low, high = wilson_interval(stats["wins"], stats["n"])
        stats.update(
            first=first,
            second=second,
            win_rate=round(stats["wins"] / stats["n"], 4),
            low=round(low, 4),
            high=round(high, 4),
        )
    return {
        "pairs": sorted(pairs.values(), key=lambda s: (s["first"], s["second"])),
        "bradley_terry": {
            name: round(value, 4)
            for name, value in sorted(bradley_terry(outcomes, prior=0.5).items())
        },
    }


def model_pairs(evaluation: Evaluation) -> list[tuple[str, str]]:
    names = sorted(evaluation.profiles.values_list("name", flat=True))
    return list(combinations(names, 2))


def lineage_of_model(profile: ModelProfile) -> dict:
    """Where a model comes from and what was measured of it: its release and base (and theirs,
    up the chain), the fine-tune that made it, its evaluations and comparisons."""
    chain: list[ModelProfile] = []
    current: ModelProfile | None = profile
    while current is not None and len(chain) < 20:
        chain.append(current)
        current = current.base_model
    evaluations = profile.evaluations.order_by("-created_at")
    return {
        "profile": profile,
        "chain": chain,
        "finetune": FineTuneJob.objects.filter(output_model=profile).first(),
        "evaluations": evaluations,
        "samples": EvaluationSample.objects.filter(model=profile).count(),
        "comparisons": comparison_results(evaluations) if evaluations.exists() else None,
        "children": ModelProfile.objects.filter(base_model=profile).order_by("name"),
        # Rounds: the round this model closes, and the next round, whose stories it wrote.
        "round": Round.objects.filter(finetune__output_model=profile).first(),
        "next_round": Round.objects.filter(previous__finetune__output_model=profile)
        .select_related("stories_job", "release", "finetune__output_model")
        .first(),
    }


def lineage_of_release(release: DatasetExport) -> dict:
    finetunes = release.finetunes.select_related("base", "output_model").order_by("-created_at")
    return {
        "release": release,
        "finetunes": finetunes,
        "evaluations": Evaluation.objects.filter(release=release).order_by("-created_at"),
    }
