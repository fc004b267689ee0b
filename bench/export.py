"""Export 100k approved stories and compare with dumping the same rows with `sqlite3 -json`.

    python bench/export.py [--json] [--stories 100000]

Makes a fresh SQLite database in a temporary folder (bench/review_data.py, then every
story, topic and theme approved), then runs side by side: the baseline
`sqlite3 -json DB "<the exportable rows>"` and `manage.py export_dataset --format chat`,
interleaved, --repeat times (default 3). Prints the median wall time and the peak RSS of each
(os.wait4 on each child), their ratio, and checks that every export wrote the same bytes.
Targets: export time <= 3x the baseline, export peak RSS < 300 MB.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from measure import run_measured  # noqa: E402

APPROVE_ALL = (
    "UPDATE curation_story SET status='approved'; UPDATE curation_topic SET status='approved'; "
    "UPDATE curation_theme SET status='approved';"
)
BASELINE_SQL = """
SELECT s.id, s.text, s.prompt_messages, s.model_name, s.template_version, s.sampling,
       s.topic_id, t.text AS topic, th.name AS theme
FROM curation_story s
JOIN curation_topic t ON t.id = s.topic_id
JOIN curation_theme th ON th.id = t.theme_id
WHERE s.status = 'approved' AND t.status != 'rejected' AND th.status = 'approved'
ORDER BY s.id
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        raise SystemExit("the sqlite3 command is needed for the baseline (apt-get install sqlite3)")

    work = Path(tempfile.mkdtemp(prefix="storyapp-export-bench-"))
    db = work / "bench.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyapp.settings",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "DEBUG": "0",
        "STORYAPP_VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{db}",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    quiet = subprocess.DEVNULL
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            python,
            "bench/review_data.py",
            "--stories",
            str(args.stories),
            "--reviews",
            str(int(args.stories * 2.5)),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=quiet,
    )
    subprocess.run(
        [
            "sqlite3",
            str(db),
            APPROVE_ALL,
        ],
        check=True,
    )

    # Interleaved repetitions, medians reported: one slow run of either side does not decide.
    runs = {"baseline": [], "export": [], "export_itself": []}
    digests = set()
    for rep in range(args.repeat):
        with (work / "baseline.json").open("wb") as out:
            runs["baseline"].append(
                run_measured(["sqlite3", "-json", str(db), BASELINE_SQL], env, out)
            )
        name = f"bench{rep}"
        with (work / "export.log").open("wb") as log:
            runs["export"].append(
                run_measured(
                    [
                        python,
                        "manage.py",
                        "export_dataset",
                        "--format",
                        "chat",
                        "--name",
                        name,
                        "--verbosity",
                        "2",
                    ],
                    env,
                    quiet,
                    log,
                )
            )
        log_text = (work / "export.log").read_text()
        runs["export_itself"].append(float(log_text.split("export written in ")[1].split()[0]))
        manifest = json.loads((work / "exports" / name / "manifest.json").read_text())
        digests.add(json.dumps(manifest["files"], sort_keys=True))
    if len(digests) != 1:
        raise SystemExit("repeated exports of the same data differ")
    exported = manifest["counts"]["train"] + manifest["counts"]["validation"]
    base_s = statistics.median(s for s, _ in runs["baseline"])
    export_s = statistics.median(s for s, _ in runs["export"])
    written_s = statistics.median(runs["export_itself"])
    result = {
        "stories": args.stories,
        "exported": exported,
        "repeats": args.repeat,
        "baseline_sqlite3_json": {
            "seconds": round(base_s, 2),
            "peak_rss_mb": round(max(mb for _, mb in runs["baseline"]), 1),
            "runs_s": [round(s, 2) for s, _ in runs["baseline"]],
        },
        "export_dataset": {
            "seconds": round(export_s, 2),
            "peak_rss_mb": round(max(mb for _, mb in runs["export"]), 1),
            "runs_s": [round(s, 2) for s, _ in runs["export"]],
        },
        "export_itself_seconds": round(written_s, 2),
        "export_itself_runs_s": [round(s, 2) for s in runs["export_itself"]],
        "identical_files_across_runs": True,
        "time_ratio_process": round(export_s / base_s, 2),
        "time_ratio_export": round(written_s / base_s, 2),
        "targets": {"time_ratio_max": 3.0, "peak_rss_mb_max": 300},
    }
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{exported} stories exported (chat JSONL, Parquet, hf/ Arrow, manifest, card)")
    print(
        f"{'run (median of ' + str(args.repeat) + ')':<26}{'seconds':>10}{'peak RSS MB':>14}  runs"
    )
    for name in ("baseline_sqlite3_json", "export_dataset"):
        row = result[name]
        print(f"{name:<26}{row['seconds']:>10}{row['peak_rss_mb']:>14}  {row['runs_s']}")
    print(
        f"export itself (query, JSONL, Parquet, Arrow, hashes, card; no interpreter start): "
        f"{result['export_itself_seconds']} s {result['export_itself_runs_s']}"
    )
    print(f"identical data files and card in every run: {result['identical_files_across_runs']}")
    print(f"time ratio, whole process / baseline: {result['time_ratio_process']}")
    print(f"time ratio, export itself / baseline: {result['time_ratio_export']} (target <= 3.0)")


if __name__ == "__main__":
    main()
