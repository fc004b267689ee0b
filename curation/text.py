"""The comparison key of names and generated texts."""


def text_key(text: str) -> str:
    """Trimmed, inner whitespace collapsed, casefolded: how theme names and topics are compared.

    Stored beside the text (not a functional index on LOWER(...)) because SQLite's LOWER only
    folds ASCII; Python's casefold is the same on every database.
    """
    return " ".join(text.split()).casefold()
