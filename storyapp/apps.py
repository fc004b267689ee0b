from django.apps import AppConfig


class StoryappConfig(AppConfig):
    """The project package as an app: worker presence, path converters, shared commands."""

    name = "storyapp"
    verbose_name = "storyapp"

    def ready(self):
        from django.urls import register_converter

        from .names import NameConverter
        from .params import IdConverter

        register_converter(IdConverter, "id")
        register_converter(NameConverter, "name")
