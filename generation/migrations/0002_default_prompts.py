from django.db import migrations


def add_defaults(apps, schema_editor):
    from generation.prompts import DEFAULTS

    PromptTemplate = apps.get_model("generation", "PromptTemplate")
    for kind, parts in DEFAULTS.items():
        PromptTemplate.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={**parts, "note": "The seed's prompt (default)."},
        )


class Migration(migrations.Migration):
    dependencies = [("generation", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
