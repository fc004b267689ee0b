"""Near-duplicates across the dataset: index and flag a backlog of stories, then add stories
one at a time to the full index, side by side with the previous search (rapidfuzz over the
stories of the new story's theme).

    python bench/near_duplicates.py [--json] [--stories 100000] [--adds 200]

Makes a fresh SQLite database in a temporary folder with --stories stories over 200 themes,
written from a vocabulary of 3,000 words (Zipf-like, with the stock phrases stories share);
2% of them are a few-words-changed copy of an earlier story of another theme and 1% an exact
copy. Prints: the time to index and flag the whole backlog (target: under a minute at 100k),
how many of the planted copies were flagged and how many other stories were; then the time to
store one new story through the app's path (gates, near-duplicate search across every theme,
index) against the full index, p50/p95 over --adds stories (half new, half copies), beside the
previous within-theme search on the same data (target: under 50 ms).
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="storyapp-near-dup-bench-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "storyapp.settings",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "DEBUG": "0",
        "STORYAPP_VAR_DIR": str(WORK),
        "DATABASE_URL": f"sqlite:///{WORK / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from curation.judging import story_checks  # noqa: E402
from curation.models import Story, Theme, Topic  # noqa: E402
from curation.services.stories import near_duplicates_backlog, story_add_generated  # noqa: E402
from curation.text import text_key  # noqa: E402

STOCK = [
    "once upon a time",
    "in the end",
    "the next morning",
    "for the first time",
    "she took a deep breath",
    "as the sun set over the",
    "he had never seen anything like it",
    "and from that day on",
]


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3200)}
    return sorted(words)[:3000]


def story_text(rng: random.Random, words: list[str], weights: list[float]) -> str:
    def sentence() -> str:
        if rng.random() < 0.25:
            return rng.choice(STOCK) + " " + " ".join(rng.choices(words, weights, k=8))
        return " ".join(rng.choices(words, weights, k=rng.randint(8, 16)))

    paragraphs = [". ".join(sentence() for _ in range(5)) + "." for _ in range(2)]
    return "\n\n".join(p[0].upper() + p[1:] for p in paragraphs)


def reword(rng: random.Random, text: str, words: list[str], changes: int = 3) -> str:
    tokens = text.split(" ")
    for i in rng.sample(range(len(tokens)), changes):
        tokens[i] = rng.choice(words)
    return " ".join(tokens)


def build(n: int, rng: random.Random) -> dict:
    call_command("migrate", verbosity=0)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    with transaction.atomic():
        themes = Theme.objects.bulk_create(
            Theme(name=f"Theme {i}", name_key=f"theme {i}", status="approved") for i in range(200)
        )
        topics = Topic.objects.bulk_create(
            Topic(theme=themes[i % 200], text=f"Topic {i}", text_key=text_key(f"Topic {i}"))
            for i in range(n // 5)
        )
    texts: list[str] = []
    planted: set[int] = set()  # indexes of the copies
    for i in range(n):
        roll = rng.random()
        if i > 100 and roll < 0.02:
            texts.append(reword(rng, texts[rng.randrange(i)], words))
            planted.add(i)
        elif i > 100 and roll < 0.03:
            texts.append(texts[rng.randrange(i)])
            planted.add(i)
        else:
            texts.append(story_text(rng, words, weights))
    checks = Story.check_fields(story_checks(texts[0], "stop"))
    for start in range(0, n, 5000):
        with transaction.atomic():
            Story.objects.bulk_create(
                Story(
                    topic=topics[(i * 7) % len(topics)],
                    text=texts[i],
                    model_name="bench-model",
                    **checks,
                )
                for i in range(start, min(start + 5000, n))
            )
    ids = list(Story.objects.order_by("pk").values_list("pk", flat=True))
    return {
        "words": words,
        "weights": weights,
        "texts": texts,
        "topics": topics,
        "planted": {ids[i] for i in planted},
    }


def previous_search(text: str, theme_id: int) -> int | None:
    """The search stories had before: rapidfuzz token-set ratio over the theme's stories."""
    others = dict(Story.objects.filter(topic__theme_id=theme_id).values_list("pk", "text")[:5000])
    match = process.extractOne(text, others, scorer=fuzz.token_set_ratio, score_cutoff=90)
    return match[2] if match else None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--adds", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(11)
    started = time.perf_counter()
    data = build(args.stories, rng)
    built = time.perf_counter() - started

    started = time.perf_counter()
    counts = near_duplicates_backlog()
    backlog = time.perf_counter() - started
    flagged = set(
        Story.objects.filter(near_duplicate_of__isnull=False).values_list("pk", flat=True)
    )
    planted = data["planted"]

    adds, previous, found = [], [], 0
    topics = data["topics"]
    for n in range(args.adds):
        topic = topics[rng.randrange(len(topics))]
        if n % 2:
            text = reword(rng, data["texts"][rng.randrange(len(data["texts"]))], data["words"])
        else:
            text = story_text(rng, data["words"], data["weights"])
        t0 = time.perf_counter()
        previous_search(text, topic.theme_id)
        t1 = time.perf_counter()
        story = story_add_generated(
            topic_id=topic.pk,
            theme_id=topic.theme_id,
            sample_index=n,
            text=text,
            provenance={"finish_reason": "stop", "generation_job_id": None},
        )
        t2 = time.perf_counter()
        previous.append((t1 - t0) * 1000)
        adds.append((t2 - t1) * 1000)
        found += bool(n % 2 and story.near_duplicate_of_id)
    result = {
        "stories": args.stories,
        "build_seconds": round(built, 1),
        "backlog_seconds": round(backlog, 1),
        "backlog_stories_per_second": round(args.stories / backlog),
        "indexed": counts["indexed"],
        "planted_copies": len(planted),
        "planted_flagged": len(planted & flagged),
        "other_stories_flagged": len(flagged - planted),
        "similarity_threshold": settings.STORYAPP_NEAR_DUPLICATE_SIMILARITY,
        "add_p50_ms": percentile(adds, 0.5),
        "add_p95_ms": percentile(adds, 0.95),
        "previous_search_p50_ms": percentile(previous, 0.5),
        "previous_search_p95_ms": percentile(previous, 0.95),
        "added_copies_flagged": f"{found} of {args.adds // 2}",
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.stories} stories over 200 themes (built in {result['build_seconds']} s)")
    print(
        f"backlog: indexed and flagged in {result['backlog_seconds']} s "
        f"({result['backlog_stories_per_second']} stories/s; target: under 60 s at 100k)"
    )
    print(
        f"planted copies flagged: {result['planted_flagged']} of {result['planted_copies']}; "
        f"other stories flagged: {result['other_stories_flagged']}"
    )
    print(
        f"one story stored against the full index (gates, search in every theme, index): "
        f"p50 {result['add_p50_ms']} ms, p95 {result['add_p95_ms']} ms (target < 50 ms); "
        f"copies flagged {result['added_copies_flagged']}"
    )
    print(
        f"previous search alone (rapidfuzz over the story's theme): "
        f"p50 {result['previous_search_p50_ms']} ms, p95 {result['previous_search_p95_ms']} ms"
    )


if __name__ == "__main__":
    main()
