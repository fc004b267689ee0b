"""The site-wide navigation: which links the signed-in user's roles allow."""


def nav(request):
    """Navigation flags for the signed-in user (permission checks are cached per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "themes": user.has_perm("curation.view_theme"),
            "import_themes": user.has_perm("curation.import_theme"),
            "team": user.has_perm("auth.change_user"),
            "topics": user.has_perm("curation.view_topic"),
            "review": user.has_perm("curation.rate_story"),
            "stories": user.has_perm("curation.view_story"),
            "adjudication": user.has_perm("curation.adjudicate_story"),
            "exports": user.has_perm("curation.download_export"),
            "jobs": user.has_perm("generation.view_generationjob"),
            "models": user.has_perm("generation.view_modelprofile"),
            "prompts": user.has_perm("generation.view_prompttemplate"),
            "training": user.has_perm("training.view_finetunejob"),
            "compare": user.has_perm("training.compare_stories"),
        }
    }
