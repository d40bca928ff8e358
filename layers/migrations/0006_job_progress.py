"""A publish's progress row serves version restores too: keyed by the job, not the upload."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("layers", "0005_publish_progress")]

    operations = [
        migrations.RenameModel("PublishProgress", "JobProgress"),
        migrations.RenameField("JobProgress", "upload_id", "job_id"),
        migrations.AlterField(
            "JobProgress",
            "job_id",
            models.CharField(max_length=64, primary_key=True, serialize=False),
        ),
    ]
