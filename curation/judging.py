"""Judging, curation's public verdict on one generated story: its checks, the gates and the
automatic repair. Curation uses it when it stores a story; evaluations and the sampling bench
use the same function, so every figure about "passing the gates" means one thing."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from .checks import REPETITIVE_RATIO, repair_two, story_checks
from .gates import CHECKS, GatePolicy

__all__ = ["CHECKS", "REPETITIVE_RATIO", "GatePolicy", "Verdict", "judge", "story_checks"]


@dataclass(frozen=True)
class Verdict:
    """``checks``: the check fields of the text as the model wrote it. ``judged_text``: the
    text curation judges and keeps (the automatic repair where the policy repairs, else the
    text), with ``judged_checks`` its check fields. ``passed``: the gates on the text as
    written (what the model did on its own, the headline figure); ``usable``: the gates on
    the judged text (what curation would keep). ``rejections``: the reject gates the judged
    text fails."""

    checks: dict
    judged_text: str
    judged_checks: dict
    repaired: bool
    passed: bool
    usable: bool
    rejections: list[str] = field(default_factory=list)


def _fails(policy: GatePolicy, checks: dict, near_duplicate_of_id) -> list[str]:
    return policy.rejections(SimpleNamespace(**checks, near_duplicate_of_id=near_duplicate_of_id))


def judge(
    text: str,
    finish_reason: str,
    policy: GatePolicy | None = None,
    *,
    topic: str = "",
    near_duplicate_of_id: int | None = None,
) -> Verdict:
    """The verdict of the gates (``policy``: the configured one by default) on one story
    written for ``topic``.

    A story that ended on its own in more than two paragraphs is judged as its repair (the
    same text in two paragraphs) when the policy repairs; a story cut off by the token limit
    is judged as written."""
    policy = policy or GatePolicy.current()
    checks = story_checks(text, finish_reason, topic)
    # A reply that is not a story, or echoes its prompt, is not one once re-paragraphed either.
    repairable = policy.repair and not checks["not_story"] and not checks["echo"]
    repaired = repair_two(text, finish_reason) if repairable else None
    judged_checks = story_checks(repaired, finish_reason, topic) if repaired else checks
    rejections = _fails(policy, judged_checks, near_duplicate_of_id)
    return Verdict(
        checks=checks,
        judged_text=repaired or text,
        judged_checks=judged_checks,
        repaired=bool(repaired),
        passed=not _fails(policy, checks, near_duplicate_of_id),
        usable=not rejections,
        rejections=rejections,
    )
