"""Blind pairwise comparison (/compare/): two stories for the same topic, in an order drawn at
random, with no model name anywhere in the page; keys 1, 2 and 0 (tie)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import form_errors_text, validation_text
from storyapp.htmx import render_page

from ..forms import JudgmentForm
from ..selectors import comparison_results
from ..services.comparison import judgment_next_for, judgment_record

SKIP_KEY = "compare_skipped"


def _render(request, judgment, status=200):
    left, right = None, None
    if judgment:
        pair = judgment.pair
        left, right = (pair.a, pair.b) if judgment.left_is_a else (pair.b, pair.a)
    return render_page(
        request,
        "training/compare.html",
        {"judgment": judgment, "left": left, "right": right, "form": JudgmentForm()},
        partial="compare-panel",
        status=status,
    )


@require_GET
@vary_on_headers("HX-Request")
@permission_required("training.compare_stories", raise_exception=True)
def compare(request):
    skipped = request.session.get(SKIP_KEY, [])
    return _render(request, judgment_next_for(user=request.user, skip=skipped))


@require_POST
@permission_required("training.compare_stories", raise_exception=True)
def compare_judge(request, judgment_id: int):
    form = JudgmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        try:
            judgment_record(
                judgment_id=judgment_id,
                user=request.user,
                choice=form.cleaned_data["choice"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, "Saved.")
    if not request.htmx:
        return HttpResponseRedirect(reverse("training:compare"))
    skipped = request.session.get(SKIP_KEY, [])
    return _render(request, judgment_next_for(user=request.user, skip=skipped))


@require_GET
@permission_required("training.view_evaluation", raise_exception=True)
def compare_results(request):
    return render(request, "training/compare_results.html", {"results": comparison_results()})
