"""Intervals and agreement figures every app reports: small, exact, tested against known
values."""

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) when n is 0.

    ``successes`` may be fractional (a tie counts half a win)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def cohen_kappa(pairs: Sequence[tuple[object, object]], z: float = Z95) -> dict:
    """Cohen's kappa of two raters over ``pairs`` (rater one's label, rater two's label), with
    the share they agree on and both 95% intervals: Wilson for the share; for kappa the
    large-sample standard error sqrt(po (1 - po) / (n (1 - pe)^2)), clipped to [-1, 1].
    Kappa is None when it is undefined (no pairs, or both raters always gave one label)."""
    n = len(pairs)
    if not n:
        return {
            "n": 0,
            "agree": 0,
            "share": None,
            "share_low": 0.0,
            "share_high": 1.0,
            "kappa": None,
            "kappa_low": None,
            "kappa_high": None,
        }
    agree = sum(a == b for a, b in pairs)
    po = agree / n
    labels = {label for pair in pairs for label in pair}
    pe = sum(
        (sum(a == label for a, _ in pairs) / n) * (sum(b == label for _, b in pairs) / n)
        for label in labels
    )
    low, high = wilson_interval(agree, n, z)
    result = {
        "n": n,
        "agree": agree,
        "share": round(po, 4),
        "share_low": round(low, 4),
        "share_high": round(high, 4),
        "kappa": None,
        "kappa_low": None,
        "kappa_high": None,
    }
    if pe < 1:
        kappa = (po - pe) / (1 - pe)
        se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
        result.update(
            kappa=round(kappa, 4),
            kappa_low=round(max(-1.0, kappa - z * se), 4),
            kappa_high=round(min(1.0, kappa + z * se), 4),
        )
    return result
