"""Dataset exports: only approved stories leave the system, as reproducible, documented releases.

A release is a folder under ``var/exports/<name>/``: train/validation splits as JSONL and
Parquet, ``manifest.json`` (filters, seed, counts, story ids, sha256 of every file) and a
``README.md`` dataset card. Rows are streamed from the database and written incrementally, so
memory stays flat however many stories there are. The same options over the same data give the
same bytes; the folder appears atomically (written aside, then renamed) and never changes again.
"""

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Func, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.text import slugify

from .models import DatasetExport, Review, Story, Theme
from .reviews import Policy

CHUNK = 2000
SPLITS = ("train", "validation")
# The splits as a `datasets` save_to_disk folder, for datasets.load_from_disk(".../hf").
HF_ARROW = "data-00000-of-00001.arrow"
HF_FILES = (
    "hf/dataset_dict.json",
    *(
        f"hf/{split}/{name}"
        for split in SPLITS
        for name in (HF_ARROW, "dataset_info.json", "state.json")
    ),
)
DATA_FILES = ("train.jsonl", "validation.jsonl", "train.parquet", "validation.parquet", *HF_FILES)
ALL_FILES = (*DATA_FILES, "manifest.json", "README.md")


def export_root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def export_folder(export: DatasetExport) -> Path:
    return export_root() / export.name


def split_of(topic_id: int, seed: int, val_fraction: float) -> str:
    """train or validation for a topic: all stories of one topic land in one split, chosen by
    a hash of (seed, topic) so the choice does not depend on which other stories exist."""
    digest = hashlib.blake2b(f"{seed}:{topic_id}".encode(), digest_size=8).digest()
    return "validation" if int.from_bytes(digest, "big") / 2**64 < val_fraction else "train"


def exportable_stories(export: DatasetExport):
    stories = Story.objects.exportable()
    if export.min_score is not None:
        stories = stories.filter(mean_overall__gte=export.min_score)
    if export.models_filter:
        stories = stories.filter(model_name__in=export.models_filter)
    if export.themes_filter:
        stories = stories.filter(topic__theme_id__in=export.themes_filter)
    return stories


DEFAULT_PROMPT = ('Invent a completely new story about "', '".')


class JSONLine(Func):
    """One chat or prompt-completion JSONL record (no newline), assembled by the database.

    The stored prompt messages are JSON text as generation wrote them: they are used verbatim,
    and the story is quoted as a JSON string by the database (json_quote / to_json). Python then
    only routes each line to its split: no decoding or encoding per row. Stories stored without
    chat messages get the default story prompt for their topic.
    Arguments: the messages cast to text, the topic text, the story text.
    """

    output_field = TextField()
    TEMPLATES = {
        DatasetExport.Format.CHAT: (
            "'{{\"messages\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' "
            "THEN substr({m}, 1, length({m}) - 1) ELSE {default_open} END || ', ' || {answer} "
            "|| ']}}'"
        ),
        DatasetExport.Format.PROMPT_COMPLETION: (
            "'{{\"prompt\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' THEN {m} "
            "ELSE {default_open} || ']' END || ', \"completion\": [' || {answer} || ']}}'"
        ),
    }

    def __init__(self, messages, topic, story, *, fmt: str):
        super().__init__(messages, topic, story)
        self.fmt = fmt

    def _sql(self, compiler, connection, quote: str):
        (m, m_params), (topic, t_params), (story, s_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        default_open = (
            '\'[{"role": "user", "content": \' || '
            + quote.format(f"(%s || {topic} || %s)")
            + " || '}'"
        )
        answer = '\'{"role": "assistant", "content": \' || ' + quote.format(story) + " || '}'"
        sql = self.TEMPLATES[self.fmt].format(m=m, default_open=default_open, answer=answer)
        # Parameters in the order their placeholders appear in the SQL.
        default_params = [DEFAULT_PROMPT[0], *t_params, DEFAULT_PROMPT[1]]
        if self.fmt == DatasetExport.Format.CHAT:
            params = [*m_params, *m_params, *m_params, *default_params, *s_params]
        else:
            params = [*m_params, *m_params, *default_params, *s_params]
        return sql, params

    def as_sqlite(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "json_quote({})")

    def as_postgresql(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "to_json(({})::text)::text")


def _text_line(messages_json: str, topic: str, story: str) -> str:
    """A text record: the user prompt, a blank line, the story. Stories stored without chat
    messages (a raw-prompt job) get the default story prompt for their topic."""
    messages = json.loads(messages_json) if messages_json else []
    user = next(
        (
            m.get("content", "")
            for m in (messages if isinstance(messages, list) else [])
            if isinstance(m, dict) and m.get("role") == "user"
        ),
        DEFAULT_PROMPT[0] + topic + DEFAULT_PROMPT[1],
    )
    return json.dumps({"text": f"{user}\n\n{story}"}, ensure_ascii=False)


def _arrow_schema(fmt: str):
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    if fmt == DatasetExport.Format.CHAT:
        return pa.schema([("messages", pa.list_(message))])
    if fmt == DatasetExport.Format.PROMPT_COMPLETION:
        return pa.schema([("prompt", pa.list_(message)), ("completion", pa.list_(message))])
    return pa.schema([("text", pa.string())])


class _SplitWriter:
    """One split: the JSONL file, hashed as it is written, and its Parquet and Arrow twins.

    Lines are buffered and flushed in fixed-size chunks. Each chunk is also parsed by Arrow's
    JSON reader and appended to the Parquet file and to the Arrow stream of the ``hf/`` folder
    on a helper thread (Arrow releases the GIL), so that work overlaps with reading the
    database. Fixed chunks give fixed row groups and batches: the same rows give the same bytes.
    """

    LINES_PER_CHUNK = 4 * CHUNK

    def __init__(self, folder: Path, split: str, fmt: str):
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow as pa
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        self.handle = (folder / f"{split}.jsonl").open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[str] = []
        self.schema = _arrow_schema(fmt)
        self.parquet = pq.ParquetWriter(
            folder / f"{split}.parquet",
            self.schema,
            compression="snappy",
            write_statistics=False,
        )
        (folder / "hf" / split).mkdir(parents=True, exist_ok=True)
        self.arrow_file = pa.OSFile(str(folder / "hf" / split / HF_ARROW), "wb")
        self.arrow = pa.ipc.new_stream(self.arrow_file, self.schema)
        self.parse_options = pj.ParseOptions(
            explicit_schema=self.schema, unexpected_field_behavior="error"
        )
        self.read_options = pj.ReadOptions(block_size=64 << 20, use_threads=False)
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending = []

    def add(self, line: str) -> None:
        buffer = self.buffer
        buffer.append(line)
        if len(buffer) >= self.LINES_PER_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = ("\n".join(self.buffer) + "\n").encode("utf-8")
        self.buffer = []
        self.handle.write(data)
        self.digest.update(data)
        # Keep at most one chunk waiting, so memory stays bounded.
        for future in self.pending:
            future.result()
        self.pending = [self.pool.submit(self._to_parquet, data)]

    def _to_parquet(self, data: bytes) -> None:
        import pyarrow as pa
        import pyarrow.json as pj

        table = pj.read_json(
            pa.BufferReader(data), read_options=self.read_options, parse_options=self.parse_options
        )
        table = table.cast(self.schema)
        self.parquet.write_table(table)
        self.arrow.write_table(table)
        del table
        # Hand Arrow's freed buffers back, so the peak stays one chunk deep.
        pa.default_memory_pool().release_unused()

    def close(self) -> str:
        try:
            self.flush()
            for future in self.pending:
                future.result()
        finally:
            self.pool.shutdown()
            self.handle.close()
            self.parquet.close()
            self.arrow.close()
            self.arrow_file.close()
        return self.digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(export: DatasetExport):
    """Stream (id, topic id, theme id, model, template version, sampling JSON, JSONL line).

    One query, read in chunks from one cursor; no per-row ORM work. The database builds the
    line (see JSONLine) except for the text format, which decodes the prompt per row. With
    ``use_edits`` the latest reviewer edit replaces the text where there is one.
    """
    story = F("text")
    if export.use_edits:
        latest_edit = (
            Review.objects.filter(story=OuterRef("pk"))
            .exclude(edited_text="")
            .order_by("-created_at", "-pk")
            .values("edited_text")[:1]
        )
        story = Coalesce(Subquery(latest_edit), F("text"), output_field=TextField())
    messages = Cast("prompt_messages", TextField())
    text_format = export.format == DatasetExport.Format.TEXT
    if text_format:
        parts = {"messages_json": messages, "topic_text": F("topic__text"), "story": story}
    else:
        parts = {"line": JSONLine(messages, F("topic__text"), story, fmt=export.format)}
    query = (
        exportable_stories(export)
        .annotate(sampling_json=Cast("sampling", TextField()), **parts)
        .order_by("pk")
        .values_list(
            "pk",
            "topic_id",
            "topic__theme_id",
            "model_name",
            "template_version",
            "sampling_json",
            *parts,
        )
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            if text_format:
                yield from ((*row[:6], _text_line(*row[6:])) for row in chunk)
            else:
                yield from chunk


def _review_stats() -> dict:
    counts = Story.objects.aggregate(
        reviewed=Count("pk", filter=~Q(status=Story.Status.PENDING)),
        approved=Count("pk", filter=Q(status=Story.Status.APPROVED)),
        rejected=Count("pk", filter=Q(status=Story.Status.REJECTED)),
        adjudication=Count("pk", filter=Q(status=Story.Status.ADJUDICATION)),
    )
    decided = counts["approved"] + counts["rejected"]
    counts["acceptance_rate"] = round(counts["approved"] / decided, 4) if decided else None
    counts["rejection_rate"] = round(counts["rejected"] / decided, 4) if decided else None
    counts["reviews"] = Review.objects.count()
    return counts


def _card(export: DatasetExport, manifest: dict) -> str:
    policy = Policy.current().describe()
    stats = manifest["review"]
    per_theme = "\n".join(f"| {name} | {n} |" for name, n in manifest["per_theme"])
    models = ", ".join(manifest["models"]) or "none recorded"
    templates = ", ".join(manifest["template_versions"]) or "none recorded"
    sampling = "\n".join(f"- `{json.dumps(s, sort_keys=True)}`" for s in manifest["sampling"])
    fmt = {
        "chat": '`{"messages": [system?, user prompt, assistant story]}`',
        "prompt-completion": '`{"prompt": [system?, user], "completion": [assistant story]}`',
        "text": '`{"text": "<user prompt>\\n\\n<story>"}`',
    }[export.format]
    edits_note = (
        " (reviewers' edits replace the original text where one exists)" if export.use_edits else ""
    )
    min_score = export.min_score if export.min_score is not None else "none"
    split_rows = "\n".join(
        f"| {split} | {manifest['counts'][split]} | "
        f"`{split}.jsonl`, `{split}.parquet`, `hf/{split}/` |"
        for split in SPLITS
    )
    models_filter = ", ".join(export.models_filter) or "all"
    themes_filter = ", ".join(map(str, export.themes_filter)) or "all"
    # No name or date in the card: the same options over the same data give the same bytes.
    return f"""# Two-paragraph stories: a storytelling distillation dataset

Two-paragraph short stories written by language models from story topics, each topic made by a
teacher model from a common literary theme, and every story approved by human reviewers.
Made for fine-tuning a small student model to tell short, complete stories.

## Structure

| split | stories | files |
| --- | --- | --- |
{split_rows}

Each record: {fmt}. The user prompt is the story prompt of the template version that produced
the story{edits_note}.
The split is by topic: every story of one topic is in the same split (seed {export.seed},
validation fraction {export.val_fraction:g}). `manifest.json` lists the story ids of each split
and the sha256 of every file.

Load with `datasets.load_dataset("json", data_files={{"train": "train.jsonl",
"validation": "validation.jsonl"}})`, the same with `"parquet"` and the `.parquet` files, or
`datasets.load_from_disk("hf")` (the same splits as Arrow files).

## How it was made

- Themes: a catalog of common literary themes, curated by editors; themes touching restricted
  content were held and only approved with a recorded override.
- Topics: a teacher model wrote numbered topic lists from a one-shot prompt; reviewers triaged
  them (near-duplicates flagged).
- Stories: models {models}; prompt templates {templates}.
- Sampling parameters:
{sampling or "- none recorded"}

## Review protocol

{policy} Reviewers score overall quality and four rubric axes (follows the two-paragraph brief,
coherence, creativity, characters and conclusion) from 1 to 5. Automatic checks (paragraph
count, length, cut-off, repetition, near-duplicates, language) are shown to reviewers.

At export time: {stats["reviews"]} reviews; {stats["approved"]} stories approved,
{stats["rejected"]} rejected, {stats["adjudication"]} awaiting adjudication; acceptance rate
{stats["acceptance_rate"]}, rejection rate {stats["rejection_rate"]} (of decided stories).

Filters of this release: minimum mean score {min_score}, models {models_filter},
themes {themes_filter}.

## Stories per theme

| theme | stories |
| --- | --- |
{per_theme}

## Limitations

Stories are model output, reviewed by a few people: they can still contain clichés, factual
oddities or mild repetition. Topics come from one teacher model and share its habits. Only
English was asked for. The set is small; evaluate a fine-tuned model on held-out topics.
"""


def export_validate(*, name: str, fmt: str, min_score, val_fraction: float, models, themes) -> None:
    errors = []
    if not name or slugify(name) != name:
        errors.append(
            ValidationError(
                "The name uses lowercase letters, digits, - and _ only.", code="export_name_invalid"
            )
        )
    elif DatasetExport.objects.filter(name=name).exists() or (export_root() / name).exists():
        errors.append(
            ValidationError(
                "An export named %(name)s exists; releases never change. Pick another name.",
                code="export_exists",
                params={"name": name},
            )
        )
    if fmt not in DatasetExport.Format.values:
        errors.append(
            ValidationError(
                "Format must be chat, prompt-completion or text.", code="export_format_invalid"
            )
        )
    if min_score is not None and not 1 <= min_score <= 5:
        errors.append(ValidationError("Minimum score must be 1-5.", code="min_score_range"))
    if not 0 <= val_fraction < 1:
        errors.append(
            ValidationError("Validation fraction must be in [0, 1).", code="val_fraction_range")
        )
    unknown = set(themes) - set(Theme.objects.filter(pk__in=themes).values_list("pk", flat=True))
    if unknown:
        errors.append(
            ValidationError(
                "No theme with id %(ids)s.",
                code="theme_missing",
                params={"ids": ", ".join(map(str, sorted(unknown)))},
            )
        )
    if errors:
        raise ValidationError(errors)


def export_create(
    *,
    name: str,
    fmt: str = "chat",
    min_score=None,
    models=(),
    themes=(),
    use_edits=False,
    val_fraction: float = 0.1,
    seed: int = 42,
    actor=None,
    enqueue: bool = True,
) -> DatasetExport:
    """Validate and record an export; its files are written by export_run (a task)."""
    from functools import partial

    models, themes = sorted(set(models)), sorted(set(themes))
    export_validate(
        name=name,
        fmt=fmt,
        min_score=min_score,
        val_fraction=val_fraction,
        models=models,
        themes=themes,
    )
    with transaction.atomic():
        export = DatasetExport.objects.create(
            name=name,
            format=fmt,
            min_score=min_score,
            models_filter=models,
            themes_filter=themes,
            use_edits=use_edits,
            val_fraction=val_fraction,
            seed=seed,
            created_by=actor,
        )
        export.total = exportable_stories(export).count()
        if export.total == 0:
            raise ValidationError("No approved story matches these filters.", code="export_empty")
        export.save(update_fields=["total"])
        if enqueue:
            from .tasks import export_run_task

            transaction.on_commit(partial(export_run_task.enqueue, export_id=export.pk))
    return export


def export_run(*, export_id: int) -> DatasetExport:
    """Write the release files. Idempotent: a finished export is left as it is."""
    export = DatasetExport.objects.get(pk=export_id)
    if export.status == DatasetExport.Status.DONE:
        return export
    DatasetExport.objects.filter(pk=export.pk).update(status=DatasetExport.Status.RUNNING)
    root = export_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{export.name}-", dir=root))
    try:
        manifest = _write(export, tmp)
        final = export_folder(export)
        if final.exists():
            raise RuntimeError(f"{final} already exists")
        os.replace(tmp, final)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        DatasetExport.objects.filter(pk=export.pk).update(
            status=DatasetExport.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    done = {
        "status": DatasetExport.Status.DONE,
        "progress": export.total,
        "train_count": manifest["counts"]["train"],
        "validation_count": manifest["counts"]["validation"],
        "story_ids": sorted(manifest["story_ids"]["train"] + manifest["story_ids"]["validation"]),
        "files": manifest["files"],
        "finished_at": timezone.now(),
    }
    DatasetExport.objects.filter(pk=export.pk).update(**done)
    for field, value in done.items():
        setattr(export, field, value)
    return export


def _write(export: DatasetExport, folder: Path) -> dict:
    writers = {split: _SplitWriter(folder, split, export.format) for split in SPLITS}
    ids = {"train": [], "validation": []}
    per_theme: Counter = Counter()
    models, templates, samplings = set(), set(), set()
    split_cache: dict[int, str] = {}
    done = 0
    try:
        for pk, topic_id, theme, model, template, sampling, line in _rows(export):
            split = split_cache.get(topic_id)
            if split is None:
                split = split_cache[topic_id] = split_of(topic_id, export.seed, export.val_fraction)
            writers[split].add(line)
            ids[split].append(pk)
            per_theme[theme] += 1
            models.add(model)
            templates.add(template)
            samplings.add(sampling)
            done += 1
            if done % 20000 == 0:
                DatasetExport.objects.filter(pk=export.pk).update(progress=done)
    finally:
        digests = {f"{split}.jsonl": writer.close() for split, writer in writers.items()}
    if done == 0:
        raise ValueError("no approved story matches these filters any more")
    models.discard("")
    templates.discard("")
    theme_names = dict(Theme.objects.filter(pk__in=per_theme).values_list("pk", "name"))
    samplings = {s for s in samplings if s and s not in ("{}", "null")}
    manifest = {
        "name": export.name,
        "format": export.format,
        "filters": {
            "min_score": export.min_score,
            "models": export.models_filter,
            "themes": export.themes_filter,
            "use_edits": export.use_edits,
        },
        "seed": export.seed,
        "val_fraction": export.val_fraction,
        "counts": {"train": len(ids["train"]), "validation": len(ids["validation"])},
        "story_ids": ids,
        "models": sorted(models),
        "template_versions": sorted(templates),
        "sampling": sorted(
            (json.loads(s) for s in samplings), key=lambda d: json.dumps(d, sort_keys=True)
        )[:20],
        "per_theme": sorted(
            ((theme_names[pk], n) for pk, n in per_theme.items()), key=lambda i: (-i[1], i[0])
        ),
        "review": _review_stats(),
        "app_version": settings.STORYAPP_VERSION,
        "created_by": export.created_by.username if export.created_by else None,
        "created_at": export.created_at.isoformat(),
    }
    (folder / "README.md").write_text(_card(export, manifest), encoding="utf-8")
    _write_hf_metadata(folder, digests)
    manifest["files"] = {
        **digests,
        **{
            name: sha256_of(folder / name)
            for name in ("train.parquet", "validation.parquet", *HF_FILES)
        },
        "README.md": sha256_of(folder / "README.md"),
    }
    # Compact, and through json.dumps: it holds every story id, and the C encoder only runs
    # without indent and in one shot (json.dump encodes piecewise in Python).
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    (folder / "manifest.json").write_text(text + "\n", encoding="utf-8")
    return manifest


def _write_hf_metadata(folder: Path, digests: dict) -> None:
    """The small JSON files that make ``hf/`` a `datasets` save_to_disk folder around the Arrow
    streams written with the splits. The fingerprint comes from the split's content (not a
    random one, as save_to_disk would pick), so releases stay byte-identical; the features are
    read from the Arrow schema."""
    hf = folder / "hf"

    def dump(path: Path, data: dict) -> None:
        path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")

    dump(hf / "dataset_dict.json", {"splits": list(SPLITS)})
    for split in SPLITS:
        dump(
            hf / split / "state.json",
            {
                "_data_files": [{"filename": HF_ARROW}],
                "_fingerprint": digests[f"{split}.jsonl"][:16],
                "_format_columns": None,
                "_format_kwargs": {},
                "_format_type": None,
                "_output_all_columns": False,
                "_split": split,
            },
        )
        dump(
            hf / split / "dataset_info.json",
            {
                "citation": "",
                "description": "Approved two-paragraph stories; see README.md.",
                "homepage": "",
                "license": "",
            },
        )


def export_diff(export: DatasetExport, previous: DatasetExport | None) -> dict:
    if previous is None:
        return {"added": len(export.story_ids), "removed": 0, "added_ids": [], "removed_ids": []}
    now, before = set(export.story_ids), set(previous.story_ids)
    added, removed = sorted(now - before), sorted(before - now)
    return {
        "added": len(added),
        "removed": len(removed),
        "added_ids": added[:50],
        "removed_ids": removed[:50],
    }


def export_file_path(export: DatasetExport, filename: str) -> Path | None:
    """The path of one of the release's files, or None: no other path can be reached."""
    if filename not in ALL_FILES:
        return None
    folder = export_folder(export).resolve()
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


class _ZipSink:
    """A write-only file object for ZipFile that hands its bytes to a generator."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self):
        chunks, self.chunks = self.chunks, []
        return chunks


def export_zip_stream(export: DatasetExport):
    """Yield the release as a .zip, file by file in 1 MiB pieces (never all in memory)."""
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ALL_FILES:
            path = export_file_path(export, name)
            if path is None:
                continue
            info = zipfile.ZipInfo(f"{export.name}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as target:
                for block in iter(lambda: source.read(1 << 20), b""):
                    target.write(block)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()
