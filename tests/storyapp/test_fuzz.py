"""Every query parameter and form field of every page, with hostile values: never a 500.

The targets are found, not listed: each page is fetched as an admin, and every form on it (its
action, method and fields) and every link with a query string is fuzzed, one field at a time,
with the other fields left at the values the page itself offered. Path ids get out-of-range
numbers too. Runs on SQLite and on PostgreSQL (make test runs the suite on both).
"""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from curation.models import DatasetExport, Story, Theme, Topic
from generation.models import GenerationJob, JobItem, ModelTest
from tests.factories import (
    GenerationJobFactory,
    ModelProfileFactory,
    StoryFactory,
    ThemeFactory,
    TopicFactory,
)
from tests.storyapp.test_every_url import all_patterns
from training.models import Evaluation, FineTuneJob, Judgment, Round

PAYLOADS = [
    "\x00",
    "a" * 100_000,
    "9" * 25,
    str(2**63),
    "²",
    "-1",
    "abc",
    "nan",
    "\u202eevil\u200b\u2066",
    "",
]
SKIP = {"logout"}  # ends the session the fuzzing uses


class Forms(HTMLParser):
    """Forms (action, method, {field: value}) and query-string links of one page."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.forms: list[tuple[str, str, dict]] = []
        self.links: set[str] = set()
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "hx-get"):
            value = attrs.get(key) or ""
            if "?" in value and not value.startswith(("http:", "https:", "javascript:")):
                self.links.add(value)
        if tag == "form":
            action = attrs.get("hx-post") or attrs.get("action") or self.url
            method = "post" if attrs.get("hx-post") else (attrs.get("method") or "get").lower()
            self._form = (action, method, {})
            self.forms.append(self._form)
        elif self._form and tag in ("input", "select", "textarea", "button"):
            name = attrs.get("name")
            if name and name != "csrfmiddlewaretoken":
                fields = self._form[2]
                if tag == "button" or attrs.get("type") in ("checkbox", "radio"):
                    fields.setdefault(name, attrs.get("value", "on"))
                else:
                    fields.setdefault(name, attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


@pytest.fixture
def site(make_user, var_dir):
    from curation.exports.runner import export_run
    from curation.exports.services import export_create

    admin = make_user("boss", "Admin")
    theme = ThemeFactory(status=Theme.Status.APPROVED)
    topic = TopicFactory(theme=theme)
    TopicFactory(theme=theme, similar_to=topic, similarity=91)
    StoryFactory(topic=topic, status=Story.Status.APPROVED, prompt_messages=[])
    StoryFactory(topic=topic)
    StoryFactory(topic=topic, status=Story.Status.ADJUDICATION)
    profile = ModelProfileFactory(name="fuzzed")
    job = GenerationJobFactory(model=profile)
    JobItem.objects.create(job=job, key="theme:1", raw_output="<b>raw</b>")
    ModelTest.objects.create(profile=profile)
    release = export_run(export_id=export_create(name="fuzz-release", enqueue=False).pk)
    _training_rows(release, profile, admin)
    return admin


def _training_rows(release, profile, admin):
    """A fine-tune, an evaluation with one blind pair, and a judgment served to the admin."""
    from training.models import ComparisonPair, EvaluationSample

    tuned = FineTuneJob.objects.create(release=release, base=profile, name="fuzz-tuned")
    Round.objects.create(number=1, release=release, finetune=tuned)
    evaluation = Evaluation.objects.create(name="fuzz", topic_ids=[])
    evaluation.profiles.set([profile])
    topic = Topic.objects.first()
    a, b = (
        EvaluationSample.objects.create(
            evaluation=evaluation, model=model, topic=topic, text="A story."
        )
        for model in (profile, ModelProfileFactory(name="fuzz-other"))
    )
    pair = ComparisonPair.objects.create(evaluation=evaluation, a=a, b=b)
    Judgment.objects.create(pair=pair, reviewer=admin, left_is_a=True)


def sample_urls() -> list[str]:
    ids = {
        "pk": lambda name: {
            "curation:theme_detail": Theme,
            "curation:theme_decide": Theme,
            "curation:topic_decide": Topic,
            "curation:story_detail": Story,
            "training:finetune_detail": FineTuneJob,
            "training:finetune_cancel": FineTuneJob,
            "training:evaluation_detail": Evaluation,
            "training:evaluation_stories": Evaluation,
            "training:round_step": Round,
        }.get(name, GenerationJob),
        "item": lambda name: JobItem,
        "story_id": lambda name: Story,
        "judgment_id": lambda name: Judgment,
        "user_id": lambda name: None,
    }
    urls = []
    for name, pattern in all_patterns():
        if name in SKIP:
            continue
        kwargs = {}
        for key in pattern.pattern.converters:
            if key == "name":
                kwargs[key] = (
                    "fuzzed"
                    if name.startswith("generation:") or name == "training:model_lineage"
                    else DatasetExport.objects.get().name
                )
            elif key == "filename":
                kwargs[key] = "train.jsonl"
            elif key == "action":
                kwargs[key] = "unlock"
            elif key == "step":
                kwargs[key] = "next"
            elif key == "user_id":
                from django.contrib.auth import get_user_model

                kwargs[key] = get_user_model().objects.order_by("pk").first().pk
            else:
                kwargs[key] = ids[key](name).objects.order_by("pk").first().pk
        if name == "generation:job_item":  # an item of its own job
            kwargs["pk"] = JobItem.objects.get(pk=kwargs["item"]).job_id
        urls.append(reverse(name, kwargs=kwargs))
    return urls


@pytest.mark.django_db
def test_no_input_makes_a_500(site, capsys):
    client = Client(raise_request_exception=False)
    client.force_login(site)
    failures, sent, seen = [], 0, set()

    def send(method, url, data):
        nonlocal sent
        sent += 1
        try:
            response = getattr(client, method)(url, data)
        except Exception as exc:  # the client raises what a view raised, in some cases
            failures.append((method, url, _short(data), repr(exc)[:200]))
            return
        if response.status_code >= 500:
            failures.append((method, url, _short(data), response.status_code))

    pages = sample_urls()
    for page in pages:
        # path ids out of range or malformed: a 404, never a 500
        for bad in ("9" * 25, str(2**63)):
            for value in {str(v) for v in _path_ids(page)}:
                send("get", page.replace(f"/{value}/", f"/{bad}/", 1), {})
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = Forms(page)
        parser.feed(response.content.decode())
        targets = [(a, m, f) for a, m, f in parser.forms if f]
        for link in parser.links:
            parts = urlsplit(link)
            targets.append((parts.path or page, "get", dict(parse_qsl(parts.query))))
        for action, method, fields in targets:
            try:
                route = resolve(urlsplit(action).path).view_name
            except Resolver404:
                continue
            for field in fields:
                if (method, route, field) in seen:
                    continue
                seen.add((method, route, field))
                for payload in PAYLOADS:
                    send(method, urlsplit(action).path, {**fields, field: payload})
    report = f"{sent} requests, {len(pages)} pages, {len(seen)} fields, {len(failures)} 500s"
    with capsys.disabled():
        print(f"\nfuzz: {report}")
    assert sent > 500
    assert failures == []


def _path_ids(url: str) -> list[int]:
    return [int(part) for part in url.split("/") if part.isdigit()]


def _short(data: dict) -> dict:
    return {k: (v if len(v) < 40 else v[:20] + f"...({len(v)})") for k, v in data.items()}
