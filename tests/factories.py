"""factory_boy factories for every model the tests use, and the review data helper."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from curation.models import (
    Adjudication,
    DatasetExport,
    Guidelines,
    JudgeSuggestion,
    Review,
    Story,
    StoryBand,
    Theme,
    ThemeEvent,
    Topic,
)
from curation.restrictions import restriction_reason
from curation.text import text_key
from generation.models import GenerationJob, JobItem, ModelProfile, ModelTest, PromptTemplate
from storyapp.models import WorkerHeartbeat
from training.models import (
    ComparisonPair,
    Evaluation,
    EvaluationSample,
    FineTuneJob,
    JudgeRun,
    Judgment,
    PairVerdict,
    Round,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; ``role="Reviewer"`` puts them in that role's group (made by roles_sync)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get(name=extracted))


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme number {n}")
    name_key = factory.LazyAttribute(lambda theme: text_key(theme.name))
    restricted_reason = factory.LazyAttribute(lambda theme: restriction_reason(theme.name))


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    theme = factory.SubFactory(ThemeFactory, status=Theme.Status.APPROVED)
    text = factory.Sequence(lambda n: f"A topic about thing number {n}")
    text_key = factory.LazyAttribute(lambda topic: text_key(topic.text))


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Story

    topic = factory.SubFactory(TopicFactory)
    text = factory.Sequence(
        lambda n: f"Story {n} begins with a hero and a quest.\n\nIt ends well for everyone."
    )
    model_name = "bundled-student"
    paragraph_count = 2
    word_count = 16


def review_data(overall=5, decision=Review.Decision.APPROVE, **extra) -> dict:
    """What a reviewer submits: every score axis set to ``overall``, unless given in extra."""
    return {**dict.fromkeys(Review.SCORE_AXES, overall), "decision": decision, **extra}


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    story = factory.SubFactory(StoryFactory)
    reviewer = factory.SubFactory(UserFactory, role="Reviewer")
    overall = 5
    brief = 5
    coherence = 5
    creativity = 5
    characters = 5
    decision = Review.Decision.APPROVE


class ModelProfileFactory(factory.django.DjangoModelFactory):
    """A local (transformers) teacher that never loads: tests replace the backend."""

    class Meta:
        model = ModelProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"model-{n}")
    role = ModelProfile.Role.TEACHER
    backend = ModelProfile.Backend.TRANSFORMERS
    model = "/nowhere"
    queue = factory.LazyAttribute(lambda profile: profile.role)
    temperature = 0.0
    max_new_tokens = 64
    batch_size = 4


class GenerationJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GenerationJob

    kind = GenerationJob.Kind.TOPICS
    model = factory.SubFactory(ModelProfileFactory)
    template = factory.LazyAttribute(
        lambda job: (
            PromptTemplate.objects.filter(kind=GenerationJob.TEMPLATE_KIND[job.kind])
            .order_by("-version")
            .first()
        )
    )
    queue_name = factory.LazyAttribute(lambda job: job.model.queue)
    model_snapshot = factory.LazyAttribute(lambda job: job.model.snapshot())


class DatasetExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetExport

    name = factory.Sequence(lambda n: f"release-{n}")


class WorkerHeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerHeartbeat

    worker_id = factory.Sequence(lambda n: f"host:{n}:1")
    hostname = "host"
    pid = factory.Sequence(lambda n: 1000 + n)
    backend = "db"
    queues = factory.LazyFunction(lambda: ["*"])
    idle_since = factory.LazyFunction(timezone.now)


class ThemeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThemeEvent

    theme = factory.SubFactory(ThemeFactory)
    action = ThemeEvent.Action.values[0]
    from_status = Theme.Status.PENDING
    to_status = Theme.Status.APPROVED


class AdjudicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adjudication

    story = factory.SubFactory(StoryFactory, status=Story.Status.ADJUDICATION)
    admin = factory.SubFactory(UserFactory, role="Admin")
    from_status = Story.Status.ADJUDICATION
    to_status = Story.Status.APPROVED
    reason = "The reviewers split; the story keeps to its topic."


class GuidelinesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guidelines

    text = "Rate the story on each axis; reject one that is not two paragraphs."


class PromptTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptTemplate

    kind = PromptTemplate.Kind.STORY
    version = factory.Sequence(lambda n: 100 + n)
    system = "You are a chatbot tasked with creating stories for users."
    user = 'Invent a completely new story about "{topic}".'
    raw = '[INST] Invent a completely new story about "{topic}". [/INST]'


class JobItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobItem

    job = factory.SubFactory(GenerationJobFactory)
    key = factory.Sequence(lambda n: f"theme:{n}")


class ModelTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelTest

    profile = factory.SubFactory(ModelProfileFactory)


class FineTuneJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FineTuneJob

    release = factory.SubFactory(DatasetExportFactory, status=DatasetExport.Status.DONE)
    base = factory.SubFactory(ModelProfileFactory, role=ModelProfile.Role.STUDENT)
    name = factory.Sequence(lambda n: f"tuned-{n}")


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    name = factory.Sequence(lambda n: f"evaluation {n}")
    topic_ids = factory.LazyFunction(lambda: [1])
    sampling = factory.LazyFunction(lambda: {"max_new_tokens": 64, "temperature": 0.0})


class EvaluationSampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationSample

    evaluation = factory.SubFactory(EvaluationFactory)
    model = factory.SubFactory(ModelProfileFactory, role=ModelProfile.Role.STUDENT)
    topic = factory.SubFactory(TopicFactory, status=Topic.Status.APPROVED)
    text = "A fox went home.\n\nIn the end the fox slept."


class ComparisonPairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComparisonPair

    evaluation = factory.SubFactory(EvaluationFactory)
    a = factory.SubFactory(
        EvaluationSampleFactory, evaluation=factory.SelfAttribute("..evaluation")
    )
    b = factory.SubFactory(
        EvaluationSampleFactory,
        evaluation=factory.SelfAttribute("..evaluation"),
        topic=factory.SelfAttribute("..a.topic"),
    )


class JudgmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Judgment

    pair = factory.SubFactory(ComparisonPairFactory)
    reviewer = factory.SubFactory(UserFactory, role="Reviewer")
    left_is_a = True


class JudgeSuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JudgeSuggestion

    story = factory.SubFactory(StoryFactory)
    judge_name = "judge"
    prompt_version = "story-v1"
    answers = factory.LazyFunction(lambda: {"conclusion": {"answer": True, "reason": "ends"}})
    passed = True


class JudgeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JudgeRun

    kind = JudgeRun.Kind.STORIES
    judge = factory.SubFactory(ModelProfileFactory, role=ModelProfile.Role.JUDGE, queue="teacher")
    prompt_version = "story-v1"
    story_ids = factory.LazyFunction(list)


class PairVerdictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PairVerdict

    pair = factory.SubFactory(ComparisonPairFactory)
    run = factory.SubFactory(
        JudgeRunFactory,
        kind=JudgeRun.Kind.PAIRS,
        evaluation=factory.SelfAttribute("..pair.evaluation"),
        prompt_version="pair-v1",
    )
    a_first = True
    winner = "a"


class StoryBandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoryBand

    key = factory.Sequence(lambda n: n - 2**62)
    story = factory.SubFactory(StoryFactory)


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    number = 1
    finetune = factory.SubFactory(FineTuneJobFactory)
    release = factory.LazyAttribute(lambda round_: round_.finetune.release)
