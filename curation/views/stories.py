"""The story browser, a story's page (provenance, reviews, admin decision), adjudication."""

import difflib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from storyapp.errors import bad_request, form_errors_text, validation_text

from .. import selectors
from ..forms import CHECK_FILTERS, AdjudicationForm, StoryFilterForm
from ..models import Review, Story
from ..pagination import DeferredJoinPaginator
from ..services.reviews import story_adjudicate


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def story_browser(request):
    form = StoryFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(form)}")
    paginator = DeferredJoinPaginator(
        selectors.story_list(filters=form.cleaned_data), settings.STORYAPP_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "curation/story_browser.html",
        {
            "form": form,
            "page_obj": page,
            "stories": page.object_list,
            "filter_query": query.urlencode(),
            "check_filters": CHECK_FILTERS,
            "themes": selectors.approved_themes(),
        },
    )


def _edit_diff(original: str, edited: str) -> list[str]:
    if not edited:
        return []
    return list(
        difflib.unified_diff(
            original.splitlines(), edited.splitlines(), "original", "edit", lineterm=""
        )
    )


@require_http_methods(["GET", "POST"])
@permission_required("curation.view_story", raise_exception=True)
def story_detail(request, pk: int):
    story = get_object_or_404(
        Story.objects.select_related("topic__theme", "near_duplicate_of"), pk=pk
    )
    can_adjudicate = request.user.has_perm("curation.adjudicate_story")
    form = AdjudicationForm(request.POST or None)
    if request.method == "POST":
        if not can_adjudicate:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                story_adjudicate(
                    story_id=story.pk,
                    admin=request.user,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                messages.error(request, validation_text(error))
            else:
                messages.success(request, "Decision recorded.")
                return HttpResponseRedirect(story.get_absolute_url())
    story_reviews = list(selectors.story_reviews(story=story))
    for review in story_reviews:
        review.diff = _edit_diff(story.text, review.edited_text)
    return render(
        request,
        "curation/story_detail.html",
        {
            "story": story,
            "reviews": story_reviews,
            "adjudications": story.adjudications.select_related("admin"),
            "form": form,
            "can_adjudicate": can_adjudicate,
            "rubric": Review.RUBRIC,
        },
        status=400 if form.errors else 200,
    )


@require_GET
@permission_required("curation.adjudicate_story", raise_exception=True)
def adjudication_queue(request):
    paginator = Paginator(selectors.adjudication_queue(), settings.STORYAPP_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "curation/adjudication.html",
        {"page_obj": page, "stories": page.object_list},
    )
