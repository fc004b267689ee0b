"""Export formats: one object per format, registered in one place. Each says how a release's
line is built (an SQL template the database fills, or a Python function per row), its Arrow
columns, the shape the card shows, how a record yields its story, and how it splits into
prompt and completion for training (or that it cannot). Writers, the card, the statistics and
the release reader (``curation.releases``, the public surface) all ask the format."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..models import DatasetExport


class ReleaseNotTrainable(ValueError):
    pass


@dataclass(frozen=True)
class ExportFormat:
    """``sql``: a JSONLine template (``{m}`` the messages as JSON text, ``{user_open}`` a user
    message from the exact prompt, ``{answer}`` the assistant message), or None and ``line``:
    (messages JSON text, exact prompt, story) -> the JSON line. ``columns(pa, message)``: the
    record's Arrow fields (``message``: the struct of one chat message). ``split``: a record
    -> (prompt, completion) as lists of messages; None when the format has no boundary
    between prompt and story."""

    name: str
    shape: str
    columns: Callable
    story_of: Callable[[dict], str]
    split: Callable[[dict], tuple[list, list]] | None = None
    sql: str | None = None
    line: Callable[[str, str, str], str] | None = None
    why_not_trainable: str = ""

    @property
    def trainable(self) -> bool:
        return self.split is not None


FORMATS: dict[str, ExportFormat] = {}


def format_register(fmt: ExportFormat) -> ExportFormat:
    """Make a format known to the export form's service, the writers and every reader."""
    if (fmt.sql is None) == (fmt.line is None):
        raise ValueError(f"format {fmt.name}: give either an SQL template or a line function")
    FORMATS[fmt.name] = fmt
    return fmt


def format_of(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ReleaseNotTrainable(f"Unknown release format {name!r}.") from None


def _first_user_message(messages_json: str, prompt: str) -> str:
    """The user message of the stored chat messages, or the stored exact prompt."""
    messages = json.loads(messages_json) if messages_json else []
    return next(
        (
            m.get("content", "")
            for m in (messages if isinstance(messages, list) else [])
            if isinstance(m, dict) and m.get("role") == "user"
        ),
        prompt,
    )


def _text_line(messages_json: str, prompt: str, story: str) -> str:
    """A text record: the user prompt, a blank line, the story."""
    user = _first_user_message(messages_json, prompt)
    return json.dumps({"text": f"{user}\n\n{story}"}, ensure_ascii=False)


def _chat_split(record: dict) -> tuple[list, list]:
    *prompt, answer = record["messages"]
    return prompt, [answer]


format_register(
    ExportFormat(
        DatasetExport.Format.CHAT,
        shape='`{"messages": [system?, user prompt, assistant story]}`',
        columns=lambda pa, message: [("messages", pa.list_(message))],
        story_of=lambda record: record["messages"][-1]["content"],
        split=_chat_split,
        sql=(
            "'{{\"messages\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' "
            "THEN substr({m}, 1, length({m}) - 1) ELSE {user_open} END || ', ' || {answer} "
            "|| ']}}'"
        ),
    )
)
format_register(
    ExportFormat(
        DatasetExport.Format.PROMPT_COMPLETION,
        shape='`{"prompt": [system?, user], "completion": [assistant story]}`',
        columns=lambda pa, message: [
            ("prompt", pa.list_(message)),
            ("completion", pa.list_(message)),
        ],
        story_of=lambda record: record["completion"][-1]["content"],
        split=lambda record: (record["prompt"], record["completion"]),
        sql=(
            "'{{\"prompt\": ' || CASE WHEN substr({m}, 1, 2) = '[{{' THEN {m} "
            "ELSE {user_open} || ']' END || ', \"completion\": [' || {answer} || ']}}'"
        ),
    )
)
format_register(
    ExportFormat(
        DatasetExport.Format.TEXT,
        shape='`{"text": "<user prompt>\\n\\n<story>"}`',
        columns=lambda pa, message: [("text", pa.string())],
        story_of=lambda record: record["text"].split("\n\n", 1)[-1],
        line=_text_line,
        why_not_trainable=(
            "A text release has no boundary between prompt and story; export the release as "
            "chat or prompt-completion to fine-tune on it."
        ),
    )
)
