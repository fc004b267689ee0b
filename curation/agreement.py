"""Every automatic verdict measured against people: how often reviewers agreed with the quality
gates on the stories both judged, per gate and overall, with 95% intervals; and which stories
they disagreed on (the story browser's ``disagree`` filter).

People decided a story when its status is approved or rejected and the gates did not reject it
(an automatic rejection an admin reversed counts as decided by people). What the gates said:
a story that fails no check at all was passed clean (people agree when they approve it); a
story that fails a check with the action ``flag`` (or ``off``: the check is still computed) was
called doubtful by that check (people agree when they reject it).
"""

from functools import reduce
from operator import or_

from django.db.models import Count, Q

from storyapp.statistics import cohen_kappa, wilson_interval

from .gates import CHECKS, REJECT, GatePolicy
from .models import Adjudication, Story

APPROVED, REJECTED = Story.Status.APPROVED, Story.Status.REJECTED
DECIDED_BY_PEOPLE = Q(status__in=[APPROVED, REJECTED], auto_rejected=False)
FAILS_ANY = reduce(or_, (check.where for check in CHECKS.values()))
# The model judge's suggestion and the gates disagree: it says the story misses the brief while
# the gates passed it clean, or meets it while a check fails.
JUDGE_VS_GATES = (Q(judge_passed=False) & ~FAILS_ANY) | (Q(judge_passed=True) & FAILS_ANY)
DISAGREE_CHOICES = [
    ("judge", "People overruled the judge"),
    ("judge_gates", "The judge and the gates disagree"),
    ("gates", "People overruled the gates"),
    *((n, c.label) for n, c in CHECKS.items()),
]


def disagreements(name: str) -> Q:
    """The stories where people and the automatic verdict ``name`` disagree: "gates" (passed
    clean and rejected by people, or failing a check and approved by people) or a check's
    name (failing that check, approved by people)."""
    if name == "judge":
        return DECIDED_BY_PEOPLE & (
            (Q(judge_passed=True) & Q(status=REJECTED))
            | (Q(judge_passed=False) & Q(status=APPROVED))
        )
    if name == "judge_gates":
        return JUDGE_VS_GATES
    if name == "gates":
        return DECIDED_BY_PEOPLE & (
            (~FAILS_ANY & Q(status=REJECTED)) | (FAILS_ANY & Q(status=APPROVED))
        )
    return DECIDED_BY_PEOPLE & CHECKS[name].where & Q(status=APPROVED)


def _row(label: str, agree: int, n: int, **extra) -> dict:
    low, high = wilson_interval(agree, n)
    share = round(agree / n, 4) if n else None
    return {
        "label": label,
        "agree": agree,
        "n": n,
        "share": share,
        "low": round(low, 4),
        "high": round(high, 4),
        **extra,
    }


def gate_agreement(policy: GatePolicy | None = None) -> dict:
    """Agreement of the gates with people (one aggregate query over stories, one over the
    automatic decisions): ``overall``, ``clean`` (passed with no failed check: people
    approved), one row per check (failing it: people rejected), and ``reversed``: automatic
    rejections an admin reversed, of all the gates made."""
    policy = policy or GatePolicy.current()
    figures = {
        "clean_n": Count("pk", filter=DECIDED_BY_PEOPLE & ~FAILS_ANY),
        "clean_agree": Count("pk", filter=DECIDED_BY_PEOPLE & ~FAILS_ANY & Q(status=APPROVED)),
        "failing_n": Count("pk", filter=DECIDED_BY_PEOPLE & FAILS_ANY),
        "failing_agree": Count("pk", filter=DECIDED_BY_PEOPLE & FAILS_ANY & Q(status=REJECTED)),
    }
    for name, check in CHECKS.items():
        figures[f"{name}_n"] = Count("pk", filter=DECIDED_BY_PEOPLE & check.where)
        figures[f"{name}_agree"] = Count(
            "pk", filter=DECIDED_BY_PEOPLE & check.where & Q(status=REJECTED)
        )
    counts = Story.objects.aggregate(**figures)
    automatic = Adjudication.objects.filter(admin__isnull=True).aggregate(
        made=Count("story", distinct=True),
        reversed=Count("story", distinct=True, filter=Q(story__auto_rejected=False)),
    )
    overall_agree = counts["clean_agree"] + counts["failing_agree"]
    return {
        "overall": _row("Overall", overall_agree, counts["clean_n"] + counts["failing_n"]),
        "clean": _row(
            "Passed every check (people approved)", counts["clean_agree"], counts["clean_n"]
        ),
        "checks": [
            _row(
                check.label,
                counts[f"{name}_agree"],
                counts[f"{name}_n"],
                name=name,
                action=policy.actions.get(name, "off"),
                note="only the ones an admin reversed"
                if policy.actions.get(name) == REJECT
                else "",
            )
            for name, check in CHECKS.items()
        ],
        "automatic_rejections": automatic["made"],
        "reversed": automatic["reversed"],
    }


def judge_agreement() -> dict:
    """The model judge's single-story suggestions against people, on the stories both read:
    agreement (the judge said it meets the brief and people approved, or misses it and people
    rejected) and Cohen's kappa, each with a 95% interval (one query)."""
    rows = Story.objects.filter(DECIDED_BY_PEOPLE, judge_passed__isnull=False).values_list(
        "judge_passed", "status"
    )
    return cohen_kappa([(bool(passed), status == APPROVED) for passed, status in rows.iterator()])
