"""The reviewing guidelines: one current text, every version kept."""

from django.db import transaction

from ..models import Guidelines

DEFAULT_GUIDELINES = """Read the topic first, then the story.

Score overall quality from 1 (unusable) to 5 (a model answer), then the rubric:
- Follows the brief: exactly two short paragraphs, a clear conclusion.
- Coherence: events follow from each other; no contradictions or loops.
- Creativity: a fresh take on the topic, not a stock plot.
- Characters and conclusion: named or distinct characters, and an ending that resolves.

Reject stories that are off-topic, unsafe, incoherent, cut off, or near-copies of another
story, and pick the reason. Approve only what you would want a small model to learn from.
Edit sparingly: fix a slip, do not rewrite; the original is kept either way."""


@transaction.atomic
def guidelines_ensure() -> bool:
    """Write the default reviewing guidelines when there are none. Idempotent."""
    if Guidelines.objects.exists():
        return False
    Guidelines.objects.create(text=DEFAULT_GUIDELINES)
    return True


@transaction.atomic
def guidelines_save(*, text: str, actor) -> Guidelines:
    """Save a new version of the guidelines; earlier versions stay as they were."""
    return Guidelines.objects.create(text=text, updated_by=actor)
