"""Fine-tunes: launch, watch (progress, loss curve, tokens/s, ETA), cancel."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from storyapp.charts import line_chart
from storyapp.errors import form_errors_text, validation_text
from storyapp.htmx import render_page
from storyapp.workers import work_state

from ..forms import FineTuneForm
from ..models import FineTuneJob
from ..services.finetune import finetune_cancel, finetune_create
from ..tasks import QUEUE


@require_GET
@permission_required("training.view_finetunejob", raise_exception=True)
def finetune_list(request):
    page = Paginator(
        FineTuneJob.objects.select_related("release", "base", "output_model"),
        settings.STORYAPP_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "training/finetune_list.html",
        {
            "page_obj": page,
            "jobs": page.object_list,
            "form": FineTuneForm(),
            "can_launch": request.user.has_perm("training.launch_finetune"),
        },
    )


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def finetune_new(request):
    form = FineTuneForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            job = finetune_create(
                **{k: v for k, v in data.items() if k != "method"},
                method=data["method"] or None,
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            messages.success(request, f"Fine-tune {job.name} queued on {QUEUE}.")
            return HttpResponseRedirect(job.get_absolute_url())
    else:
        messages.error(request, form_errors_text(form, with_fields=True))
    return HttpResponseRedirect(reverse("training:finetune_list"))


@require_GET
@vary_on_headers("HX-Request")
@permission_required("training.view_finetunejob", raise_exception=True)
def finetune_detail(request, pk: int):
    job = get_object_or_404(
        FineTuneJob.objects.select_related("release", "base", "output_model"), pk=pk
    )
    remaining = None
    if job.step and job.total_steps and job.started_at and not job.is_finished:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        remaining = elapsed / job.step * (job.total_steps - job.step)
    context = {
        "job": job,
        "loss_chart": line_chart(
            [(step, loss) for step, loss in job.losses or []],
            title="Training loss by step",
            x_label="Step",
            y_label="Loss",
        ),
        "eta_seconds": remaining,
        **work_state(job, QUEUE),
        "can_launch": request.user.has_perm("training.launch_finetune"),
        "perplexity": {
            "base": _perplexity(job.base_val_loss),
            "tuned": _perplexity(job.tuned_val_loss),
        },
    }
    return render_page(
        request,
        "training/finetune_detail.html",
        context,
        partial="finetune-progress",
        finished=not context["polling"],
    )


def _perplexity(loss):
    return None if loss is None else round(math.exp(loss), 3)


@require_POST
@permission_required("training.launch_finetune", raise_exception=True)
def finetune_stop(request, pk: int):
    job = get_object_or_404(FineTuneJob, pk=pk)
    finetune_cancel(job=job)
    messages.info(request, "Cancelling: the training stops at its next step.")
    return HttpResponseRedirect(job.get_absolute_url())
