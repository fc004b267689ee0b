"""Claiming a row of background work (an export, a fine-tune, an evaluation) the way generation
items are claimed: a conditional UPDATE takes a queued row, a heartbeat keeps it, the sweeper
takes back the rows of dead workers (queued again, or failed with the reason after
STORYAPP_MAX_ATTEMPTS). The model has ``status`` (QUEUED, RUNNING, FAILED and, when it has
``cancel_requested``, CANCELLED), ``claim_token``, ``claimed_by``, ``heartbeat_at``,
``attempts``, ``started_at``, ``finished_at`` and ``error``."""

import logging
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .heartbeat import heartbeat
from .redaction import scrub
from .workers import idle_queues, worker_identity

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


def failure_reason(exc: BaseException) -> str:
    """What a failed run records: the exception, scrubbed of keys, bounded."""
    text = str(exc)
    return scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:2000]


def run_claimed(
    model,
    pk: int,
    work: Callable,
    *,
    worker_id: str = "",
    progress: Callable[[], dict] | None = None,
    cleanup: Callable | None = None,
    reason: Callable[[BaseException], str] = failure_reason,
):
    """The skeleton every kind of claimed work runs in. Claim the row (None when it is not
    queued: a duplicated or late delivery does nothing); run ``work(row, token)`` while a
    heartbeat keeps the claim (with the fields ``progress()`` returns, if given); record the
    outcome: the fields ``work`` returns (status DONE unless they say otherwise), or nothing
    when ``work`` returned None because it recorded the outcome itself (``finish`` with the
    token). On an exception: ``cleanup(row, token)``, the row failed with ``reason(exc)``,
    and the exception raised again. Returns the row as it ended."""
    token = claim(model, pk, worker_id=worker_id)
    if token is None:
        return None
    row = model._default_manager.get(pk=pk)
    owned = model._default_manager.filter(pk=pk, claim_token=token)

    def beat() -> None:
        owned.update(heartbeat_at=timezone.now(), **(progress() if progress else {}))

    try:
        with heartbeat(beat):
            outcome = work(row, token)
    except Exception as exc:
        if cleanup is not None:
            cleanup(row, token)
        finish(model, pk, token, status=model.Status.FAILED, error=reason(exc))
        logger.warning("%s %s failed", model.__name__, pk, exc_info=True)
        raise
    # ``outcome`` names its status where DONE is not one of the model's (a model test).
    fields = (
        outcome
        if outcome is None or "status" in outcome
        else {"status": model.Status.DONE, **outcome}
    )
    if fields is not None and not finish(model, pk, token, **fields):
        logger.warning("%s %s: finished after its claim was taken back", model.__name__, pk)
    row.refresh_from_db()
    return row


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
            status=model.Status.QUEUED,
            claim_token="",
            claimed_by="",
            heartbeat_at=None,
            enqueued_at=now,
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


def temp_folder_name(name: str, token: str) -> str:
    """The temp folder of one run of the work ``name``: hidden, named by the run's token."""
    return f".{name}-{token}"


def temp_folders_of(root: Path, name: str) -> list[Path]:
    """The temp folders (and their ``-checkpoints`` twins) that runs of exactly ``name`` left
    in ``root``: the whole file name must be ``.<name>-<token>``, so the folders of
    ``student-r2`` are never those of ``student``."""
    if not root.is_dir():
        return []
    owned = re.compile(rf"\.{re.escape(name)}-[0-9a-f]{{32}}(?:-checkpoints)?")
    return [path for path in root.iterdir() if owned.fullmatch(path.name)]


def requeue_lost(
    model, *, lost, queue_of, enqueue, fail=None, now=None, hint: str = ""
) -> tuple[list[int], list[int]]:
    """Hand again the work whose task was lost before any worker took it (a worker killed
    while the task sat in its hands, a broker that dropped it): rows of ``lost`` (a queryset
    of rows waiting with no claim) whose task went to the queue more than
    STORYAPP_REQUEUE_SECONDS ago while a live worker of that queue sits idle (an idle worker
    would have taken a task that was there). Each is enqueued again (``enqueue(row)``); after
    STORYAPP_MAX_ATTEMPTS such hand-overs it fails with the reason (``fail(ids, reason)``, or
    status FAILED). Work that waits behind a busy worker is left alone and not counted.
    Returns (ids enqueued again, ids failed)."""
    now = now or timezone.now()
    idle = idle_queues(now=now)
    if not idle:
        return [], []
    waited = now - timedelta(seconds=settings.STORYAPP_REQUEUE_SECONDS)
    limit = settings.STORYAPP_MAX_ATTEMPTS
    rows = [
        row for row in lost.filter(enqueued_at__lt=waited) if "*" in idle or queue_of(row) in idle
    ]
    again = [row for row in rows if row.requeues < limit]
    failed = [row.pk for row in rows if row.requeues >= limit]
    for row in again:
        # Conditional: when two sweepers see the same row, one hands it again.
        taken = model.objects.filter(pk=row.pk, enqueued_at=row.enqueued_at).update(
            enqueued_at=now, requeues=F("requeues") + 1
        )
        if taken:
            logger.warning("%s %s: its task was lost; enqueued again", model.__name__, row.pk)
            enqueue(row)
    if failed:
        reason = f"no worker took its task after {limit} hand-overs{hint}"
        if fail is not None:
            fail(failed, reason)
        else:
            model.objects.filter(pk__in=failed, status=model.Status.QUEUED).update(
                status=model.Status.FAILED, finished_at=now, error=reason
            )
    return [row.pk for row in again], failed
