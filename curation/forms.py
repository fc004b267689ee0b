"""Forms of the curation pages: filters, decisions, bulk rules, imports, team, reviews."""

from typing import cast

from django import forms
from django.core.exceptions import ValidationError

from storyapp.names import NameField
from storyapp.params import IdField, SeedField, parse_id

from .agreement import DISAGREE_CHOICES
from .gates import CHECKS
from .importing import import_limit_text
from .models import THEME_NAME_MAX_LENGTH, DatasetExport, Review, Story, ThemeQuerySet, Topic
from .selectors import STORY_SORTS, TOPIC_FILTERS
from .services.reviews import COMMENT_MAX_LENGTH
from .services.themes import DECISIONS, NOTE_MAX_LENGTH
from .services.topics import DECISIONS as TOPIC_DECISIONS

BUCKET_CHOICES = [("all", "All"), *((bucket, bucket.title()) for bucket in ThemeQuerySet.BUCKETS)]


class ThemeFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=THEME_NAME_MAX_LENGTH, strip=True)
    status = forms.ChoiceField(choices=BUCKET_CHOICES, required=False)

    def clean_status(self):
        return self.cleaned_data["status"] or "all"


class IdListField(forms.Field):
    """A list of positive integer ids from repeated form fields (``ids=1&ids=2``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return [parse_id(str(item), what="theme id") for item in value or []]


class TopicFilterForm(forms.Form):
    """Topic triage: which topics (selectors.TOPIC_FILTERS) of which theme, which text."""

    status = forms.ChoiceField(required=False, choices=[(s, s) for s in TOPIC_FILTERS])
    theme = IdField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)

    def clean_status(self):
        return self.cleaned_data["status"] or "pending"


class TopicDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in TOPIC_DECISIONS])
    duplicate_of = IdField(required=False)


class BulkConfirmForm(forms.Form):
    """A rule over the current filter: what to do, the count the person saw, and why."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect
    )
    expected = forms.IntegerField(min_value=0, max_value=10**9)
    reason = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH, strip=True)
    confirm = forms.BooleanField(required=False)


class ThemeDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(key, key.title()) for key in DECISIONS])
    ids = IdListField(required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
    override_restriction = forms.BooleanField(required=False)


class ThemeImportForm(forms.Form):
    file = forms.FileField(
        help_text="Plain text, one theme per line, or CSV with a 'theme' column. "
        f"At most {import_limit_text()}."
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True)
    roles = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role_names, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["roles"]).choices = [
            (name, name) for name in role_names
        ]


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role_names, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["roles"]).choices = [
            (name, name) for name in role_names
        ]


SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]


class ReviewForm(forms.Form):
    """A review: every score axis (Review.SCORE_AXES), a decision, optional reason and edit."""

    decision = forms.ChoiceField(choices=Review.Decision.choices)
    reason = forms.ChoiceField(required=False, choices=[("", "—"), *Review.Reason.choices])
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea)
    edited_text = forms.CharField(required=False, max_length=20000, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["overall"] = forms.TypedChoiceField(choices=SCORE_CHOICES, coerce=int)
        # A rubric axis is rated with its own key, or left empty: not rated.
        for axis in Review.RUBRIC:
            self.fields[axis] = forms.TypedChoiceField(
                choices=[("", "not rated"), *SCORE_CHOICES],
                coerce=int,
                empty_value=None,
                required=False,
            )


class AdjudicationForm(forms.Form):
    # No default: an admin picks the outcome on purpose.
    decision = forms.ChoiceField(choices=Review.Decision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class GuidelinesForm(forms.Form):
    text = forms.CharField(max_length=50000, widget=forms.Textarea(attrs={"rows": 16}))


# The automatic checks, as filters (curation.gates holds their labels and conditions).
CHECK_FILTERS = {name: check.label for name, check in CHECKS.items()}


class StoryFilterForm(forms.Form):
    """Every filter and sort comes from a whitelist; anything else is a 400."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Story.Status.choices])
    theme = IdField(required=False)
    model = forms.CharField(required=False, max_length=200)
    job = IdField(required=False)
    check = forms.MultipleChoiceField(required=False, choices=list(CHECK_FILTERS.items()))
    decided_by = forms.ChoiceField(
        required=False,
        choices=[("", "Anyone"), ("checks", "Rejected by the checks"), ("admin", "An admin")],
    )
    disagree = forms.ChoiceField(required=False, choices=[("", "Any verdicts"), *DISAGREE_CHOICES])
    topic_status = forms.ChoiceField(
        required=False, choices=[("", "Any topic"), *Topic.Status.choices]
    )
    min_score = forms.FloatField(required=False, min_value=1, max_value=5)
    max_score = forms.FloatField(required=False, min_value=1, max_value=5)
    reviewer = forms.CharField(required=False, max_length=150)
    q = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in STORY_SORTS])

    ALLOWED = {
        "status",
        "theme",
        "model",
        "job",
        "check",
        "decided_by",
        "disagree",
        "topic_status",
        "min_score",
        "max_score",
        "reviewer",
        "q",
        "sort",
        "page",
    }

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.unknown = sorted(set(data) - self.ALLOWED)

    def clean(self):
        if self.unknown:
            raise ValidationError(
                "Unknown parameter(s): %(names)s.",
                code="filter_unknown",
                params={"names": ", ".join(self.unknown)},
            )
        return super().clean()


class ExportForm(forms.Form):
    name = NameField()
    format = forms.ChoiceField(choices=DatasetExport.Format.choices)
    min_score = forms.FloatField(required=False, min_value=1, max_value=5)
    models = forms.MultipleChoiceField(required=False)
    themes = forms.TypedMultipleChoiceField(required=False, coerce=int)
    use_edits = forms.BooleanField(required=False, label="Use reviewers' edits")
    val_fraction = forms.FloatField(min_value=0, max_value=0.9, initial=0.1)
    seed = SeedField(initial=42)

    def __init__(self, *args, model_names=(), themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["models"]).choices = [(m, m) for m in model_names]
        cast(forms.ChoiceField, self.fields["themes"]).choices = [(t.pk, t.name) for t in themes]
