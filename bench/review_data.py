"""Synthetic stories and reviews for the benchmarks, written in bulk straight into a fresh
database: most stories reviewed three times, some once, some not at all (statuses follow the
policy). Benchmark data only: the app itself writes its rows through its services.

On SQLite the rows are made in Python and bulk-inserted (100k stories in about a minute); on
PostgreSQL the database makes them itself with generate_series (a million stories and 2.5
million reviews in a few minutes), from one template story made through the ORM.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python bench/review_data.py --stories 100000
    DATABASE_URL=postgres://postgres@127.0.0.1/bench python bench/review_data.py --stories 1000000
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
from django.db import connection, transaction  # noqa: E402
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
    if connection.vendor == "postgresql":
        made_reviews = _postgres_stories(
            topics, users, now, stories=stories, unreviewed=unreviewed, single=single, rng=rng
        )
        return _made(stories, unreviewed, single, triple, made_reviews, reviewers)
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
    return _made(stories, unreviewed, single, triple, made_reviews, reviewers)


def _made(stories, unreviewed, single, triple, made_reviews, reviewers) -> str:
    return (
        f"Made {stories} stories ({unreviewed} unreviewed, {single} with one review, "
        f"{triple} with three) and {made_reviews} reviews by {reviewers} reviewers."
    )


def _postgres_stories(topics, users, now, *, stories, unreviewed, single, rng) -> int:
    """The stories and reviews made by PostgreSQL itself: a plan of every review (story i,
    review k, its score and reviewer) from generate_series, the stories from one template row
    with their counts, mean and status from the plan (the policy as in Policy.status_for),
    then the reviews. Texts: two of a thousand paragraphs, a million distinct pairs."""
    if len(users) < 4 or not (13 % len(users) and 26 % len(users)):
        raise ValueError("The bench data on PostgreSQL needs 4 or more reviewers, not 13 or 26.")
    topic_ids = [t.pk for t in topics]
    if topic_ids != list(range(topic_ids[0], topic_ids[0] + len(topic_ids))):
        raise ValueError("Expected the bench topics to have consecutive ids (a fresh database).")
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(30)) + "." for _ in range(1000)]
    sample = paragraphs[0] + "\n\n" + paragraphs[1]
    template = Story.objects.create(
        topic=topics[0],
        text=sample,
        model_name="bench-model",
        template_version="stories v1 (chat)",
        prompt_messages=prompts.default_messages("story", {"topic": topics[0].text}),
        sampling={"max_new_tokens": 512, "temperature": 0.7, "top_p": 0.95, "seed": None},
        **Story.check_fields(story_checks(sample, "stop")),
    )
    overrides = {
        "topic_id": "%(topic0)s + (g.i %% %(ntopics)s)",
        "text": "p1.text || E'\\n\\n' || p2.text",
        "created_at": "%(now)s - make_interval(mins => %(n)s - g.i)",
        "review_count": "coalesce(a.reviews, 0)",
        "mean_overall": "a.mean",
        "status": (
            "CASE WHEN coalesce(a.reviews, 0) < 3 THEN 'pending' WHEN a.rejects >= 2 THEN "
            "'rejected' WHEN a.rejects = 0 AND a.mean >= 4.0 THEN 'approved' "
            "ELSE 'adjudication' END"
        ),
    }
    fields = [f.column for f in Story._meta.concrete_fields if f.column != "id"]
    select = ", ".join(overrides.get(c, f"t.{connection.ops.quote_name(c)}") for c in fields)
    params = {
        "n": stories,
        "unreviewed": unreviewed,
        "single": single,
        "topic0": topic_ids[0],
        "ntopics": len(topic_ids),
        "now": now,
        "template": template.pk,
        "nusers": len(users),
        "users": [u.pk for u in users],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_paragraph (n int PRIMARY KEY, text text)")
        cursor.executemany(
            "INSERT INTO bench_paragraph VALUES (%s, %s)", list(enumerate(paragraphs))
        )
        cursor.execute(
            """CREATE TEMP TABLE bench_plan AS
            SELECT g.i, k.k,
                (ARRAY[2, 3, 4, 4, 5, 5])[1 + abs(hashtext(g.i || ':' || k.k)) %% 6] AS overall,
                (g.i + 13 * k.k) %% %(nusers)s AS reviewer_n,
                2 + abs(hashtext('c' || g.i || ':' || k.k)) %% 4 AS coherence,
                1 + abs(hashtext('r' || g.i || ':' || k.k)) %% 5 AS creativity,
                20 + abs(hashtext('s' || g.i || ':' || k.k)) %% 221 AS seconds,
                abs(hashtext('t' || g.i || ':' || k.k)) %% 43201 AS minutes_ago
            FROM generate_series(0, %(n)s - 1) AS g(i)
            CROSS JOIN LATERAL generate_series(1, CASE WHEN g.i < %(unreviewed)s THEN 0
                WHEN g.i < %(unreviewed)s + %(single)s THEN 1 ELSE 3 END) AS k(k)""",
            params,
        )
        cursor.execute(
            f"""INSERT INTO curation_story ({", ".join(map(connection.ops.quote_name, fields))})
            SELECT {select}
            FROM generate_series(0, %(n)s - 1) AS g(i)
            JOIN curation_story t ON t.id = %(template)s
            JOIN bench_paragraph p1 ON p1.n = g.i %% 1000
            JOIN bench_paragraph p2 ON p2.n = (g.i / 1000) %% 1000
            LEFT JOIN (
                SELECT i, count(*) AS reviews, avg(overall)::float AS mean,
                       sum((overall <= 2)::int) AS rejects
                FROM bench_plan GROUP BY i
            ) a ON a.i = g.i
            ORDER BY g.i""",
            params,
        )
        cursor.execute("DELETE FROM curation_story WHERE id = %(template)s", params)
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM curation_story WHERE model_name = 'bench-model'"
        )
        first, last, count = cursor.fetchone()
        if count != stories or last - first + 1 != stories:
            raise ValueError("Expected the bench stories to have consecutive ids.")
        params["first"] = first
        cursor.execute(
            """INSERT INTO curation_review (story_id, reviewer_id, overall, brief, coherence,
                creativity, characters, decision, reason, comment, edited_text, seconds_spent,
                created_at)
            SELECT %(first)s + p.i, (%(users)s::bigint[])[1 + p.reviewer_n], p.overall,
                p.overall, p.coherence, p.creativity, p.overall,
                CASE WHEN p.overall <= 2 THEN 'reject' ELSE 'approve' END, '', '', '',
                p.seconds, %(now)s - make_interval(mins => p.minutes_ago)
            FROM bench_plan p ORDER BY p.i, p.k""",
            params,
        )
        made = cursor.rowcount
        cursor.execute("DROP TABLE bench_plan, bench_paragraph")
    if not connection.in_atomic_block:  # what autovacuum does soon after a bulk load
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return made


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
