"""Topic triage: approve, reject, mark as a duplicate, undo; per theme, keyboard-friendly."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.errors import bad_request, form_errors_text, validation_text
from storyapp.htmx import render_page

from .. import selectors
from ..forms import TopicDecisionForm, TopicFilterForm
from ..models import Topic
from ..pagination import DeferredJoinPaginator
from ..services.topics import topic_decide as topic_decide_service
from ..services.topics import topics_decide_bulk
from .bulk import bulk_confirm


@require_GET
@vary_on_headers("HX-Request")
@permission_required("curation.view_topic", raise_exception=True)
def topic_triage(request):
    return _topic_panel(request, request.GET)


def _topic_panel(request, params):
    form = TopicFilterForm(params)
    if not form.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(form, with_fields=True)}")
    status, theme, q = (form.cleaned_data[k] for k in ("status", "theme", "q"))
    topics = selectors.topic_list(status=status, theme_id=theme, q=q)
    page = DeferredJoinPaginator(topics, settings.STORYAPP_PAGE_SIZE).get_page(params.get("page"))
    theme_id = str(theme or "")
    context = {
        "page_obj": page,
        "topics": page.object_list,
        "themes": selectors.topic_themes(),
        "status": status,
        "theme_id": theme_id,
        "q": q,
        "filter_query": urlencode({"status": status, "theme": theme_id, "q": q}),
        "can_triage": request.user.has_perm("curation.triage_topic"),
    }
    return render_page(request, "curation/topic_triage.html", context, partial="topic-panel")


@require_POST
@permission_required("curation.triage_topic", raise_exception=True)
def topic_decide(request, pk: int):
    form = TopicDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form, with_fields=True))
    else:
        try:
            topic_decide_service(
                topic_id=pk,
                decision=form.cleaned_data["decision"],
                actor=request.user,
                duplicate_of=form.cleaned_data["duplicate_of"],
            )
        except Topic.DoesNotExist:
            messages.error(request, "No such topic.")
        except ValidationError as error:
            messages.error(request, validation_text(error))
    params = {key: request.POST.get(key, "") for key in ("status", "theme", "q", "page")}
    if request.htmx:
        return _topic_panel(request, params)
    return HttpResponseRedirect(reverse("curation:topic_triage") + "?" + urlencode(params))


@require_http_methods(["GET", "POST"])
@permission_required("curation.triage_topic", raise_exception=True)
def topic_bulk(request):
    """Approve or reject every topic of the current filter, after a confirmation."""
    params = request.GET.copy()
    decision = params.pop("decision", ["reject"])[-1]
    filters = TopicFilterForm(params)
    if not filters.is_valid():
        return bad_request(request, f"Invalid filter: {form_errors_text(filters)}")
    data = filters.cleaned_data
    return bulk_confirm(
        request,
        queryset=selectors.topic_list(status=data["status"], theme_id=data["theme"], q=data["q"]),
        decision=decision,
        what="topics",
        list_url_name="curation:topic_triage",
        apply=lambda ids, decision, reason: topics_decide_bulk(
            topic_ids=ids, decision=decision, actor=request.user
        ),
    )
