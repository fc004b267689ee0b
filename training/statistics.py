"""The statistics of evaluations and blind comparisons: small, exact, tested against known
values."""

from collections import defaultdict


def bradley_terry(
    outcomes: list[tuple[str, str, float]],
    *,
    prior: float = 0.0,
    iterations: int = 5000,
    tolerance: float = 1e-12,
) -> dict[str, float]:
    """Bradley-Terry strengths from (i, j, score of i) outcomes: 1 i won, 0 j won, 0.5 a tie.

    The maximum-likelihood fit by minorization-maximization (Hunter 2004); strengths are
    scaled to sum to the number of players, so 1.0 is average, and P(i beats j) is
    s_i / (s_i + s_j). ``prior`` > 0 adds that many wins and as many losses of each player
    against a virtual player of strength 1, which keeps the strength of a player who never
    lost (or never won) finite; the results page uses 0.5."""
    players = sorted({p for i, j, _ in outcomes for p in (i, j)})
    if not players:
        return {}
    wins: defaultdict[str, float] = defaultdict(float)
    games: dict[tuple[str, str], float] = defaultdict(float)
    for i, j, score in outcomes:
        wins[i] += score
        wins[j] += 1 - score
        games[(i, j)] += 1
        games[(j, i)] += 1
    strength = dict.fromkeys(players, 1.0)
    for _ in range(iterations):
        updated = {}
        for i in players:
            denominator = sum(
                n / (strength[i] + strength[j]) for (a, j), n in games.items() if a == i
            ) + 2 * prior / (strength[i] + 1.0)
            updated[i] = (wins[i] + prior) / denominator
        scale = len(players) / sum(updated.values())
        updated = {p: s * scale for p, s in updated.items()}
        change = max(abs(updated[p] - strength[p]) for p in players)
        strength = updated
        if change < tolerance:
            break
    return strength


def distinct_n(texts: list[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams of the texts' words (lexical variety, 0 to 1)."""
    total, seen = 0, set()
    for text in texts:
        words = text.split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0
