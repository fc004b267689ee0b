"""The comparison key of names and generated texts, and the normal form of text people type."""

import unicodedata


def text_key(text: str) -> str:
    """Trimmed, inner whitespace collapsed, casefolded: how theme names and topics are compared.

    Stored beside the text (not a functional index on LOWER(...)) because SQLite's LOWER only
    folds ASCII; Python's casefold is the same on every database.
    """
    return " ".join(text.split()).casefold()


def normalise_text(text: str) -> str:
    """Text from a form as it is compared and stored: line breaks as ``\\n`` (a browser's
    textarea sends CRLF), trailing spaces of each line and the text's surrounding whitespace
    dropped, Unicode NFC (a composed "é" equals a decomposed one)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def edit_of(original: str, edited: str) -> str:
    """A reviewer's edit of ``original``: the normalised edit, or "" when after normalising it
    is the same text (no edit was made)."""
    edited = normalise_text(edited or "")
    return edited if edited and edited != normalise_text(original) else ""
