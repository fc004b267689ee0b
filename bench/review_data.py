"""Synthetic stories and reviews for the benchmarks, written in bulk straight into a fresh
database: most stories reviewed three times, some once, some not at all (statuses follow the
policy). Benchmark data only: the app itself writes its rows through its services.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python bench/review_data.py --stories 100000
"""

import argparse
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyapp.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from curation.approval import Policy  # noqa: E402
from curation.judging import story_checks  # noqa: E402
from curation.models import Review, Story, Theme, Topic  # noqa: E402
from curation.services.team import roles_sync  # noqa: E402
from curation.text import text_key  # noqa: E402
from generation import prompts  # noqa: E402

BATCH = 5000
WORDS = (
    "dragon forest crystal fairy lantern river storm village clock mirror ocean queen thief "
    "garden wolf bridge tower letter secret winter summer voice shadow map key door"
).split()


def make_review_data(
    *, stories: int = 100_000, reviews: int = 250_000, reviewers: int = 40, seed: int = 7
) -> str:
    """Write the rows; returns what was made, in one line."""
    # Stories with 0, 1 and 3 reviews: b + 3c = reviews, a + b + c = stories, a = 10%.
    unreviewed = stories // 10
    triple = (reviews - (stories - unreviewed)) // 2
    single = stories - unreviewed - triple
    if triple < 0 or single < 0:
        raise ValueError("Need between 0.9 and 2.7 reviews per story.")
    rng = random.Random(seed)
    roles_sync()
    User = get_user_model()
    group = Group.objects.get(name="Reviewer")
    users = []
    for n in range(reviewers):
        user, created = User.objects.get_or_create(username=f"bench{n}")
        if created:
            user.set_password("bench-password")
            user.save()
            user.groups.add(group)
        users.append(user)
    policy = Policy(overlap=3, approve_mean=4.0)
    now = timezone.now()
    with transaction.atomic():
        themes = [
            Theme(
                name=f"Bench theme {n}",
                name_key=text_key(f"Bench theme {n}"),
                status=Theme.Status.APPROVED,
            )
            for n in range(200)
        ]
        Theme.objects.bulk_create(themes)
        topics = []
        for n in range(stories // 5):
            text = f"Bench topic {n}: a {rng.choice(WORDS)} and a {rng.choice(WORDS)}"
            topics.append(
                Topic(
                    theme=themes[n % len(themes)],
                    text=text,
                    text_key=text_key(text),
                    status=Topic.Status.APPROVED,
                )
            )
        Topic.objects.bulk_create(topics, batch_size=BATCH)
    made_reviews = 0
    for start in range(0, stories, BATCH):
        with transaction.atomic():
            batch = []
            plan = []
            for i in range(start, min(start + BATCH, stories)):
                n_reviews = 0 if i < unreviewed else (1 if i < unreviewed + single else 3)
                words = [rng.choice(WORDS) for _ in range(60)]
                text = " ".join(words[:30]) + ".\n\n" + " ".join(words[30:]) + "."
                topic = topics[i % len(topics)]
                batch.append(
                    Story(
                        topic=topic,
                        text=text,
                        model_name="bench-model",
                        # Provenance as generation stores it (chat prompt, sampling).
                        template_version="stories v1 (chat)",
                        prompt_messages=prompts.default_messages("story", {"topic": topic.text}),
                        sampling={
                            "max_new_tokens": 512,
                            "temperature": 0.7,
                            "top_p": 0.95,
                            "seed": None,
                        },
                        created_at=now - timedelta(minutes=stories - i),
                        **Story.check_fields(story_checks(text, "stop")),
                    )
                )
                plan.append(n_reviews)
            Story.objects.bulk_create(batch, batch_size=BATCH)
            review_rows = []
            for story, n_reviews in zip(batch, plan, strict=True):
                chosen = rng.sample(users, n_reviews)
                pairs = []
                for user in chosen:
                    overall = rng.choice((2, 3, 4, 4, 5, 5))
                    decision = Review.Decision.REJECT if overall <= 2 else Review.Decision.APPROVE
                    pairs.append((decision, overall))
                    review_rows.append(
                        Review(
                            story=story,
                            reviewer=user,
                            overall=overall,
                            brief=overall,
                            coherence=rng.randint(2, 5),
                            creativity=rng.randint(1, 5),
                            characters=overall,
                            decision=decision,
                            seconds_spent=rng.randint(20, 240),
                            created_at=now - timedelta(minutes=rng.randint(0, 43200)),
                        )
                    )
                story.review_count = len(pairs)
                story.mean_overall = sum(o for _, o in pairs) / len(pairs) if pairs else None
                story.status = policy.status_for(pairs) if n_reviews == 3 else Story.Status.PENDING
            Review.objects.bulk_create(review_rows, batch_size=BATCH)
            Story.objects.bulk_update(
                batch, ["review_count", "mean_overall", "status"], batch_size=BATCH
            )
            made_reviews += len(review_rows)
    return (
        f"Made {stories} stories ({unreviewed} unreviewed, {single} with one review, "
        f"{triple} with three) and {made_reviews} reviews by {reviewers} reviewers."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=250_000)
    parser.add_argument("--reviewers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    try:
        print(make_review_data(**vars(parser.parse_args())))
    except ValueError as error:
        sys.exit(f"review_data: {error}")
