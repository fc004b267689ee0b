"""Forms of the generation pages: jobs, model profiles, prompt template versions."""

from typing import cast

from django import forms
from django.db import models

from storyapp.params import parse_ids

from .models import GenerationJob, ModelProfile, PromptTemplate


class JobForm(forms.Form):
    kind = forms.ChoiceField(choices=GenerationJob.Kind.choices)
    model = forms.ModelChoiceField(queryset=ModelProfile.objects.all(), to_field_name="name")
    scope = forms.ChoiceField(
        label="Which",
        choices=[
            ("", "Every approved theme (topics) · every topic not rejected (stories)"),
            ("approved", "Stories: approved topics only"),
        ],
        required=False,
    )
    selection = forms.CharField(
        label="Or these ids",
        max_length=2000,
        required=False,
        help_text="Theme ids (topics) or topic ids (stories), separated by commas; the ids "
        "are on the themes and topics pages. Empty: as chosen above.",
    )
    per_input = forms.IntegerField(min_value=1, max_value=50, required=False)
    until_pass = forms.IntegerField(
        min_value=0,
        max_value=20,
        required=False,
        label="Until a story passes",
        help_text="Stories: sample a topic again (new seed) while all its stories fail the "
        "quality gates, up to this many samples. Empty: once.",
    )
    prompt_mode = forms.ChoiceField(
        choices=GenerationJob.PromptMode.choices, initial=GenerationJob.PromptMode.CHAT
    )

    def clean_selection(self):
        value = self.cleaned_data["selection"].strip()
        if not value or value in ("approved", "not-rejected"):
            return value or None
        return parse_ids(value)

    def clean(self):
        cleaned = super().clean() or {}
        # Ids win; otherwise "approved" narrows a stories job to approved topics (a topics job
        # always takes approved themes).
        if cleaned.get("selection") is None and cleaned.get("scope") == "approved":
            if cleaned.get("kind") == GenerationJob.Kind.STORIES:
                cleaned["selection"] = "approved"
        return cleaned


class ModelProfileForm(forms.ModelForm):
    # Optional in the form: empty means the model's default (off, or auto for batch_size).
    OPTIONAL = (
        "batch_size",
        "repetition_penalty",
        "no_repeat_ngram_size",
        "frequency_penalty",
        "presence_penalty",
        "extra_body",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.OPTIONAL:
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean() or {}
        for name in self.OPTIONAL:
            if cleaned.get(name) in (None, ""):
                cleaned[name] = cast(models.Field, ModelProfile._meta.get_field(name)).get_default()
        return cleaned

    class Meta:
        model = ModelProfile
        fields = ["name", *ModelProfile.EDITABLE_FIELDS]
        help_texts = {
            "api_key_env": "The NAME of an environment variable on the workers; the key itself "
            "is never stored or shown.",
            "model": "transformers: a local folder on the workers. openai: the model name.",
            "queue": "Workers serving this queue must hold the model.",
            "batch_size": "Local models: empty or 0 picks the batch from the device.",
            "repetition_penalty": "transformers: above 1 discourages repeats (1: off).",
            "no_repeat_ngram_size": "transformers: never repeat word pieces of this length "
            "(0: off).",
            "extra_body": "OpenAI-compatible servers: extra request fields as JSON.",
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
