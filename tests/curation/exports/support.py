import json

from curation.exports import layout, runner, services
from tests.factories import ReviewFactory, StoryFactory

MESSAGES = [
    {"role": "system", "content": "You are a chatbot tasked with creating stories for users."},
    {"role": "user", "content": 'Invent a completely new story about "a fox".'},
]


def approved_story(**kwargs):
    return StoryFactory(**{"status": "approved", "prompt_messages": MESSAGES, **kwargs})


def edit_review(story, reviewer, edited_text):
    return ReviewFactory(story=story, reviewer=reviewer, edited_text=edited_text)


def run_export(name, **kwargs):
    export = services.export_create(name=name, enqueue=False, **kwargs)
    return runner.export_run(export_id=export.pk)


def exported_ids(export) -> set[int]:
    manifest = json.loads((layout.export_folder(export) / "manifest.json").read_text())
    return set(manifest["story_ids"]["train"]) | set(manifest["story_ids"]["validation"])
