"""What a release really holds, measured as it is written: the figures of its manifest and its
dataset card. The card claims nothing that is not one of these figures."""

import json
import math
from collections import Counter
from hashlib import blake2b

from django.db.models import Count, Q

from ..checks import REPETITIVE_RATIO, story_checks
from ..models import Adjudication, DatasetExport, Review, Story
from .formats import format_of
from .rows import exportable_stories

# Below this many records a split measures nothing reliably: the release says so.
SMALL_SPLIT = 10
AGREEMENT_SAMPLE = 20000


class ReleaseStats:
    """Figures over the written records (duplicates left out), accumulated a chunk at a time."""

    def __init__(self):
        self.records = 0
        self.duplicates = 0
        self.paragraphs: Counter = Counter()
        self.words: Counter = Counter()
        self.flags: Counter = Counter()
        self.score_sum = 0.0
        self.scored = 0
        # Per model: stories, ended on the model's stop, repaired, judged, judged passing.
        self.per_model: dict[str, list[int]] = {}
        self._seen: set[bytes] = set()

    def fresh(self, chunk: list[tuple]) -> list[tuple]:
        """The rows of ``chunk`` (tuples ending with the JSONL line) whose exact (prompt,
        completion) was not written before; the others are counted as duplicates."""
        seen = self._seen
        keys = [blake2b(row[-1].encode("utf-8"), digest_size=16).digest() for row in chunk]
        rows = []
        for key, row in zip(keys, chunk, strict=True):
            if key in seen:
                self.duplicates += 1
            else:
                seen.add(key)
                rows.append(row)
        return rows

    def forget_seen(self) -> None:
        """Drop the keys of the written records (a release's last step needs them no more)."""
        self._seen = set()

    def add_columns(self, columns, edited: dict[int, str]) -> None:
        """Written records, as columns (a ``rows.Row`` of tuples). ``edited``: row index ->
        the exported text where it is not the one the stored checks describe (a reviewer's
        edit); its checks are computed here."""
        paragraphs = list(columns.paragraph_count)
        words = list(columns.word_count)
        cut_off = list(columns.cut_off)
        not_english = list(columns.not_english)
        ratios = list(columns.repeated_ngram_ratio)
        for i, text in edited.items():
            checks = story_checks(text, "stop")
            paragraphs[i], words[i] = checks["paragraph_count"], checks["word_count"]
            cut_off[i], not_english[i] = checks["cut_off"], checks["not_english"]
            ratios[i] = checks["repeated_ngram_ratio"]
        self.records += len(paragraphs)
        self.paragraphs.update(min(p, 4) for p in paragraphs)
        self.words.update(words)
        flags = self.flags
        flags["cut_off"] += sum(map(bool, cut_off))
        flags["not_english"] += sum(map(bool, not_english))
        flags["near_duplicate"] += sum(map(bool, columns.near_duplicate))
        flags["as_written"] += sum(map(bool, columns.as_written))
        flags["repaired"] += sum(map(bool, columns.repaired))
        flags["edited"] += sum(map(bool, columns.edited))
        flags["repetitive"] += sum(r >= REPETITIVE_RATIO for r in ratios)
        per_model = self.per_model
        for model, stopped, repaired, judged in zip(
            columns.model, columns.stopped, columns.repaired, columns.judge_passed, strict=True
        ):
            row = per_model.get(model)
            if row is None:
                row = per_model[model] = [0, 0, 0, 0, 0]
            row[0] += 1
            row[1] += bool(stopped)
            row[2] += bool(repaired)
            if judged is not None:
                row[3] += 1
                row[4] += bool(judged)
        scores = [s for s in columns.mean_overall if s is not None]
        self.score_sum = sum(scores, self.score_sum)  # in order, as one running total
        self.scored += len(scores)

    def summary(self) -> dict:
        n = self.records or 1
        words = sorted(self.words.elements()) if self.records else [0]
        return {
            "records": self.records,
            "duplicates_skipped": self.duplicates,
            "paragraphs": {
                ("4+" if k == 4 else str(k)): v for k, v in sorted(self.paragraphs.items())
            },
            "two_paragraph_share": round(self.paragraphs[2] / n, 4),
            "words": {
                "mean": round(sum(words) / len(words), 1),
                "median": words[len(words) // 2],
                "min": words[0],
                "max": words[-1],
            },
            "shares": {flag: round(self.flags[flag] / n, 4) for flag in sorted(self.flags)},
            "mean_overall": round(self.score_sum / self.scored, 3) if self.scored else None,
            "sources": self.sources(),
        }

    def sources(self) -> list[dict]:
        """Where the written stories came from, per model (the most stories first): how
        many, the share that ended on the model's own stop (not the token limit), the share
        the gates repaired, and the model judge's verdicts where it rated them. A tuned
        model's name carries its round (``-r2``)."""
        rows = sorted(self.per_model.items(), key=lambda item: (-item[1][0], item[0]))
        return [
            {
                "model": model or "(unknown)",
                "stories": n,
                "stopped_share": round(stopped / n, 4),
                "repaired_share": round(repaired / n, 4),
                "judged": judged,
                "judge_passed_share": round(passed / judged, 4) if judged else None,
            }
            for model, (n, stopped, repaired, judged, passed) in rows[:50]
        ]


def split_warnings(export: DatasetExport, counts: dict) -> list[str]:
    expected = {"train": True, "validation": export.val_fraction > 0}
    return [
        f"The {split} split has {n} record{'s' if n != 1 else ''}: fewer than {SMALL_SPLIT}, "
        "too few to measure anything; add stories or change the validation fraction."
        for split, n in counts.items()
        if expected[split] and n < SMALL_SPLIT
    ]


def review_figures(export: DatasetExport, *, total: int) -> dict:
    """How the release's stories were decided, reviewer agreement on them, and how many
    stories of the same models and themes the quality gates rejected. ``total``: the stories
    the release read (written records and skipped duplicates), counted as the rows streamed."""
    stories = exportable_stories(export)
    by_admin = (
        Adjudication.objects.filter(
            story__in=stories, admin__isnull=False, to_status=Story.Status.APPROVED
        )
        .values("story")
        .distinct()
        .count()
    )
    candidates = Story.objects.all()
    if export.models_filter:
        candidates = candidates.filter(model_name__in=export.models_filter)
    if export.themes_filter:
        candidates = candidates.filter(topic__theme_id__in=export.themes_filter)
    generated = candidates.aggregate(
        n=Count("pk"), auto_rejected=Count("pk", filter=Q(auto_rejected=True))
    )
    return {
        "approved_by_policy": total - by_admin,
        "approved_by_admin": by_admin,
        "reviews": Review.objects.filter(story__in=stories).count(),
        "agreement": _agreement(stories),
        "generated_stories": generated["n"],
        "auto_rejected": generated["auto_rejected"],
        "auto_rejected_share": (
            round(generated["auto_rejected"] / generated["n"], 4) if generated["n"] else None
        ),
    }


def _agreement(stories) -> dict:
    """Krippendorff's alpha (ordinal) of the overall score over the release's stories with
    two or more reviews (the most recent AGREEMENT_SAMPLE of them)."""
    import krippendorff
    import numpy as np

    # One query, unordered: sorting the reviews (their default order) cost most of the time.
    recent = stories.filter(review_count__gte=2).order_by("-pk").values("pk")
    rows = list(
        Review.objects.filter(story_id__in=recent[:AGREEMENT_SAMPLE])
        .order_by()
        .values_list("reviewer_id", "story_id", "overall")
    )
    reviewers = {r: i for i, r in enumerate(sorted({row[0] for row in rows}))}
    units = {s: i for i, s in enumerate(sorted({row[1] for row in rows}))}
    alpha = None
    if len(units) >= 2 and len(reviewers) >= 2:
        matrix = np.full((len(reviewers), len(units)), np.nan)
        for reviewer, story, overall in rows:
            matrix[reviewers[reviewer], units[story]] = overall
        try:
            value = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
            alpha = None if math.isnan(value) else round(float(value), 3)
        except (ValueError, ZeroDivisionError):
            alpha = None
    return {"overall_alpha": alpha, "stories": len(units)}


def story_of_line(line: str, fmt: str) -> str:
    """The story text of a JSONL record (to re-check a reviewer's edit)."""
    return format_of(fmt).story_of(json.loads(line))
