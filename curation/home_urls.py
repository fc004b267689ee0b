"""The overview at the site's root, named ``home`` outside curation's namespace (every page's
header links to it); the project's urls include it without importing curation's views."""

from django.urls import path

from .views.dashboard import dashboard

urlpatterns = [path("", dashboard, name="home")]
