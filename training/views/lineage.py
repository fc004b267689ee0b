"""Lineage: one page per model and per release (release -> fine-tune -> model -> evaluations
and comparisons)."""

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
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
def release_lineage(request, name: str):
    """What a release made. Whoever sees fine-tunes sees it (an editor follows a model's
    lineage here); the release's own page and files stay with those who may download."""
    if not (
        request.user.has_perm("curation.download_export")
        or request.user.has_perm("training.view_finetunejob")
    ):
        raise PermissionDenied
    release = get_object_or_404(DatasetExport, name=name)
    return render(request, "training/release_lineage.html", lineage_of_release(release))
