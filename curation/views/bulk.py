"""A rule over a list's current filter: count what it matches, ask for a confirmation (and the
count the person saw), then apply one decision to all of it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from storyapp.errors import validation_text

from ..forms import BulkConfirmForm


def bulk_confirm(request, *, queryset, decision, what, list_url_name, apply):
    """``apply(ids, decision, reason)`` makes the change and returns how many rows changed; a
    ValidationError it raises is shown and nothing changes. The filter stays in the query
    string, so the list the person returns to is the one they acted on."""
    count = queryset.count()
    form = BulkConfirmForm(request.POST or None, initial={"decision": decision, "expected": count})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm"] or data["expected"] != count:
            messages.error(
                request,
                f"The filter now matches {count} {what} (you saw {data['expected']}); "
                "check and confirm again.",
            )
        else:
            try:
                changed = apply(
                    list(queryset.values_list("pk", flat=True)), data["decision"], data["reason"]
                )
            except ValidationError as error:
                messages.error(request, validation_text(error))
            else:
                messages.success(request, f"{changed} of {count} {what} changed.")
                return HttpResponseRedirect(reverse(list_url_name) + "?" + request.GET.urlencode())
    params = request.GET.copy()
    params.pop("decision", None)
    return render(
        request,
        "curation/bulk_confirm.html",
        {
            "form": form,
            "count": count,
            "what": what,
            "sample": queryset[:10],
            "filter_query": params.urlencode(),
            "back": reverse(list_url_name),
        },
        status=400 if form.errors else 200,
    )
