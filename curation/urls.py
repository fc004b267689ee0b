from django.urls import path

from . import export_views, review_views, views

app_name = "curation"

urlpatterns = [
    path("themes/", views.theme_list, name="theme_list"),
    path("themes/decide/", views.theme_decide, name="theme_decide_bulk"),
    path("themes/import/", views.theme_import, name="theme_import"),
    path("themes/<int:pk>/", views.theme_detail, name="theme_detail"),
    path("themes/<int:pk>/decide/", views.theme_decide, name="theme_decide"),
    path("topics/", review_views.topic_triage, name="topic_triage"),
    path("topics/<int:pk>/decide/", review_views.topic_decide, name="topic_decide"),
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/<int:story_id>/", review_views.review_submit, name="review_submit"),
    path("review/<int:story_id>/skip/", review_views.review_skip, name="review_skip"),
    path("guidelines/", review_views.guidelines, name="guidelines"),
    path("stories/", review_views.story_browser, name="story_browser"),
    path("stories/<int:pk>/", review_views.story_detail, name="story_detail"),
    path("adjudication/", review_views.adjudication_queue, name="adjudication"),
    path("exports/", export_views.export_list, name="export_list"),
    path("exports/new/", export_views.export_new, name="export_new"),
    path("exports/<slug:name>/", export_views.export_detail, name="export_detail"),
    path("exports/<slug:name>/download.zip", export_views.export_zip, name="export_zip"),
    path("exports/<slug:name>/files/<path:filename>", export_views.export_file, name="export_file"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/roles/", views.team_set_roles, name="team_set_roles"),
]
