"""The review queue ("next story for me"), review submission and skipping, and guidelines."""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import form_errors_text, validation_text
from storyapp.htmx import render_page

from .. import selectors
from ..approval import Policy
from ..forms import GuidelinesForm, ReviewForm
from ..models import Review, Story
from ..services import reviews
from ..services.guidelines import guidelines_save

SKIP_SESSION_KEY = "review_skipped"
# The key that arms each rubric axis on the review page (then a digit rates it).
AXIS_KEYS = {"brief": "f", "coherence": "c", "creativity": "v", "characters": "h"}
STARTED_SESSION_KEY = "review_started"
# "judge": serve first the stories where the model judge and the gates disagree.
FIRST_SESSION_KEY = "review_first"


def _next_story(request) -> Story | None:
    skipped = request.session.get(SKIP_SESSION_KEY, [])
    first = request.session.get(FIRST_SESSION_KEY, "")
    story = reviews.story_next_for(user=request.user, skip=skipped, first=first)
    if story is not None:
        started = request.session.get(STARTED_SESSION_KEY, {})
        started.setdefault(str(story.pk), timezone.now().isoformat())
        request.session[STARTED_SESSION_KEY] = started
    return story


# The queue says how many stories wait for the reviewer up to this many ("more than" past
# it): a reviewer needs no exact count of thousands, and each page would pay for it.
QUEUE_COUNT_CAP = 200


def _render_review(request, story, form=None, status=200):
    remaining_cap = min(settings.STORYAPP_COUNT_CAP, QUEUE_COUNT_CAP)
    context = {
        "story": story,
        "form": form or ReviewForm(),
        "policy": Policy.current().describe(),
        "rubric": [(axis, Review.AXIS_LABELS[axis], AXIS_KEYS[axis]) for axis in Review.RUBRIC],
        "reasons": Review.Reason.choices,
        "has_guidelines": selectors.guidelines_current() is not None,
        "remaining": selectors.review_remaining(user=request.user, cap=remaining_cap),
        "remaining_cap": remaining_cap,
        "judge_first": request.session.get(FIRST_SESSION_KEY) == "judge",
    }
    return render_page(
        request, "curation/review.html", context, partial="review-panel", status=status
    )


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.rate_story", raise_exception=True)
def review_queue(request):
    if "first" in request.GET:
        first = request.GET["first"]
        request.session[FIRST_SESSION_KEY] = first if first == "judge" else ""
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


@require_POST
@permission_required("curation.rate_story", raise_exception=True)
def review_amend(request, story_id: int):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not amended: {form_errors_text(form, with_fields=True)}")
    else:
        try:
            reviews.review_amend(story_id=story_id, reviewer=request.user, data=form.cleaned_data)
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Your review of story #{story_id} is amended.")
    return HttpResponseRedirect(reverse("curation:story_detail", args=[story_id]))


@require_http_methods(["GET", "POST"])
@permission_required("curation.view_story", raise_exception=True)
def guidelines(request):
    current = selectors.guidelines_current()
    can_edit = request.user.has_perm("curation.change_guidelines")
    form = GuidelinesForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST":
        if not can_edit:
            return render(request, "403.html", status=403)
        if form.is_valid():
            guidelines_save(text=form.cleaned_data["text"], actor=request.user)
            messages.success(request, "Guidelines saved.")
            return HttpResponseRedirect(reverse("curation:guidelines"))
    return render(
        request,
        "curation/guidelines.html",
        {"guidelines": current, "form": form, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )
