import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from curation.approval import Policy
from curation.checks import story_checks
from curation.models import Review, Story, Theme, Topic
from curation.services.team import roles_sync
from curation.text import text_key
from generation import prompts

BATCH = 5000
WORDS = (
    "dragon forest crystal fairy lantern river storm village clock mirror ocean queen thief "
    "garden wolf bridge tower letter secret winter summer voice shadow map key door"
).split()


class Command(BaseCommand):
    help = (
        "Fill the database with synthetic stories and reviews for benchmarks: most stories "
        "reviewed three times, some once, some not at all (statuses follow the policy)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stories", type=int, default=100_000)
        parser.add_argument("--reviews", type=int, default=250_000)
        parser.add_argument("--reviewers", type=int, default=40)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, stories, reviews, reviewers, seed, **options):
        # Stories with 0, 1 and 3 reviews: b + 3c = reviews, a + b + c = stories, a = 10%.
        unreviewed = stories // 10
        triple = (reviews - (stories - unreviewed)) // 2
        single = stories - unreviewed - triple
        if triple < 0 or single < 0:
            raise CommandError("Need between 0.9 and 2.7 reviews per story.", returncode=2)
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
                            prompt_messages=prompts.default_messages(
                                "story", {"topic": topic.text}
                            ),
                            sampling={
                                "max_new_tokens": 512,
                                "temperature": 0.7,
                                "top_p": 0.95,
                                "seed": None,
                            },
                            created_at=now - timedelta(minutes=stories - i),
                            **story_checks(text, "stop"),
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
                        decision = (
                            Review.Decision.REJECT if overall <= 2 else Review.Decision.APPROVE
                        )
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
                    story.status = (
                        policy.status_for(pairs) if n_reviews == 3 else Story.Status.PENDING
                    )
                Review.objects.bulk_create(review_rows, batch_size=BATCH)
                Story.objects.bulk_update(
                    batch, ["review_count", "mean_overall", "status"], batch_size=BATCH
                )
                made_reviews += len(review_rows)
        self.stdout.write(
            f"Made {stories} stories ({unreviewed} unreviewed, {single} with one review, "
            f"{triple} with three) and {made_reviews} reviews by {reviewers} reviewers."
        )
