"""Blind pairwise comparison: reviewers judge two stories for the same topic, side by side, in
an order drawn at random for each pair and reviewer, without knowing the models."""

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from ..models import ComparisonPair, Judgment

# Each pair is judged by this many reviewers (two: agreement can be measured).
JUDGMENTS_PER_PAIR = 2
KEYS = {"1": "left", "2": "right", "0": "tie"}


def judgment_next_for(*, user, skip: Sequence[int] = ()) -> Judgment | None:
    """The pair this reviewer should judge now, with its order drawn (and kept): a pair they
    were already shown and did not judge comes back first."""
    open_one = (
        Judgment.objects.filter(reviewer=user, winner="")
        .exclude(pair_id__in=skip)
        .select_related("pair__a__topic__theme", "pair__b")
        .order_by("pk")
        .first()
    )
    if open_one:
        return open_one
    mine = Judgment.objects.filter(pair=OuterRef("pk"), reviewer=user)
    candidates = (
        ComparisonPair.objects.filter(judgments_count__lt=JUDGMENTS_PER_PAIR)
        .exclude(Exists(mine))
        .exclude(pk__in=skip)
        .order_by("judgments_count", "pk")
        .values_list("pk", flat=True)[:5]
    )
    for pair_id in candidates:
        try:
            with transaction.atomic():
                judgment = Judgment.objects.create(
                    pair_id=pair_id, reviewer=user, left_is_a=secrets.randbelow(2) == 1
                )
                ComparisonPair.objects.filter(pk=pair_id).update(
                    judgments_count=F("judgments_count") + 1
                )
        except IntegrityError:
            continue
        return Judgment.objects.select_related("pair__a__topic__theme", "pair__b").get(
            pk=judgment.pk
        )
    return None


@transaction.atomic
def judgment_record(*, judgment_id: int, user, choice: str, reason: str = "") -> Judgment:
    """Record "left", "right" or "tie" for a pair this reviewer was served."""
    if choice not in KEYS.values():
        raise ValidationError("Choose story 1, story 2 or a tie.", code="choice_invalid")
    judgment = Judgment.objects.select_for_update().filter(pk=judgment_id, reviewer=user).first()
    if judgment is None:
        raise ValidationError("That comparison is not yours to judge.", code="not_yours")
    if judgment.winner:
        raise ValidationError("You judged this pair already.", code="already_judged")
    if choice == "tie":
        winner = Judgment.Winner.TIE
    else:
        left = choice == "left"
        winner = Judgment.Winner.A if left == judgment.left_is_a else Judgment.Winner.B
    judgment.winner = winner
    judgment.reason = reason.strip()[:2000]
    judgment.decided_at = timezone.now()
    judgment.save(update_fields=["winner", "reason", "decided_at"])
    return judgment


def judgments_release_stale(*, now=None) -> int:
    """Served pairs nobody judged within the reservation time go back to others."""
    now = now or timezone.now()
    before = now - timedelta(minutes=settings.STORYAPP_RESERVATION_MINUTES)
    stale = list(
        Judgment.objects.filter(winner="", served_at__lt=before).values_list("pk", "pair_id")
    )
    with transaction.atomic():
        for pk, pair_id in stale:
            if Judgment.objects.filter(pk=pk, winner="").delete()[0]:
                ComparisonPair.objects.filter(pk=pair_id).update(
                    judgments_count=F("judgments_count") - 1
                )
    return len(stale)
