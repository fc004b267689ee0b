"""Where model folders live."""

from pathlib import Path

from django.conf import settings


def models_root() -> Path:
    """Where model folders live (the bundled model's and the fine-tuned ones)."""
    return Path(settings.VAR_DIR) / "models"
