from django import forms
from django.core.exceptions import ValidationError

from .models import THEME_NAME_MAX_LENGTH
from .services import DECISIONS, NOTE_MAX_LENGTH

BUCKET_CHOICES = [
    ("all", "All"),
    ("pending", "Pending"),
    ("restricted", "Restricted"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
]


class ThemeFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=THEME_NAME_MAX_LENGTH, strip=True)
    status = forms.ChoiceField(choices=BUCKET_CHOICES, required=False)

    def clean_status(self):
        return self.cleaned_data["status"] or "all"


class IdListField(forms.Field):
    """A list of positive integer ids from repeated form fields (``ids=1&ids=2``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        ids = []
        for item in value or []:
            try:
                number = int(item)
            except (TypeError, ValueError):
                raise ValidationError(
                    "Invalid theme id %(id)r.", code="id_invalid", params={"id": item}
                ) from None
            if number <= 0:
                raise ValidationError(
                    "Invalid theme id %(id)r.", code="id_invalid", params={"id": item}
                )
            ids.append(number)
        return ids


class ThemeDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(key, key.title()) for key in DECISIONS])
    ids = IdListField(required=False)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
    override_restriction = forms.BooleanField(required=False)


class ThemeImportForm(forms.Form):
    file = forms.FileField(
        help_text="Plain text, one theme per line, or CSV with a 'theme' column. At most 1 MiB."
    )


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, role_names, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(name, name) for name in role_names]
