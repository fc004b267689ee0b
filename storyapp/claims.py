"""Claiming a row of background work (an export, a fine-tune, an evaluation) the way generation
items are claimed: a conditional UPDATE takes a queued row, a heartbeat keeps it, the sweeper
takes back the rows of dead workers (queued again, or failed with the reason after
STORYAPP_MAX_ATTEMPTS). The model has ``status`` (QUEUED, RUNNING, FAILED and, when it has
``cancel_requested``, CANCELLED), ``claim_token``, ``claimed_by``, ``heartbeat_at``,
``attempts``, ``started_at``, ``finished_at`` and ``error``."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .workers import worker_identity

logger = logging.getLogger(__name__)


def _cancellable(model) -> bool:
    return any(field.name == "cancel_requested" for field in model._meta.get_fields())


def claim(model, pk: int, *, worker_id: str = "") -> str | None:
    """A token when this run took the queued row ``pk``; None when it is not queued (done,
    failed, cancelled, or another run has it): two runs are exclusive."""
    token = uuid.uuid4().hex
    now = timezone.now()
    queued = model.objects.filter(pk=pk, status=model.Status.QUEUED)
    if _cancellable(model):
        queued = queued.filter(cancel_requested=False)
    taken = queued.update(
        status=model.Status.RUNNING,
        claim_token=token,
        claimed_by=(worker_id or worker_identity())[:200],
        heartbeat_at=now,
        started_at=now,
        attempts=F("attempts") + 1,
        error="",
    )
    return token if taken else None


def finish(model, pk: int, token: str, **fields) -> bool:
    """Record the outcome, only while this run still owns the row."""
    return bool(
        model.objects.filter(pk=pk, claim_token=token, status=model.Status.RUNNING).update(
            finished_at=timezone.now(), claim_token="", **fields
        )
    )


def sweep(model, *, now=None, hint: str = "") -> tuple[list[int], list[int]]:
    """Rows whose worker stopped beating: queued again, cancelled where a cancel was asked,
    or failed after STORYAPP_MAX_ATTEMPTS losses (``hint`` ends that reason). Returns the ids
    queued again (the caller enqueues a task for each) and every id swept."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    limit = settings.STORYAPP_MAX_ATTEMPTS
    cancel_field = ("cancel_requested",) if _cancellable(model) else ()
    with transaction.atomic():
        rows = [
            (pk, attempts, bool(cancel and cancel[0]))
            for pk, attempts, *cancel in model.objects.select_for_update()
            .filter(status=model.Status.RUNNING)
            .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
            .values_list("pk", "attempts", *cancel_field)
        ]
        again = [pk for pk, attempts, cancel in rows if attempts < limit and not cancel]
        cancelled = [pk for pk, _, cancel in rows if cancel]
        failed = [pk for pk, attempts, cancel in rows if attempts >= limit and not cancel]
        running = model.objects.filter(status=model.Status.RUNNING)
        running.filter(pk__in=again).update(
            status=model.Status.QUEUED, claim_token="", claimed_by="", heartbeat_at=None
        )
        if cancelled:
            running.filter(pk__in=cancelled).update(
                status=model.Status.CANCELLED, claim_token="", finished_at=now
            )
        running.filter(pk__in=failed).update(
            status=model.Status.FAILED,
            claim_token="",
            finished_at=now,
            error=f"its worker stopped responding {limit} times{hint}",
        )
    if rows:
        logger.info("swept %d %s row(s): %d queued again", len(rows), model.__name__, len(again))
    return again, [pk for pk, _, _ in rows]
