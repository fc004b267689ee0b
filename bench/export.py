"""Export approved stories and compare with a raw dump of the same rows by the database.

    python bench/export.py [--json] [--stories 100000] [--database sqlite|postgres]

Makes a fresh database (SQLite in a temporary folder, or a new PostgreSQL database on
127.0.0.1, dropped afterwards) with bench/review_data.py, every story, topic and theme
approved, then runs side by side: the baseline raw dump of the exportable rows as JSON
(`sqlite3 -json DB "<rows>"`, or `psql -c "COPY (SELECT row_to_json(..) <rows>) TO STDOUT"`)
and `manage.py export_dataset --format chat`, interleaved, --repeat times (default 3). Prints
the median wall time and the peak RSS of each (os.wait4 on each child), their ratio, and
checks that every export wrote the same bytes.
Targets: export itself <= 2x the baseline, export peak RSS < 300 MB.
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
from review import POSTGRES, postgres_database  # noqa: E402

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
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    tool = "sqlite3" if args.database == "sqlite" else "psql"
    if shutil.which(tool) is None:
        raise SystemExit(f"the {tool} command is needed for the baseline")
    database = f"storyapp_export_bench_{os.getpid()}"
    if args.database == "postgres":
        postgres_database(database, "create")
    try:
        result = run(args, database)
    finally:
        if args.database == "postgres":
            postgres_database(database, "drop")
    report(args, result)


def run(args, database: str) -> dict:

    work = Path(tempfile.mkdtemp(prefix="storyapp-export-bench-"))
    db = work / "bench.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyapp.settings",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "DEBUG": "0",
        "STORYAPP_VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{db}" if args.database == "sqlite" else POSTGRES + database,
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
    if args.database == "sqlite":
        subprocess.run(["sqlite3", str(db), APPROVE_ALL], check=True)
        baseline = ["sqlite3", "-json", str(db), BASELINE_SQL]
    else:
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", POSTGRES + database]
        subprocess.run([*psql, "-c", APPROVE_ALL + " ANALYZE;"], check=True, stdout=quiet)
        copy = f"COPY (SELECT row_to_json(r) FROM ({BASELINE_SQL}) r) TO STDOUT"
        baseline = [*psql, "-c", copy.replace("\n", " ")]

    # Interleaved repetitions, medians reported: one slow run of either side does not decide.
    runs = {"baseline": [], "export": [], "export_itself": []}
    digests = set()
    for rep in range(args.repeat):
        with (work / "baseline.json").open("wb") as out:
            runs["baseline"].append(run_measured(baseline, env, out))
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
        "database": args.database,
        "stories": args.stories,
        "exported": exported,
        "repeats": args.repeat,
        "baseline_raw_dump": {
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
        "targets": {"time_ratio_max": 2.0, "peak_rss_mb_max": 300},
    }
    shutil.rmtree(work, ignore_errors=True)
    return result


def report(args, result: dict) -> None:
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['exported']} stories exported from {args.database} (chat JSONL, Parquet, "
        f"hf/ Arrow, manifest, card)"
    )
    print(
        f"{'run (median of ' + str(args.repeat) + ')':<26}{'seconds':>10}{'peak RSS MB':>14}  runs"
    )
    for name in ("baseline_raw_dump", "export_dataset"):
        row = result[name]
        print(f"{name:<26}{row['seconds']:>10}{row['peak_rss_mb']:>14}  {row['runs_s']}")
    print(
        f"export itself (query, JSONL, Parquet, Arrow, hashes, card; no interpreter start): "
        f"{result['export_itself_seconds']} s {result['export_itself_runs_s']}"
    )
    print(f"identical data files and card in every run: {result['identical_files_across_runs']}")
    print(f"time ratio, whole process / baseline: {result['time_ratio_process']}")
    print(f"time ratio, export itself / baseline: {result['time_ratio_export']} (target <= 2.0)")


if __name__ == "__main__":
    main()
