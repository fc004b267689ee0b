"""Lineage: one page per model and per release (release -> fine-tune -> model -> evaluations
and comparisons)."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from curation.models import DatasetExport
from generation.models import ModelProfile

from ..selectors import lineage_of_model, lineage_of_release


@require_GET
@permission_required("generation.view_modelprofile", raise_exception=True)
def model_lineage(request, name: str):
    profile = get_object_or_404(
        ModelProfile.objects.select_related("base_model", "release"), name=name
    )
    return render(request, "training/model_lineage.html", lineage_of_model(profile))


@require_GET
@permission_required("curation.download_export", raise_exception=True)
def release_lineage(request, name: str):
    release = get_object_or_404(DatasetExport, name=name)
    return render(request, "training/release_lineage.html", lineage_of_release(release))
