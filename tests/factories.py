"""factory_boy factories for every model the tests use, and the review data helper."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from curation.models import DatasetExport, Review, Story, Theme, Topic
from curation.restrictions import restriction_reason
from curation.text import text_key
from generation.models import GenerationJob, ModelProfile, PromptTemplate

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
