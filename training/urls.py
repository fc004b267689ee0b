from django.urls import path

from .views import compare, evaluation, finetune, judging, lineage, rounds

app_name = "training"

urlpatterns = [
    path("training/", finetune.finetune_list, name="finetune_list"),
    path("training/new/", finetune.finetune_new, name="finetune_new"),
    path("training/<id:pk>/", finetune.finetune_detail, name="finetune_detail"),
    path("training/<id:pk>/cancel/", finetune.finetune_stop, name="finetune_cancel"),
    path("evaluations/", evaluation.evaluation_list, name="evaluation_list"),
    path("evaluations/new/", evaluation.evaluation_new, name="evaluation_new"),
    path("evaluations/<id:pk>/", evaluation.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<id:pk>/stories/", evaluation.evaluation_stories, name="evaluation_stories"),
    path("evaluations/<id:pk>/judge/", judging.evaluation_judge, name="evaluation_judge"),
    path("judge/stories/", judging.judge_stories, name="judge_stories"),
    path("judge/<id:pk>/", judging.judge_run_detail, name="judge_run_detail"),
    path("rounds/", rounds.round_list, name="round_list"),
    path("rounds/start/", rounds.round_start, name="round_start"),
    path(
        "rounds/<id:pk>/<str:step>/",
        rounds.round_step,
        name="round_step",
    ),
    path("compare/", compare.compare, name="compare"),
    path("compare/results/", compare.compare_results, name="compare_results"),
    path("compare/<id:judgment_id>/", compare.compare_judge, name="compare_judge"),
    path("lineage/models/<name:name>/", lineage.model_lineage, name="model_lineage"),
    path("lineage/releases/<name:name>/", lineage.release_lineage, name="release_lineage"),
]
