"""The approval policy: how a story's reviews decide its status. Settings, shown in the UI."""

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from django.conf import settings

from .models import Review, Story


@dataclass(frozen=True)
class Policy:
    overlap: int
    approve_mean: float

    @classmethod
    def current(cls) -> "Policy":
        return cls(settings.STORYAPP_REVIEW_OVERLAP, settings.STORYAPP_APPROVE_MEAN)

    def status_for(self, reviews: Sequence[tuple[str, int]]) -> str:
        """Status from (decision, overall) pairs: the one place the policy is written down."""
        rejects = sum(1 for decision, _ in reviews if decision == Review.Decision.REJECT)
        if rejects * 2 > self.overlap:
            return Story.Status.REJECTED
        if len(reviews) < self.overlap:
            return Story.Status.PENDING
        if rejects == 0 and fmean(overall for _, overall in reviews) >= self.approve_mean:
            return Story.Status.APPROVED
        return Story.Status.ADJUDICATION

    def describe(self) -> str:
        return (
            f"{self.overlap} reviews per story. Approved with {self.overlap} or more reviews, "
            f"no reject and a mean overall score of at least {self.approve_mean:g}; rejected "
            f"when a majority of {self.overlap} reject; otherwise an admin adjudicates."
        )
