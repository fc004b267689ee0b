"""One benchmark, this tree against an earlier commit, in one run: rounds alternate between
the two (base, this, base, this...) so a busy machine slows both alike; medians of the chosen
figures are printed with their ratio.

    python bench/side_by_side.py --base 4643101 --bench export --figure export_itself_seconds \\
        --rounds 3 -- --stories 30000 --repeat 1

The base commit is checked out in a temporary git worktree sharing this tree's virtual
environment; each round runs ``python bench/<bench>.py --json <args>`` there and here.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def figure(result: dict, path: str):
    for key in path.split("."):
        result = result[key]
    return result


def run(tree: Path, bench: str, args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, f"bench/{bench}.py", "--json", *args],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: bench/{bench}.py failed\n{done.stderr[-3000:]}")
    return json.loads(done.stdout[done.stdout.index("{") :])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--bench", required=True, help="export, review, training...")
    parser.add_argument("--figure", action="append", required=True, help="a JSON key (a.b)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("args", nargs="*", help="the benchmark's own arguments, after --")
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="storyapp-base-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(base), options.base],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (base / ".venv").symlink_to(ROOT / ".venv")
    results: dict[str, list[dict]] = {"base": [], "this": []}
    try:
        for _ in range(options.rounds):
            results["base"].append(run(base, options.bench, options.args))
            results["this"].append(run(ROOT, options.bench, options.args))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    print(f"bench/{options.bench}.py {' '.join(options.args)}: {options.rounds} rounds")
    print(f"{'figure':<34}{options.base[:10]:>14}{'this tree':>14}{'ratio':>8}")
    for name in options.figure:
        before = statistics.median(figure(r, name) for r in results["base"])
        now = statistics.median(figure(r, name) for r in results["this"])
        ratio = now / before if before else float("nan")
        print(f"{name:<34}{before:>14.3f}{now:>14.3f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
