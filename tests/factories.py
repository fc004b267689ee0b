import factory

from curation.models import Theme, theme_name_key
from curation.policy import restriction_reason


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme number {n}")
    name_key = factory.LazyAttribute(lambda theme: theme_name_key(theme.name))
    restricted_reason = factory.LazyAttribute(lambda theme: restriction_reason(theme.name))
