"""The dataset card (README.md of a release), rendered from a template. It holds no name or
date: the same options over the same data give the same bytes."""

import json

from django.template.loader import render_to_string

from ..approval import Policy
from ..models import DatasetExport
from .layout import SPLITS

RECORD_SHAPES = {
    DatasetExport.Format.CHAT: '`{"messages": [system?, user prompt, assistant story]}`',
    DatasetExport.Format.PROMPT_COMPLETION: (
        '`{"prompt": [system?, user], "completion": [assistant story]}`'
    ),
    DatasetExport.Format.TEXT: '`{"text": "<user prompt>\\n\\n<story>"}`',
}


def card_render(export: DatasetExport, manifest: dict) -> str:
    text = render_to_string(
        "curation/exports/card.md",
        {
            "export": export,
            "split_counts": [(split, manifest["counts"][split]) for split in SPLITS],
            "record_shape": RECORD_SHAPES[export.format],
            "val_fraction": f"{export.val_fraction:g}",
            "models": manifest["models"],
            "templates": manifest["template_versions"],
            "sampling": [json.dumps(s, sort_keys=True) for s in manifest["sampling"]],
            "policy": Policy.current().describe(),
            "stats": manifest["review"],
            "min_score": export.min_score if export.min_score is not None else "none",
            "per_theme": manifest["per_theme"],
        },
    )
    return text.rstrip("\n") + "\n"
