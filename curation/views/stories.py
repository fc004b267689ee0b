"""The story browser, a story's page (provenance, reviews, admin decision), adjudication."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from storyapp.errors import bad_request, form_errors_text, validation_text

from .. import selectors
from ..agreement import gate_agreement, judge_agreement
from ..diffs import side_by_side
from ..forms import (
    CHECK_FILTERS,
    AdjudicationForm,
    ReviewForm,
    StoryFilterForm,
)
from ..gates import GatePolicy
from ..models import Review, Story
from ..pagination import DeferredJoinPaginator
from ..services.reviews import AMENDABLE, stories_adjudicate_bulk, story_adjudicate
from .bulk import bulk_confirm


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def story_browser(request):
    form = StoryFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(form)}")
    paginator = DeferredJoinPaginator(
        selectors.story_rows(filters=form.cleaned_data), settings.STORYAPP_PAGE_SIZE
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
            "gates": GatePolicy.current().describe(),
            "can_bulk": request.user.has_perm("curation.adjudicate_story"),
        },
    )


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def story_agreement(request):
    """The gates (and the judge, where one rated stories) against people, per verdict."""
    return render(
        request,
        "curation/story_agreement.html",
        {
            "gates": gate_agreement(),
            "judge": judge_agreement(),
            "policy": GatePolicy.current().describe(),
            "min_agreement": settings.STORYAPP_JUDGE_MIN_AGREEMENT,
        },
    )


def _decide(request, story: Story, form: AdjudicationForm) -> bool:
    """Record an admin's decision from a valid form; say how it went."""
    try:
        story_adjudicate(
            story_id=story.pk,
            admin=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, validation_text(error))
        return False
    messages.success(request, f"Story #{story.pk}: decision recorded.")
    return True


def _reviews_with_diffs(story: Story) -> list:
    reviews = list(selectors.story_reviews(story=story))
    for review in reviews:
        review.diff = (  # type: ignore[attr-defined]  # shown beside the review
            side_by_side(story.judged_text, review.edited_text) if review.edited_text else None
        )
    return reviews


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
        if form.is_valid() and _decide(request, story, form):
            return HttpResponseRedirect(story.get_absolute_url())
    story_reviews = _reviews_with_diffs(story)
    mine = next((r for r in story_reviews if r.reviewer_id == request.user.pk), None)
    amend_form = None
    if mine and story.status in AMENDABLE and request.user.has_perm("curation.rate_story"):
        amend_form = ReviewForm(
            initial={
                **{axis: getattr(mine, axis) for axis in Review.SCORE_AXES},
                "decision": mine.decision,
                "reason": mine.reason,
                "comment": mine.comment,
                "edited_text": mine.edited_text or story.judged_text,
            }
        )
    return render(
        request,
        "curation/story_detail.html",
        {
            "story": story,
            "reviews": story_reviews,
            "adjudications": story.adjudications.select_related("admin"),
            "form": form,
            "amend_form": amend_form,
            "can_adjudicate": can_adjudicate,
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


@require_http_methods(["GET", "POST"])
@permission_required("curation.adjudicate_story", raise_exception=True)
def adjudicate(request, pk: int):
    """Decide one story of the queue, its reviews and edits beside it; "save and next"."""
    story = get_object_or_404(Story.objects.select_related("topic__theme"), pk=pk)
    form = AdjudicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _decide(request, story, form):
        following = selectors.adjudication_next(after=story.pk)
        if following is None:
            messages.info(request, "Nothing else needs adjudication.")
            return HttpResponseRedirect(reverse("curation:adjudication"))
        return HttpResponseRedirect(reverse("curation:adjudicate", args=[following.pk]))
    return render(
        request,
        "curation/adjudicate.html",
        {
            "story": story,
            "reviews": _reviews_with_diffs(story),
            "adjudications": story.adjudications.select_related("admin"),
            "form": form,
            "waiting": selectors.adjudication_queue().count(),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required("curation.adjudicate_story", raise_exception=True)
def story_bulk(request):
    """A rule over the story browser's current filter ("reject every cut-off story of job
    12"): the filter is in the query string; the page shows how many stories it matches and
    asks for a reason and a confirmation before anything changes."""
    params = request.GET.copy()
    decision = params.pop("decision", ["reject"])[-1]
    filters = StoryFilterForm(params)
    if not filters.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(filters)}")
    return bulk_confirm(
        request,
        queryset=selectors.story_list(filters=filters.cleaned_data),
        decision=decision,
        what="stories",
        list_url_name="curation:story_browser",
        apply=lambda ids, decision, reason: stories_adjudicate_bulk(
            story_ids=ids, admin=request.user, decision=decision, reason=reason
        ),
    )
