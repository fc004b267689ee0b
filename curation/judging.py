"""Judging, curation's public verdict on one generated story: its checks, the gates and the
automatic trim. Curation uses it when it stores a story; evaluations and the sampling bench
use the same function, so every figure about "passing the gates" means one thing."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from .checks import REPETITIVE_RATIO, story_checks, trim_to_two
from .gates import CHECKS, GatePolicy

__all__ = ["CHECKS", "REPETITIVE_RATIO", "GatePolicy", "Verdict", "judge", "story_checks"]


@dataclass(frozen=True)
class Verdict:
    """``checks``: the check fields of the text as the model wrote it. ``judged_text``: the
    text curation judges and keeps (the automatic trim where the policy trims, else the
    text), with ``judged_checks`` its check fields. ``passed``: the gates on the text as
    written (what the model did on its own); ``usable``: the gates on the judged text (what
    curation would keep). ``rejections``: the reject gates the judged text fails."""

    checks: dict
    judged_text: str
    judged_checks: dict
    trimmed: bool
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
    near_duplicate_of_id: int | None = None,
) -> Verdict:
    """The verdict of the gates (``policy``: the configured one by default) on one story.

    A story past two paragraphs whose first two are complete is judged as those two when the
    policy trims: a trimmed story ends where it was cut, so the token limit no longer applies
    to it."""
    policy = policy or GatePolicy.current()
    checks = story_checks(text, finish_reason)
    trimmed = trim_to_two(text) if policy.trim else None
    judged_checks = story_checks(trimmed, "stop") if trimmed else checks
    rejections = _fails(policy, judged_checks, near_duplicate_of_id)
    return Verdict(
        checks=checks,
        judged_text=trimmed or text,
        judged_checks=judged_checks,
        trimmed=bool(trimmed),
        passed=not _fails(policy, checks, near_duplicate_of_id),
        usable=not rejections,
        rejections=rejections,
    )
