"""Claiming training work (fine-tunes, evaluations) like generation items and exports: a
conditional UPDATE takes a queued row, a heartbeat keeps it, the sweeper takes back the rows
of dead workers (queued again, or failed with the reason after STORYAPP_MAX_ATTEMPTS)."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from storyapp.workers import worker_identity

logger = logging.getLogger(__name__)


def claim(model, pk: int) -> str | None:
    """A token when this run took the queued row ``pk``; None when it is not queued."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = model.objects.filter(pk=pk, status=model.Status.QUEUED, cancel_requested=False).update(
        status=model.Status.RUNNING,
        claim_token=token,
        claimed_by=worker_identity()[:200],
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


def sweep(model, *, now=None) -> list[int]:
    """Rows whose worker stopped beating: queued again (returned) or failed."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.STORYAPP_CLAIM_STALE_SECONDS)
    limit = settings.STORYAPP_MAX_ATTEMPTS
    with transaction.atomic():
        rows = list(
            model.objects.select_for_update()
            .filter(status=model.Status.RUNNING)
            .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
            .values_list("pk", "attempts", "cancel_requested")
        )
        again = [pk for pk, attempts, cancel in rows if attempts < limit and not cancel]
        cancelled = [pk for pk, _, cancel in rows if cancel]
        failed = [pk for pk, attempts, cancel in rows if attempts >= limit and not cancel]
        running = model.objects.filter(status=model.Status.RUNNING)
        running.filter(pk__in=again).update(
            status=model.Status.QUEUED, claim_token="", claimed_by="", heartbeat_at=None
        )
        running.filter(pk__in=cancelled).update(
            status=model.Status.CANCELLED, claim_token="", finished_at=now
        )
        running.filter(pk__in=failed).update(
            status=model.Status.FAILED,
            claim_token="",
            finished_at=now,
            error=f"its worker stopped responding {limit} times",
        )
    if rows:
        logger.info("swept %d %s row(s)", len(rows), model.__name__)
    return again
