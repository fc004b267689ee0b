from django.urls import path

from .views import exports, review, stories, team, themes, topics

app_name = "curation"

urlpatterns = [
    path("themes/", themes.theme_list, name="theme_list"),
    path("themes/decide/", themes.theme_decide, name="theme_decide_bulk"),
    path("themes/import/", themes.theme_import, name="theme_import"),
    path("themes/<id:pk>/", themes.theme_detail, name="theme_detail"),
    path("themes/<id:pk>/decide/", themes.theme_decide, name="theme_decide"),
    path("topics/", topics.topic_triage, name="topic_triage"),
    path("topics/bulk/", topics.topic_bulk, name="topic_bulk"),
    path("topics/<id:pk>/decide/", topics.topic_decide, name="topic_decide"),
    path("review/", review.review_queue, name="review_queue"),
    path("review/<id:story_id>/", review.review_submit, name="review_submit"),
    path("review/<id:story_id>/skip/", review.review_skip, name="review_skip"),
    path("review/<id:story_id>/amend/", review.review_amend, name="review_amend"),
    path("guidelines/", review.guidelines, name="guidelines"),
    path("stories/", stories.story_browser, name="story_browser"),
    path("stories/bulk/", stories.story_bulk, name="story_bulk"),
    path("stories/agreement/", stories.story_agreement, name="story_agreement"),
    path("stories/<id:pk>/", stories.story_detail, name="story_detail"),
    path("adjudication/", stories.adjudication_queue, name="adjudication"),
    path("adjudication/<id:pk>/", stories.adjudicate, name="adjudicate"),
    path("exports/", exports.export_list, name="export_list"),
    path("exports/new/", exports.export_new, name="export_new"),
    path("exports/<name:name>/", exports.export_detail, name="export_detail"),
    path("exports/<name:name>/retry/", exports.export_retry, name="export_retry"),
    path("exports/<name:name>/download.zip", exports.export_zip, name="export_zip"),
    path("exports/<name:name>/files/<path:filename>", exports.export_file, name="export_file"),
    path("team/", team.team, name="team"),
    path("team/new/", team.team_create, name="team_create"),
    path("team/<id:user_id>/roles/", team.team_set_roles, name="team_set_roles"),
    path("team/<id:user_id>/<slug:action>/", team.team_user_action, name="team_user_action"),
]
