"""The curation app's models, one module per area; import them from here."""

from .exports import DatasetExport
from .reviews import Adjudication, Guidelines, JudgeSuggestion, Review
from .texts import (
    CHECK_COLUMNS,
    CheckedText,
    Provenance,
    Story,
    StoryBand,
    StoryQuerySet,
    Topic,
)
from .themes import THEME_NAME_MAX_LENGTH, Theme, ThemeEvent, ThemeQuerySet

__all__ = [
    "CHECK_COLUMNS",
    "CheckedText",
    "THEME_NAME_MAX_LENGTH",
    "Adjudication",
    "DatasetExport",
    "Guidelines",
    "JudgeSuggestion",
    "Provenance",
    "Review",
    "Story",
    "StoryBand",
    "StoryQuerySet",
    "Theme",
    "ThemeEvent",
    "ThemeQuerySet",
    "Topic",
]
