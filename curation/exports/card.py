"""The dataset card (README.md of a release), rendered from a template. It holds no name or
date: the same options over the same data give the same bytes."""

import json

from django.conf import settings
from django.template.loader import render_to_string

from ..approval import Policy
from ..gates import GatePolicy
from ..models import DatasetExport
from .formats import format_of
from .layout import SPLITS


def _percent(share) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}".rstrip("0").rstrip(".")


def card_render(export: DatasetExport, manifest: dict) -> str:
    stats = manifest["statistics"]
    text = render_to_string(
        "curation/exports/card.md",
        {
            "export": export,
            "split_counts": [(split, manifest["counts"][split]) for split in SPLITS],
            "record_shape": format_of(export.format).shape,
            "val_fraction": f"{export.val_fraction:g}",
            "models": manifest["models"],
            "templates": manifest["template_versions"],
            "sampling": [json.dumps(s, sort_keys=True) for s in manifest["sampling"]],
            "policy": Policy.current().describe(),
            "gates": GatePolicy.current().describe(),
            "stats": stats,
            "shares": {name: _percent(share) for name, share in stats["shares"].items()},
            "two_paragraph_percent": _percent(stats["two_paragraph_share"]),
            "auto_rejected_percent": _percent(stats["auto_rejected_share"]) + "%"
            if stats["auto_rejected_share"] is not None
            else "n/a",
            "warnings": manifest["warnings"],
            "min_score": export.min_score if export.min_score is not None else "none",
            "per_theme": manifest["per_theme"],
            "near_duplicate_similarity": f"{settings.STORYAPP_NEAR_DUPLICATE_SIMILARITY:g}",
            "sources": [
                {
                    **row,
                    "stopped": _percent(row["stopped_share"]),
                    "repaired": _percent(row["repaired_share"]),
                    "judge": (
                        f"{_percent(row['judge_passed_share'])}% of {row['judged']}"
                        if row["judge_passed_share"] is not None
                        else "not judged"
                    ),
                }
                for row in stats.get("sources", [])
            ],
        },
    )
    return text.rstrip("\n") + "\n"
