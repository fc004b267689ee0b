"""The SVG charts: axes with titles and round ticks, values a reader can read, honest scales
(from zero, placed by value), and text escaped."""

import re

import pytest

from storyapp.charts import bar_chart, line_chart, nice_ticks, number


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize(
    ("high", "ticks"),
    [
        (1.42, [0, 0.5, 1.0, 1.5]),
        (7, [0, 2, 4, 6, 8]),
        (1, [0, 0.25, 0.5, 0.75, 1.0]),
        (1000, [0, 250, 500, 750, 1000]),
        (0, [0, 1]),
    ],
)
def test_ticks_are_round_and_start_at_zero(high, ticks):
    assert nice_ticks(high) == ticks


def test_numbers_read_as_people_write_them():
    assert [number(v) for v in (12.0, 1500, 1.33333, 0.7801, 2.5)] == [
        "12",
        "1,500",
        "1.33",
        "0.78",
        "2.5",
    ]


def test_a_loss_curve_of_two_points_is_drawn_on_an_axis_from_zero():
    svg = line_chart([(1, 1.33), (2, 1.42)], title="Loss", x_label="Step", y_label="Loss")
    words = texts(svg)
    assert {"Step", "Loss", "0", "0.5", "1", "1.5", "1.33", "1.42"} <= set(words)
    # from zero: the rise 1.33 -> 1.42 climbs a few pixels, not the full height
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert len(ys) == 2 and 0 < ys[0] - ys[1] < 15


def test_one_day_of_reviews_is_one_dated_counted_bar_among_the_others():
    bars = [(f"Dec {d}", 0) for d in range(1, 30)] + [("Dec 30", 7)]
    svg = bar_chart(bars, title="Reviews per day", x_label="Day", y_label="Reviews")
    widths = {float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)}
    assert len(re.findall("<rect ", svg)) == 30 and max(widths) < 20
    words = texts(svg)
    assert {"Day", "Reviews", "Dec 1", "Dec 30", "0", "8"} <= set(words)
    assert "Dec 30: 7" in svg  # each bar's value in its tooltip


def test_few_bars_carry_their_values_and_labels_are_escaped():
    svg = bar_chart([("<b>", 3), ("x", 1)], title="T <i>", x_label="A&B", y_label="n")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "A&amp;B" in svg
    assert {"3", "1"} <= set(texts(svg))


def test_nothing_to_draw_draws_nothing():
    assert bar_chart([], title="t", x_label="x", y_label="y") == ""
    assert line_chart([], title="t", x_label="x", y_label="y") == ""
