"""Near-duplicate stories across the whole dataset, every theme at once.

Each story's judged text is cut into word 3-grams; a MinHash signature of them (datasketch)
is banded for locality-sensitive hashing and the band keys are kept in the database
(``StoryBand``, indexed), so a new story finds its candidates with one indexed query whatever
the dataset's size. Each candidate is then measured exactly (Jaccard similarity of the two
3-gram sets, in percent) against ``STORYAPP_NEAR_DUPLICATE_SIMILARITY``; the most similar one
at or above it, the oldest on a tie, is the story it nearly repeats.

Bands: 16 of 4 rows (64 permutations). Two stories sharing 70% of their 3-grams become
candidates with probability 0.988, at 90%: 1.0, at 30%: 0.12 (measured exactly and dropped).
"""

import hashlib
import re
import zlib
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import F, TextField, Value
from django.db.models.functions import Coalesce, NullIf

NUM_PERM = 64
BANDS, ROWS = 16, 4
SEED = 7
# A story nearly repeated by more stories than this is compared with the oldest ones only.
MAX_CANDIDATES = 50
WORD = re.compile(r"\w+")


@cache
def _minhash_class_and_template():
    """datasketch (with numpy and scipy) is imported on first use: pages and releases, which
    never hash, do not pay its memory or start-up time."""
    from datasketch import MinHash

    template = MinHash(num_perm=NUM_PERM, seed=SEED)
    return MinHash, template.permutations, template.scheme


if BANDS * ROWS != NUM_PERM:  # pragma: no cover  (a mistake in the constants above)
    raise RuntimeError("BANDS * ROWS must be NUM_PERM")


def shingles(text: str) -> frozenset[int]:
    """The word 3-grams of a text, lower-cased, punctuation ignored (a text of one or two
    words is its words), each as its CRC-32: sets of small integers compare and hash fast,
    and two different 3-grams of two stories share a CRC-32 about once in four billion."""
    words = WORD.findall(text.lower())
    crc = zlib.crc32
    if len(words) < 3:
        return frozenset([crc(" ".join(words).encode())]) if words else frozenset()
    return frozenset(
        crc(f"{a} {b} {c}".encode()) for a, b, c in zip(words, words[1:], words[2:], strict=False)
    )


def _same(value: int) -> int:
    return value


def band_keys(grams: Iterable[int]) -> list[int]:
    """The LSH band keys of a 3-gram set: one signed 64-bit key per band."""
    minhash_class, permutations, scheme = _minhash_class_and_template()
    minhash = minhash_class(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_same,  # the 3-grams are hashed already (CRC-32, shingles)
        permutations=permutations,
        scheme=scheme,
    )
    minhash.update_batch(list(grams))
    values = minhash.hashvalues.astype("<u4")  # datasketch keeps 32-bit hash values
    return [
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    ]


def similarity(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two 3-gram sets, in percent."""
    if not a or not b:
        return 0.0
    return 100.0 * len(a & b) / len(a | b)


def threshold() -> float:
    return float(settings.STORYAPP_NEAR_DUPLICATE_SIMILARITY)


def judged_texts(story_ids: Iterable[int]) -> dict[int, str]:
    """The judged text (the gates' repair where there is one) of each story."""
    from .models import Story

    judged = Coalesce(NullIf(F("auto_edited_text"), Value("")), F("text"), output_field=TextField())
    return dict(
        Story.objects.filter(pk__in=list(story_ids))
        .annotate(judged=judged)
        .values_list("pk", "judged")
    )


def best_match(grams: frozenset, candidates: dict[int, frozenset]) -> int | None:
    """The candidate most similar to ``grams`` at or above the threshold, the oldest (lowest
    id) on a tie; None when none reaches it."""
    best, best_score = None, threshold()
    for story_id in sorted(candidates):
        score = similarity(grams, candidates[story_id])
        if score > best_score or (score == best_score and best is None):
            best, best_score = story_id, score
    return best


def find(text: str, *, exclude: int | None = None) -> tuple[int | None, list[int]]:
    """(the indexed story ``text`` nearly repeats or None, the text's band keys to index it)."""
    from .models import StoryBand

    grams = shingles(text)
    if not grams:
        return None, []
    keys = band_keys(grams)
    # one indexed query; the texts of the (few) candidates in a second
    found = (
        StoryBand.objects.filter(key__in=keys)
        .values_list("story_id", flat=True)
        .distinct()
        .order_by("story_id")
    )
    if exclude is not None:
        found = found.exclude(story_id=exclude)
    candidates = {pk: shingles(t) for pk, t in judged_texts(found[:MAX_CANDIDATES]).items()}
    return best_match(grams, candidates), keys


def stories_with_keys(keys: list[int]) -> list[tuple[int, int]]:
    """(key, story id) of every indexed band among ``keys``, in one raw query per 5,000 keys
    (the ORM would spend longer compiling the IN list than the database answering it)."""
    from .models import StoryBand

    quote = connection.ops.quote_name
    found: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            cursor.execute(
                f"SELECT {quote('key')}, {quote('story_id')} "
                f"FROM {quote(StoryBand._meta.db_table)} "
                f"WHERE {quote('key')} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.extend(cursor.fetchall())
    return found


def index(pairs: list[tuple[int, int]]) -> None:
    """Keep band keys: (key, story id) pairs, in the caller's transaction (one executemany:
    a backlog writes millions, where model instances would cost most of the time)."""
    from .models import StoryBand

    if not pairs:
        return
    pairs = sorted(pairs)  # in key order: the key index takes them page by page
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(StoryBand._meta.db_table)} ({quote('key')}, {quote('story_id')}) "
        "VALUES (%s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, pairs)
