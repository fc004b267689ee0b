"""Forms of the training pages: fine-tunes, evaluations, blind judgments."""

from django import forms

from curation.models import DatasetExport
from curation.releases import trainable_formats
from generation.models import ModelProfile
from storyapp.names import NAME_HELP, NameField
from storyapp.params import SeedField, parse_ids

from .models import FineTuneJob
from .services.evaluation import MAX_TOPICS
from .services.finetune import LIMITS


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
    epochs = LIMITS["epochs"].form_field(initial=1)
    learning_rate = LIMITS["learning_rate"].form_field(initial=5e-5)
    max_length = LIMITS["max_length"].form_field(initial=512)
    batch_size = LIMITS["batch_size"].form_field(initial=4)
    seed = SeedField(initial=42)
    # Shown only when the method may be LoRA (app.js hides them for "full").
    lora_rank = LIMITS["lora_rank"].form_field(initial=16, label="LoRA rank")
    lora_alpha = LIMITS["lora_alpha"].form_field(initial=32, label="LoRA alpha")
    lora_dropout = LIMITS["lora_dropout"].form_field(initial=0.05, label="LoRA dropout")


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
    n_topics = forms.IntegerField(min_value=1, max_value=MAX_TOPICS, initial=40)
    seed = SeedField(initial=42)

    def clean_topics(self):
        value = self.cleaned_data["topics"].strip()
        return parse_ids(value, what="topic id") if value else []


class JudgmentForm(forms.Form):
    choice = forms.ChoiceField(choices=[("left", "Story 1"), ("right", "Story 2"), ("tie", "Tie")])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
