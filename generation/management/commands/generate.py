import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from generation import tasks
from generation.models import GenerationJob, ModelProfile
from generation.selectors import job_status_dict
from generation.services import engine, jobs
from storyapp.params import parse_ids

EXIT_FAILED_ITEMS = 1
EXIT_BAD_INPUT = 2


def _selection(value: str, keywords: tuple[str, ...]):
    if value in keywords:
        return value
    try:
        return parse_ids(value)
    except ValidationError as error:
        raise CommandError(
            f"Expected {' or '.join(keywords)} or comma-separated ids: {' '.join(error.messages)}",
            returncode=EXIT_BAD_INPUT,
        ) from None


class Command(BaseCommand):
    help = (
        "Create a generation job. Exit 0 when every item succeeded, 1 when it finished with "
        "failed items, 2 on bad input. Without --wait or --inline it only enqueues."
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True)
        topics = kinds.add_parser("topics", help="topics from approved themes (teacher)")
        topics.add_argument("--themes", default="approved", help="approved, or ids: 1,2,3")
        topics.add_argument("--per-theme", type=int, default=7, dest="per_input")
        stories = kinds.add_parser("stories", help="stories from topics")
        stories.add_argument(
            "--topics", default="not-rejected", help="not-rejected, approved, or ids: 1,2,3"
        )
        stories.add_argument("--per-topic", type=int, default=1, dest="per_input")
        stories.add_argument(
            "--until-pass",
            type=int,
            default=0,
            metavar="N",
            help="sample a topic again while none of its stories passes the gates, up to N",
        )
        for sub in (topics, stories):
            sub.add_argument("--model", required=True, help="a registered model profile name")
            sub.add_argument("--raw", action="store_true", help="send the seed's literal text")
            mode = sub.add_mutually_exclusive_group()
            mode.add_argument("--wait", action="store_true", help="block until workers finish")
            mode.add_argument("--inline", action="store_true", help="run here, no worker")
            sub.add_argument("--poll", type=float, default=1.0, help="seconds between checks")

    def handle(self, *args, kind, model, per_input, wait, inline, raw, poll, **options):
        profile = ModelProfile.objects.filter(name=model).first()
        if profile is None:
            known = ", ".join(ModelProfile.objects.values_list("name", flat=True)) or "none"
            raise CommandError(
                f"No model profile {model!r} (registered: {known}).", returncode=EXIT_BAD_INPUT
            )
        if kind == "topics":
            job_kind = GenerationJob.Kind.TOPICS
            selection = _selection(options["themes"], ("approved",))
        else:
            job_kind = GenerationJob.Kind.STORIES
            selection = _selection(options["topics"], ("not-rejected", "approved"))
        try:
            job = jobs.job_create(
                kind=job_kind,
                model=profile,
                selection=selection,
                per_input=per_input,
                until_pass=options.get("until_pass", 0),
                prompt_mode=GenerationJob.PromptMode.RAW if raw else GenerationJob.PromptMode.CHAT,
                enqueue=not inline,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=EXIT_BAD_INPUT) from None
        self.stdout.write(f"job {job.pk}")
        if inline:
            engine.job_work(job_id=job.pk)
        elif wait:
            while True:
                job.refresh_from_db()
                if job.is_finished:
                    break
                tasks.sweep()
                time.sleep(poll)
        else:
            return
        job.refresh_from_db()
        self.stdout.write(json.dumps(job_status_dict(job), indent=2))
        if job.status != GenerationJob.Status.SUCCEEDED:
            raise CommandError(
                f"job {job.pk} {job.get_status_display().lower()}", returncode=EXIT_FAILED_ITEMS
            )
