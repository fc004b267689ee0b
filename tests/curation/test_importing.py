import pytest

from curation.importing import ThemeFileError, parse_theme_file


def codes(excinfo) -> list[tuple[int, str]]:
    return [(error.line, error.code) for error in excinfo.value.errors]


def test_text_file_gives_trimmed_names_with_line_numbers_and_skips_blank_lines():
    content = b"  Hope \n\n\tCourage\r\n   \nLoss"
    assert parse_theme_file(content, "themes.txt") == [(1, "Hope"), (3, "Courage"), (5, "Loss")]


def test_utf8_bom_and_non_ascii_names_are_accepted():
    content = "\ufeffÉmigration\nSehnsucht nach Ärger\n".encode()
    assert parse_theme_file(content, "t.txt") == [(1, "Émigration"), (2, "Sehnsucht nach Ärger")]


def test_every_invalid_line_is_reported_with_its_number_and_reason():
    content = (
        b"Fine\n"
        + b"x" * 121
        + b"\n"
        + b"bell\x07inside\n"
        + b"<b>bold</b>\n"
        + b"caf\xe9 latin-1\n"
        + b"Also fine\n"
    )
    with pytest.raises(ThemeFileError) as excinfo:
        parse_theme_file(content, "t.txt")
    assert codes(excinfo) == [
        (2, "theme_too_long"),
        (3, "theme_control_char"),
        (4, "theme_markup"),
        (5, "theme_not_utf8"),
    ]
    assert "longer than 120 characters (121)" in str(excinfo.value)


def test_exactly_120_characters_is_allowed():
    assert parse_theme_file(b"y" * 120, "t.txt") == [(1, "y" * 120)]


@pytest.mark.parametrize(
    "line",
    [
        b"<script>alert(1)</script>",
        b"<img src=x onerror=alert(1)>",
        b"Tom &amp; Jerry",
        b"<!-- comment -->",
        b"</div>",
    ],
)
def test_html_markup_is_refused(line):
    with pytest.raises(ThemeFileError) as excinfo:
        parse_theme_file(line, "t.txt")
    assert codes(excinfo) == [(1, "theme_markup")]


def test_comparisons_with_angle_brackets_are_not_markup():
    assert parse_theme_file(b"Love > fear\nx < y", "t.txt") == [(1, "Love > fear"), (2, "x < y")]


def test_csv_uses_the_theme_column_whatever_its_position():
    content = b'id,Theme,notes\n1,Hope,"a, b"\n\n2,  Exile ,\n'
    assert parse_theme_file(content, "THEMES.CSV") == [(2, "Hope"), (4, "Exile")]


def test_csv_without_theme_column_is_refused():
    with pytest.raises(ThemeFileError) as excinfo:
        parse_theme_file(b"name\nHope\n", "t.csv")
    assert codes(excinfo) == [(1, "csv_no_theme")]


def test_csv_row_missing_the_theme_cell_is_reported():
    with pytest.raises(ThemeFileError) as excinfo:
        parse_theme_file(b"id,theme\n1,Hope\n2\n", "t.csv")
    assert codes(excinfo) == [(3, "csv_short_row")]
