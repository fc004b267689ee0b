import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import DatasetExport
from generation.models import ModelProfile
from storyapp.params import SEED_HELP, parse_ids
from training.models import Evaluation
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Evaluate two or more models on held-out topics (same sampling and seeds), judged by "
        "the quality gates. With --inline, runs here and prints the results as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--models", required=True, help="profile names, comma-separated")
        parser.add_argument("--release", help="held-out topics: none in its train split")
        parser.add_argument("--topics", help="or topic ids, comma-separated")
        parser.add_argument("--n-topics", type=int, default=40)
        parser.add_argument("--seed", type=int, default=42, help=f"{SEED_HELP}")
        parser.add_argument("--max-new-tokens", type=int, help="instead of the first model's")
        parser.add_argument("--inline", action="store_true", help="run here, no worker")

    def handle(
        self, *args, models, release, topics, n_topics, seed, max_new_tokens, inline, **options
    ):
        names = [n.strip() for n in models.split(",") if n.strip()]
        profiles = list(ModelProfile.objects.filter(name__in=names))
        missing = sorted(set(names) - {p.name for p in profiles})
        if missing:
            raise CommandError(f"No model {', '.join(missing)}.", returncode=EXIT_BAD_INPUT)
        profiles.sort(key=lambda p: names.index(p.name))
        found = DatasetExport.objects.filter(name=release).first() if release else None
        if release and found is None:
            raise CommandError(f"No release {release!r}.", returncode=EXIT_BAD_INPUT)
        first = profiles[0] if profiles else None
        sampling = None
        if max_new_tokens and first:
            sampling = {
                "max_new_tokens": max_new_tokens,
                "temperature": first.temperature,
                "top_p": first.top_p,
                "repetition_penalty": first.repetition_penalty,
                "no_repeat_ngram_size": first.no_repeat_ngram_size,
            }
        try:
            evaluation = evaluation_create(
                profiles=profiles,
                release=found,
                topic_ids=parse_ids(topics, what="topic id") if topics else None,
                n_topics=n_topics,
                seed=seed,
                sampling=sampling,
                enqueue=not inline,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=EXIT_BAD_INPUT) from None
        self.stdout.write(f"evaluation {evaluation.pk}")
        if inline:
            evaluation_run(evaluation_id=evaluation.pk)
            evaluation = Evaluation.objects.get(pk=evaluation.pk)
            self.stdout.write(json.dumps(evaluation.results, indent=2))
