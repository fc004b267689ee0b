"""Held-out evaluations: the same topics, sampling and seeds for two or more models; every
story judged by the automatic checks and the quality gates, as in curation."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.models import DatasetExport, Topic
from curation.releases import held_out_topics
from generation.models import ModelProfile
from storyapp.params import SEED_HELP, seed_valid

from .. import tasks
from ..models import Evaluation

logger = logging.getLogger(__name__)

MAX_TOPICS = 500


def evaluation_name(name: str, profiles: list[ModelProfile]) -> str:
    """The name given, or the models' names joined; cut to fit its column, never refused."""
    limit = Evaluation._meta.get_field("name").max_length or 200
    text = " ".join((name or " vs ".join(p.name for p in profiles)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@transaction.atomic
def evaluation_create(
    *,
    profiles: list[ModelProfile],
    release: DatasetExport | None = None,
    topic_ids: list[int] | None = None,
    n_topics: int = 40,
    seed: int = 42,
    sampling: dict | None = None,
    name: str = "",
    actor=None,
    enqueue: bool = True,
) -> Evaluation:
    """Queue an evaluation of ``profiles`` on held-out topics: the given ``topic_ids``, or the
    first ``n_topics`` approved topics with no story in ``release``'s train split. Sampling:
    ``sampling``, else the first profile's (every model gets the same, and the same seeds)."""
    profiles = list(dict.fromkeys(profiles))
    if len(profiles) < 2:
        raise ValidationError("Compare at least two models.", code="too_few_models")
    if not seed_valid(seed):
        raise ValidationError(
            "The seed is %(help)s.", code="seed_range", params={"help": SEED_HELP}
        )
    if not isinstance(n_topics, int) or not 1 <= n_topics <= MAX_TOPICS:
        raise ValidationError(
            "The number of topics is 1 to %(n)s.", code="n_topics_range", params={"n": MAX_TOPICS}
        )
    if topic_ids:
        found = set(Topic.objects.filter(pk__in=topic_ids).values_list("pk", flat=True))
        missing = sorted(set(topic_ids) - found)
        if missing:
            raise ValidationError(
                "No topic with id %(ids)s.",
                code="topic_missing",
                params={"ids": ", ".join(map(str, missing))},
            )
        topics = list(dict.fromkeys(topic_ids))
    elif release is not None:
        topics = held_out_topics(release)[:n_topics]
    else:
        raise ValidationError("Give a release or a list of topics.", code="no_topics")
    if not topics:
        raise ValidationError("No held-out topic to evaluate on.", code="no_topics")
    if len(topics) > MAX_TOPICS:
        raise ValidationError("At most %(n)s topics.", code="too_many", params={"n": MAX_TOPICS})
    first = profiles[0]
    sampling = sampling or {
        "max_new_tokens": first.max_new_tokens,
        "temperature": first.temperature,
        "top_p": first.top_p,
        "repetition_penalty": first.repetition_penalty,
        "no_repeat_ngram_size": first.no_repeat_ngram_size,
    }
    evaluation = Evaluation.objects.create(
        name=evaluation_name(name, profiles),
        release=release,
        topic_ids=topics,
        sampling=sampling,
        seed=seed,
        created_by=actor,
    )
    evaluation.profiles.set(profiles)
    if enqueue:
        tasks.evaluation_enqueue(evaluation_id=evaluation.pk)
    return evaluation
