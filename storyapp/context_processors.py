"""The site-wide navigation: the links the signed-in user's roles allow, grouped so the bar
fits on one line (a group of one link is the link itself)."""

from functools import cache

from django.urls import reverse

# (group, label, url name, permission). Review stands alone: reviewers press it all day.
LINKS = (
    ("", "Review", "curation:review_queue", "curation.rate_story"),
    ("Curate", "Themes", "curation:theme_list", "curation.view_theme"),
    ("Curate", "Topics", "curation:topic_triage", "curation.view_topic"),
    ("Curate", "Stories", "curation:story_browser", "curation.view_story"),
    ("Curate", "Adjudication", "curation:adjudication", "curation.adjudicate_story"),
    ("Curate", "Import themes", "curation:theme_import", "curation.import_theme"),
    ("Generate", "Jobs", "generation:job_list", "generation.view_generationjob"),
    ("Generate", "Models", "generation:model_list", "generation.view_modelprofile"),
    ("Generate", "Prompts", "generation:prompt_list", "generation.view_prompttemplate"),
    ("Train", "Releases", "curation:export_list", "curation.download_export"),
    ("Train", "Fine-tunes", "training:finetune_list", "training.view_finetunejob"),
    ("Train", "Evaluations", "training:evaluation_list", "training.view_evaluation"),
    ("Train", "Rounds", "training:round_list", "training.view_finetunejob"),
    ("Train", "Compare", "training:compare", "training.compare_stories"),
    ("", "Team", "curation:team", "auth.change_user"),
)


@cache
def _url(name: str) -> str:
    return reverse(name)


def nav(request):
    """``nav``: the bar's entries in order, each a link or a group of links, with the one
    the page belongs to marked current (permission checks are cached per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    here = request.path
    entries: list[dict] = []
    groups: dict[str, dict] = {}
    for group, label, name, permission in LINKS:
        if not user.has_perm(permission):
            continue
        url = _url(name)
        link = {"label": label, "url": url, "current": here.startswith(url) and url != "/"}
        if not group:
            entries.append(link)
        elif group in groups:
            groups[group]["links"].append(link)
        else:
            groups[group] = {"label": group, "links": [link]}
            entries.append(groups[group])
    for entry in entries:
        if "links" in entry:
            entry["current"] = any(link["current"] for link in entry["links"])
    # A group of one link is that link.
    return {
        "nav": [
            entry["links"][0] if "links" in entry and len(entry["links"]) == 1 else entry
            for entry in entries
        ]
    }
