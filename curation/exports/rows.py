"""The rows of a release: one streamed query over the exportable stories.

The database builds each chat or prompt-completion JSONL line itself (json_quote on SQLite,
to_json on PostgreSQL), from the prompt messages stored with the story; Python only routes
lines to their split. No per-row ORM work, so memory stays flat however many stories there are.
"""

import json

from django.db import connection
from django.db.models import F, Func, OuterRef, Subquery, TextField
from django.db.models.functions import Cast, Coalesce

from ..models import DatasetExport, Review, Story

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


class JSONLine(Func):
    """One chat or prompt-completion JSONL record (no newline), assembled by the database.

    The stored prompt messages are JSON text as generation wrote them: they are used verbatim,
    and the story is quoted as a JSON string by the database (json_quote / to_json). Python then
    only routes each line to its split: no decoding or encoding per row. A story stored without
    messages gets its stored exact prompt as the one user message.
    Arguments: the messages cast to text, the exact prompt, the story text.
    """

    output_field = TextField()
    TEMPLATES = {
        DatasetExport.Format.CHAT: (
            "'{{\"messages\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' "
            "THEN substr({m}, 1, length({m}) - 1) ELSE {user_open} END || ', ' || {answer} "
            "|| ']}}'"
        ),
        DatasetExport.Format.PROMPT_COMPLETION: (
            "'{{\"prompt\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' THEN {m} "
            "ELSE {user_open} || ']' END || ', \"completion\": [' || {answer} || ']}}'"
        ),
    }

    def __init__(self, messages, prompt, story, *, fmt: str):
        super().__init__(messages, prompt, story)
        self.fmt = fmt

    def _sql(self, compiler, connection, quote: str):
        (m, m_params), (prompt, p_params), (story, s_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        user_open = '\'[{"role": "user", "content": \' || ' + quote.format(prompt) + " || '}'"
        answer = '\'{"role": "assistant", "content": \' || ' + quote.format(story) + " || '}'"
        sql = self.TEMPLATES[self.fmt].format(m=m, user_open=user_open, answer=answer)
        # Parameters in the order their placeholders appear in the SQL.
        m_uses = 3 if self.fmt == DatasetExport.Format.CHAT else 2
        return sql, [*m_params * m_uses, *p_params, *s_params]

    def as_sqlite(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "json_quote({})")

    def as_postgresql(self, compiler, connection, **extra):
        return self._sql(compiler, connection, "to_json(({})::text)::text")


def _text_line(messages_json: str, prompt: str, story: str) -> str:
    """A text record: the user prompt, a blank line, the story. A story stored without chat
    messages uses its stored exact prompt."""
    messages = json.loads(messages_json) if messages_json else []
    user = next(
        (
            m.get("content", "")
            for m in (messages if isinstance(messages, list) else [])
            if isinstance(m, dict) and m.get("role") == "user"
        ),
        prompt,
    )
    return json.dumps({"text": f"{user}\n\n{story}"}, ensure_ascii=False)


def export_rows(export: DatasetExport):
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
        parts = {"messages_json": messages, "prompt_text": F("prompt"), "story": story}
    else:
        parts = {"line": JSONLine(messages, F("prompt"), story, fmt=export.format)}
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
