"""How often the bundled student's stories pass the quality gates, under sampling settings
side by side in one run: the defaults before repetition control, and candidates.

    python bench/sampling.py [--json] [--topics 40] [--configs baseline,rep115,...]
        [--judge-url http://host:8000/v1 --judge-model NAME]

40 fixed topics (none of them in the app's data), the seed's story prompt through the chat
template, one story per topic per configuration, same seeds. "As written" (the headline)
counts the stories no reject gate fails as the model wrote them; "kept" counts those that pass
after the automatic repair (a story that ended on its own in more than two paragraphs,
re-paragraphed into two), as in the app. The checks (cut off, two paragraphs, repetitive)
describe the stories as written. With a judge (an OpenAI-compatible server), each story is
also read by it against the brief point by point (training.judge), and the stories it says
meet the brief are counted.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyapp.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from curation.judging import REPETITIVE_RATIO as REPETITIVE  # noqa: E402
from curation.judging import GatePolicy, judge, story_checks  # noqa: E402
from generation import prompts  # noqa: E402
from generation.backends import GenerationRequest, TransformersBackend  # noqa: E402
from generation.bundled import ensure_bundled_model  # noqa: E402
from generation.models import ModelProfile  # noqa: E402
from training import judge as model_judge  # noqa: E402
from training.services.runs import sample_fields  # noqa: E402

TOPICS = [
    "A lighthouse keeper who collects lost voices",
    "A clockmaker racing the last sunset",
    "A fox who runs a night library",
    "A cartographer mapping dreams",
    "A baker whose bread tells the future",
    "A child who befriends a storm",
    "A retired pirate who grows roses",
    "A robot learning to whistle",
    "A village that forgets one word each day",
    "A violinist who plays to the tide",
    "A girl who trades shadows at the market",
    "A snowman who wants to see summer",
    "A detective who solves crimes by smell",
    "A knight afraid of the dark",
    "A painter whose colours come alive at night",
    "An old tortoise carrying a letter for a century",
    "A boy who finds a door in a tree",
    "A queen who hides in her own kitchen",
    "A postman delivering letters to the moon",
    "A river that runs backwards once a year",
    "A beekeeper and the bee who could talk",
    "A lonely giant building a tiny house",
    "A thief who steals only sadness",
    "A gardener who plants memories",
    "A dragon who collects teacups",
    "A sailor lost in a sea of clouds",
    "A librarian guarding a book that writes itself",
    "A cat who becomes mayor of a small town",
    "An inventor who builds a machine for rain",
    "A mountain that wants to move to the sea",
    "A grandmother who knits the northern lights",
    "A scarecrow who falls in love with a crow",
    "A musician who hears colours",
    "A street where it is always midnight",
    "A twin who wakes up as the other",
    "A fisherman who catches a falling star",
    "A poet who can only speak in riddles",
    "A city built on the back of a whale",
    "A blacksmith forging a key to tomorrow",
    "A shy ghost in a busy hotel",
]
BASELINE = {"max_new_tokens": 256, "temperature": 0.7, "top_p": 0.9}
CONFIGS = {
    "baseline": {**BASELINE},
    "rep105": {**BASELINE, "repetition_penalty": 1.05},
    "rep110": {**BASELINE, "repetition_penalty": 1.1},
    "rep105_t05": {**BASELINE, "repetition_penalty": 1.05, "temperature": 0.5},
    "rep110_t05": {**BASELINE, "repetition_penalty": 1.1, "temperature": 0.5},
    "rep110_ngram6": {**BASELINE, "repetition_penalty": 1.1, "no_repeat_ngram_size": 6},
    "rep120": {**BASELINE, "repetition_penalty": 1.2},
    "rep115_ngram4": {**BASELINE, "repetition_penalty": 1.15, "no_repeat_ngram_size": 4},
    "rep115_ngram4_320": {
        **BASELINE,
        "repetition_penalty": 1.15,
        "no_repeat_ngram_size": 4,
        "max_new_tokens": 320,
    },
}


def judge_backend(url: str, model: str):
    """The judge as an unsaved profile (nothing is written to the app's database)."""
    from generation.backends import backend_for

    return backend_for(ModelProfile(name="bench-judge", **model_judge.server_judge(url, model)))


def judged_by(judge_server, topics: list[str], texts: list[str]) -> dict:
    requests = [
        GenerationRequest(
            messages=model_judge.story_messages(topic, text), temperature=0.0, max_new_tokens=300
        )
        for topic, text in zip(topics, texts, strict=True)
    ]
    readings = [model_judge.read_story(r.text)[1] for r in judge_server.generate(requests)]
    return {
        "judge_meets_brief": sum(r is True for r in readings),
        "judge_unreadable": sum(r is None for r in readings),
    }


def run(
    backend, config: dict, topics: list[str], policy: GatePolicy, seed: int, judge_server=None
) -> dict:
    requests = [
        GenerationRequest(
            messages=prompts.default_messages("story", {"topic": topic}), seed=seed + i, **config
        )
        for i, topic in enumerate(topics)
    ]
    started = time.perf_counter()
    results = backend.generate(requests)
    seconds = time.perf_counter() - started
    # as evaluations judge
    judged = [
        sample_fields(judge(r.text, r.finish_reason, policy, topic=topic))
        for r, topic in zip(results, topics, strict=True)
    ]
    n = len(judged)
    readings = judged_by(judge_server, topics, [r.text for r in results]) if judge_server else {}
    return {
        "config": config,
        "passed_as_written": sum(j["passed"] for j in judged),
        **readings,
        "of": n,
        "as_written_share": round(sum(j["passed"] for j in judged) / n, 3),
        "passed": sum(j["usable"] for j in judged),
        "pass_share": round(sum(j["usable"] for j in judged) / n, 3),
        "cut_off": sum(j["cut_off"] for j in judged),
        "two_paragraphs": sum(j["paragraph_count"] == 2 for j in judged),
        "repaired": sum(j["repaired"] for j in judged),
        "not_story": sum(bool(j["not_story"]) for j in judged),
        "too_short": sum(j["too_short"] for j in judged),
        "unfinished": sum(j["unfinished"] for j in judged),
        "stopped_by_length": sum(r.finish_reason == "length" for r in results),
        "repetitive": sum(j["repeated_ngram_ratio"] >= REPETITIVE for j in judged),
        "passed_not_repetitive": sum(
            j["usable"] and story_checks(j["judged_text"])["repeated_ngram_ratio"] < REPETITIVE
            for j in judged
        ),
        "seconds": round(seconds, 1),
        "tokens": sum(r.completion_tokens or 0 for r in results),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--seed", type=int, default=42, help="the first topic's seed")
    parser.add_argument("--judge-url", help="an OpenAI-compatible server with a judge model")
    parser.add_argument("--judge-model", help="the judge model's name on that server")
    args = parser.parse_args()
    judge_server = (
        judge_backend(args.judge_url, args.judge_model)
        if args.judge_url and args.judge_model
        else None
    )
    backend = TransformersBackend(folder=str(ensure_bundled_model()), batch_size=8)
    policy = GatePolicy.current()
    report = {}
    for name in args.configs.split(","):
        report[name] = run(
            backend, CONFIGS[name], TOPICS[: args.topics], policy, args.seed, judge_server
        )
        row = report[name]
        print(
            f"{name}: {row['passed_as_written']}/{row['of']} pass as written, "
            f"{row['passed']} kept, {row['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{args.topics} topics, seeds from {args.seed}, bundled SmolLM2-135M student, "
        f"gates: {policy.describe()}"
    )
    print(
        f"{'config':<20} {'as written':>11} {'kept':>5} {'kept, not rep.':>15} {'cut off':>8} "
        f"{'2 par.':>7} {'repaired':>9} {'not story':>10} {'short':>6} {'no end':>7} "
        f"{'at limit':>9}"
    )
    for name, row in report.items():
        print(
            f"{name:<20} {row['passed_as_written']:>4}/{row['of']:<6} {row['passed']:>5} "
            f"{row['passed_not_repetitive']:>15} {row['cut_off']:>8} {row['two_paragraphs']:>7} "
            f"{row['repaired']:>9} {row['not_story']:>10} {row['too_short']:>6} "
            f"{row['unfinished']:>7} {row['stopped_by_length']:>9}"
        )
        if "judge_meets_brief" in row:
            print(
                f"{'':<20} judge {args.judge_model}: {row['judge_meets_brief']}/{row['of']} meet "
                f"the brief ({row['judge_unreadable']} unreadable)"
            )


if __name__ == "__main__":
    main()
