"""The model judge at work: every blind pair of an evaluation in both orders, or single stories
against the brief (suggestions for reviewers). Claimed work (storyapp.claims.run_claimed): a
run taken back from a dead worker goes on where it stopped, since each verdict is stored as
it arrives and a rerun asks only for the ones missing."""

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F

from curation.models import Story
from curation.services.suggestions import story_suggestion_add
from generation.backends import GenerationRequest, GenerationResult, backend_for
from generation.models import ModelProfile
from storyapp.claims import run_claimed

from .. import judge
from ..models import ComparisonPair, JudgeRun, PairVerdict


def _request(profile: ModelProfile, messages: list[dict]) -> GenerationRequest:
    return GenerationRequest(messages=messages, **profile.sampling())


def _count(run: JudgeRun, result: GenerationResult, unreadable: bool) -> None:
    JudgeRun.objects.filter(pk=run.pk).update(
        done_count=F("done_count") + 1,
        prompt_tokens=F("prompt_tokens") + (result.prompt_tokens or 0),
        completion_tokens=F("completion_tokens") + (result.completion_tokens or 0),
        unreadable=F("unreadable") + int(unreadable),
    )


def _pairs_work(run: JudgeRun) -> None:
    done = set(run.verdicts.values_list("pair_id", "a_first"))
    pairs = ComparisonPair.objects.filter(evaluation=run.evaluation).select_related("a__topic", "b")
    todo = [
        (pair, a_first)
        for pair in pairs.order_by("pk")
        for a_first in (True, False)
        if (pair.pk, a_first) not in done
    ]
    requests = []
    for pair, a_first in todo:
        first, second = (pair.a, pair.b) if a_first else (pair.b, pair.a)
        messages = judge.pair_messages(pair.a.topic.text, first.text, second.text)
        requests.append(_request(run.judge, messages))

    def record(index: int, result: GenerationResult) -> None:
        pair, a_first = todo[index]
        result = result.sanitized()
        position, rationale = judge.read_pair(result.text) if not result.error else ("", "")
        winner = {"1": "a" if a_first else "b", "2": "b" if a_first else "a"}.get(
            position, position
        )
        try:
            with transaction.atomic():
                PairVerdict.objects.create(
                    run=run,
                    pair=pair,
                    a_first=a_first,
                    winner=winner,
                    rationale=rationale or result.error,
                    completion_tokens=result.completion_tokens,
                )
        except IntegrityError:
            return  # stored by an earlier run
        _count(run, result, not winner)

    _generate(run, requests, record)


def _stories_work(run: JudgeRun) -> None:
    done = set(
        Story.objects.filter(
            pk__in=run.story_ids,
            suggestions__judge_name=run.judge.name,
            suggestions__prompt_version=run.prompt_version,
            suggestions__created_at__gte=run.created_at,
        ).values_list("pk", flat=True)
    )
    stories = list(
        Story.objects.filter(pk__in=run.story_ids)
        .exclude(pk__in=done)
        .select_related("topic")
        .order_by("pk")
    )
    requests = [
        _request(run.judge, judge.story_messages(story.topic.text, story.text)) for story in stories
    ]

    def record(index: int, result: GenerationResult) -> None:
        story = stories[index]
        result = result.sanitized()
        answers, passed = judge.read_story(result.text) if not result.error else ({}, None)
        story_suggestion_add(
            story_id=story.pk,
            judge_name=run.judge.name,
            prompt_version=run.prompt_version,
            answers=answers,
            passed=passed,
            error=result.error or ("" if passed is not None else "the reply could not be read"),
        )
        _count(run, result, passed is None)

    _generate(run, requests, record)


def _generate(run: JudgeRun, requests: list, record: Callable) -> None:
    if requests:
        backend_for(run.judge).generate(requests, on_result=record)


def judge_run(*, run_id: int) -> JudgeRun | None:
    """Claim the run and ask the judge for every verdict still missing."""

    def work(run: JudgeRun, token: str) -> dict:
        if run.kind == JudgeRun.Kind.PAIRS:
            _pairs_work(run)
        else:
            _stories_work(run)
        run.refresh_from_db(fields=["done_count", "unreadable"])
        return {}

    return run_claimed(JudgeRun, run_id, work)
