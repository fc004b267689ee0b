from django import forms

from storyapp.params import parse_ids

from .models import GenerationJob, ModelProfile, PromptTemplate


class JobForm(forms.Form):
    kind = forms.ChoiceField(choices=GenerationJob.Kind.choices)
    model = forms.ModelChoiceField(queryset=ModelProfile.objects.all(), to_field_name="name")
    selection = forms.CharField(
        max_length=2000,
        required=False,
        help_text="Empty: every approved theme (topics) or every topic not rejected (stories). "
        "Or ids separated by commas.",
    )
    per_input = forms.IntegerField(min_value=1, max_value=50, required=False)
    prompt_mode = forms.ChoiceField(
        choices=GenerationJob.PromptMode.choices, initial=GenerationJob.PromptMode.CHAT
    )

    def clean_selection(self):
        value = self.cleaned_data["selection"].strip()
        if not value or value in ("approved", "not-rejected"):
            return value or None
        return parse_ids(value)


class ModelProfileForm(forms.ModelForm):
    class Meta:
        model = ModelProfile
        fields = ["name", *ModelProfile.EDITABLE_FIELDS]
        help_texts = {
            "api_key_env": "The NAME of an environment variable on the workers; the key itself "
            "is never stored or shown.",
            "model": "transformers: a local folder on the workers. openai: the model name.",
            "queue": "Workers serving this queue must hold the model.",
        }


class PromptTemplateForm(forms.ModelForm):
    class Meta:
        model = PromptTemplate
        fields = ["kind", "system", "user", "raw", "note"]
        widgets = {
            "system": forms.Textarea(attrs={"rows": 8}),
            "user": forms.Textarea(attrs={"rows": 2}),
            "raw": forms.Textarea(attrs={"rows": 8}),
        }
