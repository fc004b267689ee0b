from django.db import migrations


def normalise_edits(apps, schema_editor):
    """Reviewers' edits saved before edits were normalised: CRLF from a textarea becomes LF,
    and an "edit" that is the story itself after that is no edit."""
    from curation.text import edit_of

    Review = apps.get_model("curation", "Review")
    for review in Review.objects.exclude(edited_text="").select_related("story").iterator():
        story = review.story
        edited = edit_of(story.auto_edited_text or story.text, review.edited_text)
        if edited != review.edited_text:
            Review.objects.filter(pk=review.pk).update(edited_text=edited)


class Migration(migrations.Migration):
    dependencies = [("curation", "0009_name_rule_and_requeues")]

    operations = [migrations.RunPython(normalise_edits, migrations.RunPython.noop)]
