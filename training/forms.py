"""Forms of the training pages: fine-tunes, evaluations, blind judgments."""

from django import forms

from curation.models import DatasetExport
from curation.releases import trainable_formats
from generation.models import ModelProfile
from storyapp.names import NAME_HELP, NameField
from storyapp.params import SeedField, parse_ids

from .models import FineTuneJob


def _releases():
    return DatasetExport.objects.filter(
        status=DatasetExport.Status.DONE, format__in=trainable_formats()
    )


class FineTuneForm(forms.Form):
    release = forms.ModelChoiceField(queryset=_releases(), to_field_name="name")
    base = forms.ModelChoiceField(
        queryset=ModelProfile.objects.filter(backend=ModelProfile.Backend.TRANSFORMERS),
        to_field_name="name",
    )
    name = NameField(help_text=f"The new model's name: {NAME_HELP}.")
    method = forms.ChoiceField(
        choices=[
            ("", "Default (full below 500M parameters, else LoRA)"),
            *FineTuneJob.Method.choices,
        ],
        required=False,
    )
    epochs = forms.FloatField(min_value=0.01, max_value=20, initial=1)
    learning_rate = forms.FloatField(min_value=1e-7, max_value=1e-2, initial=5e-5)
    max_length = forms.IntegerField(min_value=16, max_value=8192, initial=512)
    batch_size = forms.IntegerField(min_value=1, max_value=512, initial=4)
    seed = SeedField(initial=42)
    lora_rank = forms.IntegerField(min_value=1, max_value=512, initial=16)
    lora_alpha = forms.IntegerField(min_value=1, max_value=1024, initial=32)
    lora_dropout = forms.FloatField(min_value=0, max_value=0.99, initial=0.05)


class EvaluationForm(forms.Form):
    profiles = forms.ModelMultipleChoiceField(
        queryset=ModelProfile.objects.all(), to_field_name="name", label="Models"
    )
    release = forms.ModelChoiceField(
        queryset=_releases(),
        to_field_name="name",
        required=False,
        help_text="Held-out topics: approved topics with no story in this release's train split.",
    )
    topics = forms.CharField(
        required=False, max_length=5000, help_text="Or topic ids separated by commas."
    )
    n_topics = forms.IntegerField(min_value=1, max_value=500, initial=40)
    seed = SeedField(initial=42)

    def clean_topics(self):
        value = self.cleaned_data["topics"].strip()
        return parse_ids(value, what="topic id") if value else []


class JudgmentForm(forms.Form):
    choice = forms.ChoiceField(choices=[("left", "Story 1"), ("right", "Story 2"), ("tie", "Tie")])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
