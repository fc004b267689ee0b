"""The rows of a release: one streamed query over the exportable stories.

The database builds each chat or prompt-completion JSONL line itself (json_quote on SQLite,
to_json on PostgreSQL), from the prompt messages stored with the story; Python only routes
lines to their split. No per-row ORM work, so memory stays flat however many stories there are.
"""

from typing import NamedTuple

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, JSONObject, NullIf

from ..models import DatasetExport, Review, Story
from .formats import format_of

CHUNK = 2000


def exportable_stories(export: DatasetExport):
    """The stories a release with these filters holds (approved, topic and theme not revoked)."""
    stories = Story.objects.exportable()
    if export.min_score is not None:
        stories = stories.filter(mean_overall__gte=export.min_score)
    if export.models_filter:
        stories = stories.filter(model_name__in=export.models_filter)
    if export.themes_filter:
        stories = stories.filter(topic__theme_id__in=export.themes_filter)
    return stories


def near_duplicates_left_out(export: DatasetExport) -> set[int]:
    """The stories of the release that nearly repeat another story of the same release
    (curation.near_duplicates): of each group, one is kept (the best reviewed: the highest
    mean score, then the most reviews, then the oldest) and the others are left out."""
    stories = exportable_stories(export)
    # The flagged stories first (few, by the near_duplicate_of index), then which of the
    # stories they repeat are in the release too.
    flagged = list(
        stories.filter(near_duplicate_of__isnull=False).values_list("pk", "near_duplicate_of_id")
    )
    if not flagged:
        return set()
    others = sorted({other for _, other in flagged})
    inside: set[int] = set()
    for start in range(0, len(others), 5000):  # bounded IN lists on both databases
        chunk = others[start : start + 5000]
        inside.update(stories.filter(pk__in=chunk).values_list("pk", flat=True))
    pairs = [(pk, other) for pk, other in flagged if other in inside]
    if not pairs:
        return set()
    parent: dict[int, int] = {}

    def root(pk: int) -> int:
        parent.setdefault(pk, pk)
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for pk, other in pairs:
        parent[root(pk)] = root(other)
    groups: dict[int, list[int]] = {}
    for pk in list(parent):
        groups.setdefault(root(pk), []).append(pk)
    ranks = {
        pk: (-(mean if mean is not None else 0.0), -reviews, created, pk)
        for pk, mean, reviews, created in Story.objects.filter(pk__in=list(parent)).values_list(
            "pk", "mean_overall", "review_count", "created_at"
        )
    }
    left_out: set[int] = set()
    for members in groups.values():
        kept = min(members, key=ranks.__getitem__)
        left_out.update(pk for pk in members if pk != kept)
    return left_out


class JSONLine(Func):
    """One chat or prompt-completion JSONL record (no newline), assembled by the database.

    The stored prompt messages are JSON text as generation wrote them: they are used verbatim,
    and the story is quoted as a JSON string by the database (json_quote / to_json). Python then
    only routes each line to its split: no decoding or encoding per row. A story stored without
    messages gets its stored exact prompt as the one user message.
    Arguments: the messages cast to text, the exact prompt, the story text.
    """

    output_field = TextField()

    def __init__(self, messages, prompt, story, *, template: str):
        super().__init__(messages, prompt, story)
        self.template = template

    def _sql(self, compiler, connection, quote: str):
        (m, m_params), (prompt, p_params), (story, s_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        user_open = '\'[{"role": "user", "content": \' || ' + quote.format(prompt) + " || '}'"
        answer = '\'{"role": "assistant", "content": \' || ' + quote.format(story) + " || '}'"
        sql = self.template.format(m=m, user_open=user_open, answer=answer)
        # Parameters in the order their placeholders appear in the SQL.
        m_uses = self.template.count("{m}")
        return sql, [*m_params * m_uses, *p_params, *s_params]

    def as_sqlite(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "json_quote({})")

    def as_postgresql(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "to_json(({})::text)::text")


# What export_rows yields, one tuple per story, in this order: each name with the column or
# annotation it is read from; then the line.
COLUMNS = {
    "pk": "pk",
    "topic_id": "topic_id",
    "theme_id": "topic__theme_id",
    "model": "model_name",
    "template": "template_version",
    "sampling_json": "sampling_json",
    "meta_json": "meta_json",
    "paragraph_count": "paragraph_count",
    "word_count": "word_count",
    "cut_off": "cut_off",
    "repeated_ngram_ratio": "repeated_ngram_ratio",
    "near_duplicate": "near_duplicate",
    "not_english": "not_english",
    "as_written": "passed_as_written",
    "repaired": "repaired",
    "edited": "edited",
    "mean_overall": "mean_overall",
    "stopped": "stopped",
    "judge_passed": "judge_passed",
}
ROW = (*COLUMNS, "line")


class Row(NamedTuple):
    """A row by name, at the cost of a tuple (a release reads one per story): ROW, typed."""

    pk: int
    topic_id: int
    theme_id: int
    model: str
    template: str
    sampling_json: str
    meta_json: str
    paragraph_count: int
    word_count: int
    cut_off: bool
    repeated_ngram_ratio: float
    near_duplicate: bool
    not_english: bool
    as_written: bool
    repaired: bool
    edited: bool
    mean_overall: float | None
    stopped: bool
    judge_passed: bool | None
    line: str


if Row._fields != ROW:  # one list of columns: the row's fields follow COLUMNS
    raise RuntimeError(f"rows.Row {Row._fields} differs from ROW {ROW}")


def export_rows(export: DatasetExport):
    """Stream the release's stories as lists of tuples of ROW (a chunk at a time, so the
    writer works on columns), in id order.

    One query, read in chunks from one cursor; no per-row ORM work. The database builds the
    line (see JSONLine) except for the text format, which decodes the prompt per row, and the
    record's metadata as a JSON object. The text is the one reviewers judged (the gates'
    automatic edit where there is one); with ``use_edits`` the latest reviewer edit replaces
    it (``edited``). The check fields describe the judged text.
    """
    texts: list[Combinable] = [NullIf(F("auto_edited_text"), Value("")), F("text")]
    edited: Combinable = Value(False)
    if export.use_edits:
        latest_edit = (
            Review.objects.filter(story=OuterRef("pk"))
            .exclude(edited_text="")
            .order_by("-created_at", "-pk")
            .values("edited_text")[:1]
        )
        texts.insert(0, Subquery(latest_edit))
        edited = Exists(Review.objects.filter(story=OuterRef("pk")).exclude(edited_text=""))
    story = Coalesce(*texts, output_field=TextField())
    messages = Cast("prompt_messages", TextField())
    fmt = format_of(export.format)
    line = fmt.line
    if fmt.sql is None:
        parts = {"messages_json": messages, "prompt_text": F("prompt"), "story": story}
    else:
        parts = {"line": JSONLine(messages, F("prompt"), story, template=fmt.sql)}
    meta = JSONObject(
        topic_id=F("topic_id"),
        topic=F("topic__text"),
        theme_id=F("topic__theme_id"),
        theme=F("topic__theme__name"),
        model=F("model_name"),
        template_version=F("template_version"),
        mean_overall=F("mean_overall"),
        reviews=F("review_count"),
    )
    query = (
        exportable_stories(export)
        .annotate(
            sampling_json=Cast("sampling", TextField()),
            meta_json=Cast(meta, TextField()),
            near_duplicate=Case(
                When(near_duplicate_of__isnull=True, then=Value(False)), default=Value(True)
            ),
            repaired=Case(When(auto_edited_text="", then=Value(False)), default=Value(True)),
            stopped=Case(When(finish_reason="stop", then=Value(True)), default=Value(False)),
            edited=ExpressionWrapper(edited, output_field=BooleanField()),
            **parts,
        )
        .order_by("pk")
        .values_list(*COLUMNS.values(), *parts)
    )
    sql, params = query.query.sql_with_params()
    head = len(ROW) - 1
    # A server-side cursor on PostgreSQL (a plain cursor would receive the whole result at
    # once: 2.4 GB for a million stories); the plain cursor on SQLite, which steps lazily.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            if line is not None:
                yield [(*row[:head], line(*row[head:])) for row in chunk]
            else:
                yield chunk
