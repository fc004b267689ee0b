from django.urls import path

from . import views

app_name = "curation"

urlpatterns = [
    path("themes/", views.theme_list, name="theme_list"),
    path("themes/decide/", views.theme_decide, name="theme_decide_bulk"),
    path("themes/import/", views.theme_import, name="theme_import"),
    path("themes/<int:pk>/", views.theme_detail, name="theme_detail"),
    path("themes/<int:pk>/decide/", views.theme_decide, name="theme_decide"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/roles/", views.team_set_roles, name="team_set_roles"),
]
