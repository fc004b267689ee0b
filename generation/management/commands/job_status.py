import json

from django.core.management.base import BaseCommand, CommandError

from generation.models import GenerationJob
from generation.selectors import job_status_dict


class Command(BaseCommand):
    help = "Print a generation job as JSON: id, kind, status, item counts by status, errors."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id, **options):
        job = GenerationJob.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No job with id {job_id}.", returncode=2)
        self.stdout.write(json.dumps(job_status_dict(job), indent=2))
