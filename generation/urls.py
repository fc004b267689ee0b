from django.urls import path

from . import views

app_name = "generation"

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<id:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<id:pk>/items/<id:item>/", views.job_item, name="job_item"),
    path("jobs/<id:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<id:pk>/retry/", views.job_retry, name="job_retry"),
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_edit, name="model_new"),
    path("models/<name:name>/", views.model_detail, name="model_detail"),
    path("models/<name:name>/edit/", views.model_edit, name="model_edit"),
    path("models/<name:name>/test/", views.model_test, name="model_test"),
    path("prompts/", views.prompt_list, name="prompt_list"),
]
