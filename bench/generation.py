"""Generation throughput on the bundled model, measured side by side in one run.

    python bench/generation.py [--json] [--tokens 96] [--prompts 8]

(a) local transformers backend, batch 1 vs batch 8;
(b) the openai backend against `transformers serve --continuous-batching`, concurrency 1 vs 8;
(c) local batch 8 vs that server at concurrency 8.
Same prompts (the default story prompt on eight topics), greedy decoding, exactly --tokens new
tokens each; tokens/s counts the completion tokens each backend reports.
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

from generation import prompts  # noqa: E402
from generation.backends import (  # noqa: E402
    GenerationRequest,
    OpenAIBackend,
    TransformersBackend,
    load_local_model,
)
from generation.bundled import ensure_bundled_model  # noqa: E402
from generation.devserver import transformers_serve  # noqa: E402

TOPICS = [
    "A lighthouse keeper who collects lost voices",
    "A clockmaker racing the last sunset",
    "A fox who runs a night library",
    "Twin sisters who trade memories",
    "A retired pirate growing roses",
    "A robot learning to lie kindly",
    "A village that forgets every winter",
    "A cartographer mapping dreams",
    "A baker whose bread tells the future",
    "A child who befriends a storm",
]


def requests(n: int, tokens: int) -> list[GenerationRequest]:
    """Greedy requests that all produce exactly ``tokens`` new tokens (EOS is not allowed to
    end them early), locally through min_new_tokens and on the server through the generation
    config that `transformers serve` accepts in the request body."""
    fixed = {"max_new_tokens": tokens, "min_new_tokens": tokens, "do_sample": False}
    return [
        GenerationRequest(
            messages=prompts.default_messages("story", {"topic": TOPICS[i % len(TOPICS)]}),
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            temperature=0.0,
            extra_body={"generation_config": json.dumps(fixed)},
        )
        for i in range(n)
    ]


def measure(backend, reqs) -> dict:
    started = time.perf_counter()
    results = backend.generate(reqs)
    seconds = time.perf_counter() - started
    errors = [r.error for r in results if r.error]
    if errors:
        raise SystemExit(f"generation failed: {errors[0]}")
    tokens = sum(r.completion_tokens or 0 for r in results)
    return {"seconds": round(seconds, 2), "tokens": tokens, "tok_s": round(tokens / seconds, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--prompts", type=int, default=8)
    args = parser.parse_args()

    folder = ensure_bundled_model()
    reqs = requests(args.prompts, args.tokens)
    load_local_model(str(folder))  # load once, outside the timings
    rows = {}
    TransformersBackend(folder=str(folder), batch_size=8).generate(reqs[:2])  # warm-up
    rows["local batch 1"] = measure(TransformersBackend(folder=str(folder), batch_size=1), reqs)
    rows["local batch 8"] = measure(TransformersBackend(folder=str(folder), batch_size=8), reqs)
    with transformers_serve(folder, continuous_batching=True) as url:

        def server(concurrency):
            return OpenAIBackend(
                base_url=url, model=str(folder), concurrency=concurrency, timeout=600
            )

        server(1).generate(reqs[:1])  # warm-up
        rows["server concurrency 1"] = measure(server(1), reqs)
        rows["server concurrency 8"] = measure(server(8), reqs)

    ratios = {
        "(a) local batch 8 / batch 1": rows["local batch 8"]["tok_s"]
        / rows["local batch 1"]["tok_s"],
        "(b) server conc 8 / conc 1": rows["server concurrency 8"]["tok_s"]
        / rows["server concurrency 1"]["tok_s"],
        "(c) local batch 8 / server conc 8": rows["local batch 8"]["tok_s"]
        / rows["server concurrency 8"]["tok_s"],
    }
    ratios = {key: round(value, 2) for key, value in ratios.items()}
    if args.json:
        print(
            json.dumps(
                {
                    "prompts": args.prompts,
                    "max_new_tokens": args.tokens,
                    "runs": rows,
                    "ratios": ratios,
                },
                indent=2,
            )
        )
        return
    print(f"{args.prompts} prompts, greedy, {args.tokens} new tokens each, bundled SmolLM2-135M")
    print(f"{'run':<24}{'seconds':>10}{'tokens':>10}{'tok/s':>10}")
    for name, row in rows.items():
        print(f"{name:<24}{row['seconds']:>10}{row['tokens']:>10}{row['tok_s']:>10}")
    for name, value in ratios.items():
        print(f"{name:<36}{value:>8}")


if __name__ == "__main__":
    main()
