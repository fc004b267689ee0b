import factory

from curation.models import Story, Theme, Topic
from curation.restrictions import restriction_reason
from curation.text import text_key


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme number {n}")
    name_key = factory.LazyAttribute(lambda theme: text_key(theme.name))
    restricted_reason = factory.LazyAttribute(lambda theme: restriction_reason(theme.name))


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    theme = factory.SubFactory(ThemeFactory, status="approved")
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
