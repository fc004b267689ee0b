"""The three roles, as Django groups with permissions. ``bootstrap`` keeps the groups in sync."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[str, ...] = ()
    # Every permission of these apps (the Admin role can do everything in the product).
    all_permissions_of_apps: tuple[str, ...] = ()


EDITOR = Role(
    "Editor",
    "Curates the theme catalog and launches generation jobs.",
    permissions=(
        "curation.view_theme",
        "curation.decide_theme",
        "curation.import_theme",
        "curation.view_topic",
        "curation.triage_topic",
        "curation.view_story",
        "curation.view_review",
        "generation.view_generationjob",
        "generation.launch_job",
        "generation.view_modelprofile",
        "generation.view_prompttemplate",
        "training.view_finetunejob",
        "training.view_evaluation",
    ),
)
REVIEWER = Role(
    "Reviewer",
    "Triages topics, rates stories and judges blind comparisons.",
    # Blind means blind: a reviewer judges comparisons but never sees their results or an
    # evaluation's figures per model (no training.view_evaluation).
    permissions=(
        "training.compare_stories",
        "curation.view_theme",
        "curation.view_topic",
        "curation.triage_topic",
        "curation.view_story",
        "curation.rate_story",
        "curation.view_review",
    ),
)
ADMIN = Role(
    "Admin",
    "Everything, including people, the model registry and exports.",
    permissions=("auth.view_user", "auth.change_user"),
    all_permissions_of_apps=("curation", "generation", "training"),
)
ROLES = (EDITOR, REVIEWER, ADMIN)
