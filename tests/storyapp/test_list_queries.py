"""Every list page costs the same number of queries with 3 rows of everything and with 25."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from curation.models import Story, Theme, Topic
from curation.services.reviews import review_submit
from generation.models import GenerationJob, JobItem, ModelTest
from tests.factories import (
    DatasetExportFactory,
    GenerationJobFactory,
    ModelProfileFactory,
    StoryFactory,
    ThemeFactory,
    TopicFactory,
    UserFactory,
    review_data,
)
from tests.storyapp.test_every_url import all_patterns
from training.models import Evaluation, JudgeRun

LIST_PAGES = [
    "/",
    "/themes/",
    "/themes/?status=approved&q=theme",
    "/topics/",
    "/topics/?status=all",
    "/review/",
    "/stories/",
    "/stories/?check=cut_off&sort=score",
    "/stories/?disagree=gates",
    "/stories/agreement/",
    "/judge/stories/?status=pending",
    "/stories/bulk/?decision=reject&check=cut_off",
    "/topics/bulk/?decision=approve&status=all",
    "/adjudication/",
    "/guidelines/",
    "/exports/",
    "/team/",
    "/jobs/",
    "/models/",
    "/prompts/",
    "/training/",
    "/evaluations/",
    "/rounds/",
    "/compare/",
    "/compare/results/",
]
# Pages of one object that list its parts: the first object of each kind.
DETAIL_PAGES = {
    "theme events": lambda: Theme.objects.order_by("pk").first().get_absolute_url(),
    "story reviews": lambda: Story.objects.order_by("pk").first().get_absolute_url(),
    "job outputs": lambda: GenerationJob.objects.order_by("pk").first().get_absolute_url(),
    "model tests": lambda: ModelTest.objects.order_by("pk").first().profile.get_absolute_url(),
    "evaluation results": lambda: Evaluation.objects.order_by("pk").first().get_absolute_url(),
    "judge run": lambda: JudgeRun.objects.order_by("pk").first().get_absolute_url(),
    "model lineage": lambda: (
        "/lineage/models/" + Evaluation.objects.order_by("pk").first().profiles.first().name + "/"
    ),
}
# GET pages without parameters that are not lists.
NOT_LISTS = {"login", "healthz", "curation:theme_import", "generation:model_new"}


def populate(n: int, admin) -> None:
    reviewers = [UserFactory(role="Reviewer") for _ in range(2)]
    profile = ModelProfileFactory()
    themes = ThemeFactory.create_batch(n, status=Theme.Status.APPROVED, decided_by=admin)
    topics = [TopicFactory(theme=themes[i % n]) for i in range(n)]
    for topic in topics[1:]:
        Topic.objects.filter(pk=topic.pk).update(similar_to=topics[0], similarity=90)
    job = GenerationJobFactory(model=profile, kind=GenerationJob.Kind.STORIES)
    for i in range(n):
        story = StoryFactory(topic=topics[i], generation_job_id=job.pk, cut_off=i % 2 == 0)
        JobItem.objects.create(job=job, key=f"item:{i}", topic_id=topics[i].pk, status="done")
        for reviewer in reviewers[: 1 + i % 2]:
            review_submit(story_id=story.pk, reviewer=reviewer, data=review_data(coherence=4))
        StoryFactory(topic=topics[i], status=Story.Status.ADJUDICATION)
        DatasetExportFactory(status="done", created_by=admin)
        ModelTest.objects.create(profile=profile)
        ModelProfileFactory()
        UserFactory(role="Editor")
    _training(n, profile, admin, reviewers)


def _training(n, profile, admin, reviewers):
    """n fine-tunes and an evaluation of n topics with its blind pairs, half of them judged."""
    from training.models import (
        ComparisonPair,
        EvaluationSample,
        FineTuneJob,
        Judgment,
        PairVerdict,
        Round,
    )

    release = DatasetExportFactory(status="done", created_by=admin)
    other = ModelProfileFactory()
    evaluation = Evaluation.objects.create(name=f"eval-{release.pk}", topic_ids=[], results={})
    evaluation.profiles.set([profile, other])
    previous = None
    for i in range(n):  # n fine-tunes, each a round of one chain
        finetune = FineTuneJob.objects.create(
            release=release,
            base=profile,
            name=f"ft-{release.pk}-{i}",
            status="done",
            output_model=ModelProfileFactory(),
        )
        previous = Round.objects.create(
            number=i + 1,
            previous=previous,
            release=release,
            finetune=finetune,
            evaluation=evaluation,
            stories_job=GenerationJob.objects.first() if previous else None,
        )
    judge = ModelProfileFactory(role="judge", queue="teacher")
    run = JudgeRun.objects.create(
        kind="pairs", judge=judge, evaluation=evaluation, prompt_version="pair-v1"
    )
    for topic in Topic.objects.order_by("-pk")[:n]:
        a, b = (
            EvaluationSample.objects.create(evaluation=evaluation, model=m, topic=topic, text="x")
            for m in (profile, other)
        )
        pair = ComparisonPair.objects.create(evaluation=evaluation, a=a, b=b)
        for reviewer in reviewers:
            Judgment.objects.create(pair=pair, reviewer=reviewer, left_is_a=True, winner="a")
        for a_first in (True, False):
            PairVerdict.objects.create(run=run, pair=pair, a_first=a_first, winner="a")


def fresh_get(client, url):
    """GET with nothing cached and no story held, so both sizes do the same work."""
    cache.clear()
    Story.objects.update(reserved_by=None, reserved_until=None)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.fixture
def admin(make_user):
    return make_user("boss", "Admin")


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_PAGES + list(DETAIL_PAGES))
def test_queries_do_not_grow_with_the_rows(url, admin, settings, django_assert_max_num_queries):
    settings.STORYAPP_PAGE_SIZE = 10  # the large size spans pages; the small one does not
    client = Client()
    client.force_login(admin)
    populate(3, admin)
    target = DETAIL_PAGES[url]() if url in DETAIL_PAGES else url
    with CaptureQueriesContext(connection) as small:
        fresh_get(client, target)
    populate(22, admin)
    with django_assert_max_num_queries(len(small.captured_queries)):
        fresh_get(client, target)


def test_every_list_page_is_measured():
    listed = {url.split("?")[0] for url in LIST_PAGES}
    pages = set()
    for name, pattern in all_patterns():
        if isinstance(pattern, URLPattern) and not pattern.pattern.converters:
            if name not in NOT_LISTS and name != "logout" and not name.endswith("_new"):
                pages.add(name)
    unmeasured = {name for name in pages if reverse(name) not in listed}
    # POST-only endpoints have no page.
    unmeasured -= {"curation:theme_decide_bulk", "curation:team_create", "training:round_start"}
    assert unmeasured == set()
