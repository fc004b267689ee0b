import argparse
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from generation.models import ModelProfile
from generation.services.registry import model_register
from storyapp.params import SEED_HELP


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not JSON") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object is expected")
    return value


class Command(BaseCommand):
    help = "Register a model profile, or update the given fields of an existing one."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", choices=ModelProfile.Role.values)
        parser.add_argument("--backend", choices=ModelProfile.Backend.values)
        parser.add_argument("--model", help="local folder (transformers) or model name (openai)")
        parser.add_argument("--gguf-file", help="GGUF file name inside the --model folder")
        parser.add_argument("--base-url")
        parser.add_argument("--api-key-env", help="NAME of the environment variable with the key")
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--concurrency", type=int)
        parser.add_argument("--max-new-tokens", type=int)
        parser.add_argument("--temperature", type=float)
        parser.add_argument("--top-p", type=float)
        parser.add_argument("--seed", type=int, help=f"{SEED_HELP}")
        parser.add_argument("--queue")
        parser.add_argument("--repetition-penalty", type=float, help="transformers; 1 = off")
        parser.add_argument(
            "--no-repeat-ngram-size", type=int, help="transformers; never repeat n-grams of n"
        )
        parser.add_argument("--frequency-penalty", type=float, help="OpenAI-compatible servers")
        parser.add_argument("--presence-penalty", type=float, help="OpenAI-compatible servers")
        parser.add_argument(
            "--extra-body", type=_json_object, help='server-specific fields as JSON: {"top_k": 40}'
        )

    def handle(self, *args, name, **options):
        fields = {key: options[key] for key in ModelProfile.EDITABLE_FIELDS}
        try:
            profile, created = model_register(name=name, **fields)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=2) from None
        verb = "Registered" if created else "Updated"
        self.stdout.write(
            f"{verb} {profile.name}: {profile.role}, {profile.backend}, {profile.model}, "
            f"queue {profile.queue}"
        )
