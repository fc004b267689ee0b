import pytest

from curation.catalog import THEMES
from curation.restrictions import restriction_reason


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Sexuality and desire", "sexual content"),
        ("A story about SEX", "sexual content"),
        ("Seduction at court", "sexual content"),
        ("Suicide and those left behind", "self-harm"),
        ("Self-harm and recovery", "self-harm"),
        ("Self harm", "self-harm"),
        ("Torture and resistance", "graphic violence"),
        ("Genocide and memory", "graphic violence"),
        ("Drugs and the inner city", "substance abuse"),
        ("Addiction", "substance abuse"),
        ("Child abuse", "child abuse"),
        ("Terrorism and its aftermath", "hate or extremism"),
    ],
)
def test_policy_flags_restricted_themes_with_their_category(name, category):
    assert category in restriction_reason(name)


@pytest.mark.parametrize(
    "name",
    [
        "Abuse of power",
        "Essex country life",
        "Sextant and stars",
        "War",
        "Death",
        "Forbidden love",
        "Coming of age",
        "Drugstore cowboys",
        "Redemption",
    ],
)
def test_policy_leaves_ordinary_literary_themes_alone(name):
    assert restriction_reason(name) == ""


def test_policy_reports_every_category_a_name_touches():
    assert restriction_reason("Drugs and torture") == "graphic violence, substance abuse"


def test_catalog_has_about_two_hundred_unique_themes_with_some_restricted():
    keys = {name.casefold() for name in THEMES}
    assert len(THEMES) >= 190
    assert len(keys) == len(THEMES)
    assert sum(1 for name in THEMES if restriction_reason(name)) >= 5
