import math

import pytest

from storyapp.statistics import wilson_interval
from training.statistics import bradley_terry, distinct_n


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Wilson score intervals, 95% (z = 1.96), worked out by hand to 4 places.
        (18, 40, 0.3071, 0.6017),
        (0, 40, 0.0, 0.0876),
        (40, 40, 0.9124, 1.0),
        (5, 10, 0.2366, 0.7634),
        (1, 20, 0.0089, 0.2361),
    ],
)
def test_wilson_interval_known_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_of_nothing_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def _log_likelihood(strength, outcomes):
    return sum(
        s * math.log(strength[i] / (strength[i] + strength[j]))
        + (1 - s) * math.log(strength[j] / (strength[i] + strength[j]))
        for i, j, s in outcomes
    )


def test_bradley_terry_two_players_is_the_ratio_of_wins():
    outcomes = [("a", "b", 1.0)] * 3 + [("a", "b", 0.0)]
    strength = bradley_terry(outcomes)
    assert strength["a"] / strength["b"] == pytest.approx(3.0, rel=1e-6)
    assert strength["a"] + strength["b"] == pytest.approx(2.0)


def test_bradley_terry_is_the_maximum_likelihood_fit():
    outcomes = (
        [("a", "b", 1.0)] * 4
        + [("a", "b", 0.0)] * 2
        + [("b", "c", 1.0)] * 3
        + [("b", "c", 0.0)]
        + [("a", "c", 1.0)] * 2
        + [("a", "c", 0.5)] * 2
        + [("c", "a", 1.0)]
    )
    fitted = bradley_terry(outcomes)
    best = _log_likelihood(fitted, outcomes)
    # no nearby strengths fit better
    for player in fitted:
        for factor in (0.98, 1.02):
            nudged = {**fitted, player: fitted[player] * factor}
            assert _log_likelihood(nudged, outcomes) < best
    assert fitted["a"] > fitted["b"] > fitted["c"]


def test_bradley_terry_prior_keeps_an_unbeaten_player_finite():
    outcomes = [("a", "b", 1.0)] * 5
    strength = bradley_terry(outcomes, prior=0.5)
    assert math.isfinite(strength["a"]) and strength["a"] > strength["b"] > 0


def test_distinct_2():
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["one two", "three four"], 2) == 1.0
    assert distinct_n([], 2) == 0.0
