"""Every concrete model of the four apps has a factory here, and each builds a valid row."""

import inspect

import factory
import pytest
from django.apps import apps

from tests import factories

APPS = ("storyapp", "curation", "generation", "training")


def _factories() -> dict:
    return {
        f._meta.model: f
        for _, f in inspect.getmembers(factories, inspect.isclass)
        if issubclass(f, factory.django.DjangoModelFactory) and f._meta.model is not None
    }


def test_every_concrete_model_has_a_factory():
    models = {
        model
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy
    }
    missing = sorted(m.__name__ for m in models - set(_factories()))
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(f.__name__ for f in _factories().values()))
def test_each_factory_saves_a_row_that_passes_model_validation(name, roles):
    made = getattr(factories, name)()
    made.refresh_from_db()
    made.full_clean(validate_unique=False)
    assert type(made)._default_manager.filter(pk=made.pk).exists()
