"""The model judge against a fake OpenAI-compatible judge server written here (http.server):
position bias is detected and cancelled by judging both orders, agreement with people is
measured with an interval, suggestions reach the review panel and decide nothing, and a judge
run survives a killed worker."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from curation.models import Story
from generation.models import ModelProfile
from tests.factories import (
    ComparisonPairFactory,
    EvaluationFactory,
    EvaluationSampleFactory,
    JudgmentFactory,
    ModelProfileFactory,
    StoryFactory,
    TopicFactory,
)
from tests.workers import Site
from training import judge
from training.judge_results import judge_pair_results
from training.models import JudgeRun, PairVerdict
from training.services.judge_runs import judge_run_create
from training.services.judge_work import judge_run

PAIR = re.compile(
    r"\[Story 1\]\n(.*)\n\[End of story 1\].*\[Story 2\]\n(.*)\n\[End of story 2\]", re.S
)
STORY = re.compile(r"\[Story\]\n(.*)\n\[End of story\]", re.S)


class JudgeServer:
    """/v1/chat/completions. Model "first": always prefers story 1. Model "planted": prefers
    the story of ``prefer`` (a set of winning texts), whatever the order; on single stories,
    says a story with "dragon" in it has no conclusion. "slow-planted": the same, 0.3 s a reply."""

    def __init__(self, prefer=()):
        self.prefer = set(prefer)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests += 1
                model, user = payload["model"], payload["messages"][-1]["content"]
                if model.startswith("slow-"):
                    time.sleep(0.3)
                    model = model.removeprefix("slow-")
                pair, story = PAIR.search(user), STORY.search(user)
                if pair and model == "first":
                    reply = {"winner": "1", "reason": "Story 1 came first."}
                elif pair:
                    one = pair.group(1) in server.prefer
                    reply = {"winner": "1" if one else "2", "reason": "It has an ending."}
                else:
                    ends = "dragon" not in story.group(1)
                    reply = {
                        "two_paragraphs": {"answer": "yes", "reason": "Two."},
                        "conclusion": {"answer": "yes" if ends else "no", "reason": "Ending?"},
                        "characters": {"answer": "yes", "reason": "A keeper."},
                    }
                body = json.dumps(
                    {
                        "id": "j",
                        "object": "chat.completion",
                        "created": 0,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": json.dumps(reply)},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 100,
                            "completion_tokens": 20,
                            "total_tokens": 120,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def judge_profile(server, model: str) -> ModelProfile:
    return ModelProfileFactory(
        name=f"judge-{model}",
        role="judge",
        backend="openai",
        model=model,
        base_url=server.url,
        queue="teacher",
        concurrency=2,
        batch_size=0,
    )


def twenty_pairs(planted_human=True):
    """20 pairs of m1 against m2; people judged each blind (m1 won 12, m2 won 8)."""
    evaluation = EvaluationFactory()
    m1 = ModelProfileFactory(name="m1", role="student")
    m2 = ModelProfileFactory(name="m2", role="student")
    pairs = []
    for i in range(20):
        topic = TopicFactory(status="approved")
        a = EvaluationSampleFactory(
            evaluation=evaluation, model=m1, topic=topic, text=f"m1 story {i}."
        )
        b = EvaluationSampleFactory(
            evaluation=evaluation, model=m2, topic=topic, text=f"m2 story {i}."
        )
        pair = ComparisonPairFactory(evaluation=evaluation, a=a, b=b)
        if planted_human:
            JudgmentFactory(pair=pair, winner="a" if i < 12 else "b", left_is_a=i % 2 == 0)
        pairs.append(pair)
    return evaluation, pairs


@pytest.mark.django_db
def test_a_judge_that_always_prefers_the_first_story_is_caught_and_its_verdicts_are_ties():
    evaluation, _ = twenty_pairs()
    with JudgeServer() as server:
        run = judge_run_create(
            judge_profile=judge_profile(server, "first"), evaluation=evaluation, enqueue=False
        )
        run = judge_run(run_id=run.pk)
        assert server.requests == 40  # every pair, in both orders
    assert (run.status, run.done_count, run.total) == ("done", 40, 40)
    assert (run.prompt_tokens, run.completion_tokens) == (4000, 800)
    results = judge_pair_results(run)
    assert results["position"]["first_share"] == 1.0  # position bias: 40 of 40
    assert results["position"]["low"] > 0.9
    assert (results["pairs_judged"], results["ties"], results["flips"]) == (20, 20, 20)
    assert results["pairs"][0]["win_rate"] == 0.5  # all ties after the swap
    assert results["calibration"]["share"] == 0.0 and results["trust"] == "untrusted"


@pytest.mark.django_db
def test_a_judge_that_agrees_with_people_on_80_percent_measures_0_80_with_an_interval():
    evaluation, pairs = twenty_pairs()
    # The judge picks the people's winner on 16 pairs and the other story on 4.
    prefer = {(p.a.text if (i < 12) == (i < 16) else p.b.text) for i, p in enumerate(pairs)}
    with JudgeServer(prefer) as server:
        profile = judge_profile(server, "planted")
        run = judge_run(
            run_id=judge_run_create(judge_profile=profile, evaluation=evaluation, enqueue=False).pk
        )
    results = judge_pair_results(run)
    calibration = results["calibration"]
    assert (calibration["n"], calibration["agree"], calibration["share"]) == (20, 16, 0.8)
    assert calibration["share_low"] < 0.8 < calibration["share_high"]
    assert (round(calibration["share_low"], 2), round(calibration["share_high"], 2)) == (0.58, 0.92)
    assert calibration["kappa_low"] < calibration["kappa"] < calibration["kappa_high"]
    assert results["trust"] == "trusted" and results["flips"] == 0
    assert results["position"]["first_share"] == 0.5  # consistent in both orders
    # By the judge m1 won 16 of 20: people's 12, and the 4 where it disagreed with them
    assert results["pairs"][0]["first"] == "m1" and results["pairs"][0]["win_rate"] == 0.8
    assert results["bradley_terry"]["m1"] > results["bradley_terry"]["m2"]
    verdict = PairVerdict.objects.filter(run=run).first()
    assert verdict.rationale == "It has an ending."
    # a second delivery asks for nothing more
    assert judge_run(run_id=run.pk) is None


@pytest.mark.django_db
def test_the_evaluation_page_shows_the_judge_beside_people(client, make_user):
    evaluation, pairs = twenty_pairs()
    with JudgeServer({p.a.text for p in pairs}) as server:
        profile = judge_profile(server, "planted")
        client.force_login(make_user("boss", "Admin"))
        response = client.post(
            reverse("training:evaluation_judge", args=[evaluation.pk]), {"judge": profile.name}
        )
        run = JudgeRun.objects.get()
        assert response.url == run.get_absolute_url()
        judge_run(run_id=run.pk)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "On 20 blind judgments" in page and "agreed 12 times" in page
    assert (
        'id="judge-trust">untrusted' in page.replace("\n", "").replace('"warn" ', '"warn"')
        or "untrusted" in page
    )
    evaluation_page = client.get(evaluation.get_absolute_url()).content.decode()
    assert "20 pairs judged in both orders" in evaluation_page
    # a teacher is not a judge
    teacher = ModelProfileFactory(name="t", role="teacher")
    client.post(reverse("training:evaluation_judge", args=[evaluation.pk]), {"judge": teacher.name})
    assert JudgeRun.objects.count() == 1


@pytest.mark.django_db
def test_suggestions_appear_in_the_review_panel_and_never_change_a_status(client, make_user):
    topic = TopicFactory(status="approved", theme__status="approved")
    good = StoryFactory(topic=topic, text="The keeper lit the lamp.\n\nThe ships came home.")
    unfinished = StoryFactory(topic=topic, text="A dragon came.\n\nIt flew over the sea.")
    admin = make_user("boss", "Admin")
    client.force_login(admin)
    with JudgeServer() as server:
        profile = judge_profile(server, "planted")
        ask = reverse("training:judge_stories") + f"?theme={topic.theme_id}"
        page = client.get(ask).content.decode()
        assert "Ask a model judge about 2 stories" in page
        response = client.post(ask, {"judge": profile.name})
        run = JudgeRun.objects.get()
        assert response.url == run.get_absolute_url() and run.story_ids == sorted(
            [good.pk, unfinished.pk]
        )
        run = judge_run(run_id=run.pk)
    assert (run.status, run.done_count, run.unreadable) == ("done", 2, 0)
    statuses = dict(Story.objects.values_list("pk", "status"))
    assert statuses == {good.pk: "pending", unfinished.pk: "pending"}
    unfinished.refresh_from_db()
    assert unfinished.judge_passed is False
    suggestion = unfinished.suggestions.get()
    assert suggestion.answers["conclusion"] == {
        "answer": False,
        "reason": "Ending?",
        "label": "a clear conclusion",
    }
    # The gates passed both clean: the judge disagrees on one, served first when asked.
    reviewer = make_user("rev", "Reviewer")
    client.force_login(reviewer)
    panel = client.get(reverse("curation:review_queue") + "?first=judge").content.decode()
    assert f"story #{unfinished.pk}" in panel and 'id="judge-suggestion"' in panel
    assert "misses the brief" in panel and "not a decision" in panel
    assert "A clear conclusion: Ending?" in panel
    browser = client.get(reverse("curation:story_browser"), {"disagree": "judge_gates"})
    assert [s.pk for s in browser.context["stories"]] == [unfinished.pk]
    assert Story.objects.get(pk=unfinished.pk).status == "pending"


def test_reading_replies():
    assert judge.read_pair('Sure. {"winner": "2", "reason": "tighter"}') == ("2", "tighter")
    assert judge.read_pair("Winner: tie") == ("tie", "Winner: tie")
    assert judge.read_pair("I cannot decide.") == ("", "")
    answers, passed = judge.read_story('{"two_paragraphs": {"answer": "no", "reason": "one"}}')
    assert passed is False and answers["conclusion"]["answer"] is None
    assert judge.read_story("no json")[1] is None
    assert [judge.combine(*o) for o in [("a", "a"), ("a", "b"), ("a", "tie"), ("a", "")]] == [
        "a",
        "tie",
        "tie",
        "",
    ]


SETUP = """
from generation.models import ModelProfile
from tests import factories as f
from training.services.judge_runs import judge_run_create
evaluation = f.EvaluationFactory()
m1 = f.ModelProfileFactory(name="m1", role="student")
m2 = f.ModelProfileFactory(name="m2", role="student")
for i in range(20):
    topic = f.TopicFactory(status="approved")
    a = f.EvaluationSampleFactory(evaluation=evaluation, model=m1, topic=topic, text=f"a{{i}}.")
    b = f.EvaluationSampleFactory(evaluation=evaluation, model=m2, topic=topic, text=f"b{{i}}.")
    f.ComparisonPairFactory(evaluation=evaluation, a=a, b=b)
judge = ModelProfile.objects.create(
    name="judge", role="judge", backend="openai", model="slow-planted",
    base_url="{url}", queue="teacher", concurrency=1,
)
run = judge_run_create(judge_profile=judge, evaluation=evaluation)
print("RUN", run.pk)
"""


@pytest.mark.timeout(300)
def test_a_judge_run_survives_a_killed_worker(tmp_path):
    site = Site(tmp_path, "db")
    site.prepare()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with JudgeServer() as server:
        run_id = int(site.manage("shell", "-c", SETUP.format(url=server.url)).split("RUN")[1])

        def row():
            return site.query(
                "SELECT status, done_count, attempts FROM training_judgerun WHERE id=?", run_id
            )[0]

        try:
            first = site.start_worker(logs[0], queues="teacher")
            site.wait_until(
                lambda: row()[0] == "running" and row()[1] >= 3, 90, "the first run", logs
            )
            site.kill(first)
            assert row()[0] == "running" and row()[1] < 40, "it finished before the kill"
            site.start_worker(logs[1], queues="teacher")
            site.wait_until(lambda: row()[0] in ("done", "failed"), 150, "the second run", logs)
        finally:
            site.stop_all()
    status, done, attempts = row()
    assert (status, done, attempts) == ("done", 40, 2)
    verdicts = site.query(
        "SELECT COUNT(*), COUNT(DISTINCT pair_id || '-' || a_first) FROM training_pairverdict "
        "WHERE run_id=?",
        run_id,
    )[0]
    assert verdicts == (40, 40)  # every verdict once: the second run asked only for the rest


@pytest.mark.django_db
def test_the_training_bench_asks_a_judge_about_its_evaluation(monkeypatch):
    import importlib
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "bench"))
    bench = importlib.import_module("bench.training")
    evaluation, pairs = twenty_pairs(planted_human=False)
    with JudgeServer({p.b.text for p in pairs}) as server:
        report = bench.judge_pairs(evaluation, server.url, "planted")
    assert (report["judge"], report["pairs_judged"], report["trust"]) == (
        "bench-judge",
        20,
        "uncalibrated",
    )
    assert report["pairs"][0]["win_rate"] == 0.0  # m2 won every pair, in both orders
