from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("training", "0003_checked_text_checks")]

    operations = [
        migrations.RenameField("evaluationsample", "trimmed", "repaired"),
        migrations.AddField(
            model_name="evaluationsample",
            name="echo",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="evaluationsample",
            name="not_story",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="evaluationsample",
            name="too_short",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="evaluationsample",
            name="unfinished",
            field=models.BooleanField(default=False),
        ),
    ]
