"""Views of the review workflow: dashboard, topic triage, review queue, story browser."""

import difflib
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import form_errors_text, validation_text

from . import reviews, selectors
from .dashboard import dashboard_data
from .forms import (
    CHECK_FILTERS,
    AdjudicationForm,
    GuidelinesForm,
    ReviewForm,
    StoryFilterForm,
)
from .models import Guidelines, Review, Story, Theme, Topic
from .pagination import DeferredJoinPaginator

SKIP_SESSION_KEY = "review_skipped"
STARTED_SESSION_KEY = "review_started"


# --- dashboard ------------------------------------------------------------------------------


@require_GET
def dashboard(request):
    data = dashboard_data()
    peak = max([row["n"] for row in data["per_day"]] + [1])
    per_day = [
        {**row, "height": (h := round(100 * row["n"] / peak)), "y": 100 - h, "x": i * 14}
        for i, row in enumerate(data["per_day"])
    ]
    top = max([row["n"] for row in data["distribution"]] + [1])
    distribution = [
        {**row, "width": round(300 * row["n"] / top), "y": (row["score"] - 1) * 24}
        for row in data["distribution"]
    ]
    return render(
        request,
        "curation/dashboard.html",
        {
            **data,
            "per_day_bars": per_day,
            "per_day_width": max(len(per_day) * 14, 14),
            "distribution_bars": distribution,
            "policy": reviews.Policy.current().describe(),
            "axes": [
                (axis, Review.RUBRIC_LABELS.get(axis, "Overall"))
                for axis in ("overall", *Review.RUBRIC)
            ],
        },
    )


# --- topic triage ---------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.view_topic", raise_exception=True)
def topic_triage(request):
    return _topic_panel(
        request, request.GET, partial=bool(request.htmx and not request.htmx.boosted)
    )


def _topic_panel(request, params, *, partial: bool):
    status = params.get("status") or "pending"
    if status not in ("pending", "approved", "rejected", "flagged", "all"):
        return render(request, "400.html", {"message": f"Unknown status {status!r}."}, status=400)
    topics = Topic.objects.select_related("theme", "similar_to__theme", "duplicate_of")
    theme_id = params.get("theme") or ""
    if theme_id:
        if not theme_id.isdigit():
            return render(request, "400.html", {"message": "Invalid theme."}, status=400)
        topics = topics.filter(theme_id=int(theme_id))
    if status == "flagged":
        topics = topics.filter(status="pending", similar_to__isnull=False)
    elif status != "all":
        topics = topics.filter(status=status)
    page = Paginator(topics.order_by("theme__name_key", "pk"), 50).get_page(params.get("page"))
    themes = (
        Theme.objects.filter(topics__isnull=False)
        .annotate(pending=Count("topics", filter=Q(topics__status="pending")))
        .order_by("name_key")
    )
    context = {
        "page_obj": page,
        "topics": page.object_list,
        "themes": themes,
        "status": status,
        "theme_id": theme_id,
        "filter_query": urlencode({"status": status, "theme": theme_id}),
        "can_triage": request.user.has_perm("curation.triage_topic"),
    }
    template = "curation/topic_triage.html" + ("#topic-panel" if partial else "")
    return render(request, template, context)


@require_POST
@permission_required("curation.triage_topic", raise_exception=True)
def topic_decide(request, pk: int):
    decision = request.POST.get("decision", "")
    duplicate_of = request.POST.get("duplicate_of") or None
    try:
        reviews.topic_decide(
            topic_id=pk,
            decision=decision,
            actor=request.user,
            duplicate_of=int(duplicate_of) if duplicate_of and duplicate_of.isdigit() else None,
        )
    except Topic.DoesNotExist:
        messages.error(request, "No such topic.")
    except ValidationError as error:
        messages.error(request, validation_text(error))
    params = {key: request.POST.get(key, "") for key in ("status", "theme", "page")}
    if request.htmx:
        return _topic_panel(request, params, partial=True)
    return HttpResponseRedirect(reverse("curation:topic_triage") + "?" + urlencode(params))


# --- review queue ---------------------------------------------------------------------------


def _review_context(request, story: Story | None, form: ReviewForm | None = None) -> dict:
    guidelines = Guidelines.objects.order_by("-updated_at").first()
    return {
        "story": story,
        "form": form or ReviewForm(),
        "policy": reviews.Policy.current().describe(),
        "rubric": [(axis, Review.RUBRIC_LABELS[axis]) for axis in Review.RUBRIC],
        "reasons": Review.Reason.choices,
        "has_guidelines": guidelines is not None,
        "remaining": Story.objects.filter(
            status=Story.Status.PENDING, review_count__lt=settings.STORYAPP_REVIEW_OVERLAP
        )
        .exclude(reviews__reviewer=request.user)
        .count(),
    }


def _next_story(request) -> Story | None:
    skipped = request.session.get(SKIP_SESSION_KEY, [])
    story = reviews.story_next_for(user=request.user, skip=skipped)
    if story is not None:
        started = request.session.get(STARTED_SESSION_KEY, {})
        started.setdefault(str(story.pk), timezone.now().isoformat())
        request.session[STARTED_SESSION_KEY] = started
    return story


def _render_review(request, story, form=None, status=200):
    template = "curation/review.html"
    if request.htmx and not request.htmx.boosted:
        template += "#review-panel"
    return render(request, template, _review_context(request, story, form), status=status)


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.rate_story", raise_exception=True)
def review_queue(request):
    return _render_review(request, _next_story(request))


@require_POST
@permission_required("curation.rate_story", raise_exception=True)
def review_submit(request, story_id: int):
    form = ReviewForm(request.POST)
    story = Story.objects.select_related("topic__theme").filter(pk=story_id).first()
    if story is None:
        messages.error(request, "That story no longer exists.")
        return _render_review(request, _next_story(request))
    if not form.is_valid():
        messages.error(request, "Give every score (1-5) and a decision before submitting.")
        return _render_review(request, story, form, status=400)
    started = request.session.get(STARTED_SESSION_KEY, {}).pop(str(story_id), None)
    try:
        reviews.review_submit(
            story_id=story_id,
            reviewer=request.user,
            data=form.cleaned_data,
            started_at=datetime.fromisoformat(started) if started else None,
        )
    except ValidationError as error:
        messages.error(request, validation_text(error))
        reviews.story_release(story_id=story_id, user=request.user)
    else:
        messages.success(request, f"Review of story #{story_id} saved.")
    request.session.modified = True
    if not request.htmx:
        return HttpResponseRedirect(reverse("curation:review_queue"))
    return _render_review(request, _next_story(request))


@require_POST
@permission_required("curation.rate_story", raise_exception=True)
def review_skip(request, story_id: int):
    reviews.story_release(story_id=story_id, user=request.user)
    skipped = request.session.get(SKIP_SESSION_KEY, [])
    if story_id not in skipped:
        request.session[SKIP_SESSION_KEY] = [*skipped, story_id][-500:]
    messages.info(request, f"Skipped story #{story_id}; it goes to someone else.")
    if not request.htmx:
        return HttpResponseRedirect(reverse("curation:review_queue"))
    return _render_review(request, _next_story(request))


@require_http_methods(["GET", "POST"])
@permission_required("curation.view_story", raise_exception=True)
def guidelines(request):
    current = Guidelines.objects.order_by("-updated_at").first()
    can_edit = request.user.has_perm("curation.change_guidelines")
    form = GuidelinesForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST":
        if not can_edit:
            return render(request, "403.html", status=403)
        if form.is_valid():
            Guidelines.objects.create(text=form.cleaned_data["text"], updated_by=request.user)
            messages.success(request, "Guidelines saved.")
            return HttpResponseRedirect(reverse("curation:guidelines"))
    return render(
        request,
        "curation/guidelines.html",
        {"guidelines": current, "form": form, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )


# --- story browser --------------------------------------------------------------------------


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def story_browser(request):
    form = StoryFilterForm(request.GET)
    if not form.is_valid():
        message = f"Invalid filter: {form_errors_text(form)}"
        return render(request, "400.html", {"message": message}, status=400)
    filters = form.cleaned_data
    paginator = DeferredJoinPaginator(
        selectors.story_list(filters=filters), settings.STORYAPP_PAGE_SIZE
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
            "repetitive_ratio": selectors.REPETITIVE_RATIO,
            "themes": Theme.objects.filter(status="approved").order_by("name_key").only("name"),
        },
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
                reviews.story_adjudicate(
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
        review.diff = (
            list(
                difflib.unified_diff(
                    story.text.splitlines(),
                    review.edited_text.splitlines(),
                    "original",
                    "edit",
                    lineterm="",
                )
            )
            if review.edited_text
            else []
        )
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
    stories = (
        Story.objects.filter(status=Story.Status.ADJUDICATION)
        .select_related("topic__theme")
        .order_by("pk")
    )
    page = Paginator(stories, settings.STORYAPP_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "curation/adjudication.html",
        {"page_obj": page, "stories": page.object_list},
    )
