"""Near-duplicate questions: pairs that would give each other away on one form.

Two questions are compared by what they ask and what they key: the content words
(see `wording.content_words`) of the stem plus the text of the correct option(s),
as a set, by Jaccard similarity |A ∩ B| / |A ∪ B|. The documents' titles (and,
in `content_words`, "according to") are left out, since they say where a fact comes
from, not what it is. The threshold was chosen on the shipped bank; question_bank/README.md
gives the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from quizapp.bank.model import Question
from quizapp.bank.wording import content_words

NEAR_DUPLICATE_THRESHOLD = 0.25


@dataclass(frozen=True)
class SimilarPair:
    first: str
    second: str
    similarity: float
    shared: tuple[str, ...]  # the words the two have in common, for the message


def question_words(question: Question, ignore_phrases: Iterable[str] = ()) -> frozenset[str]:
    """The words compared: the stem's and the correct options'."""
    text = " ".join([question.stem, *(o.text for o in question.options if o.correct)])
    return frozenset(content_words(text, ignore_phrases))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def similar_pairs(
    questions: Sequence[Question],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    ignore_phrases: Iterable[str] = (),
) -> list[SimilarPair]:
    """Every pair at or above `threshold`, most similar first (ids in bank order)."""
    ignore_phrases = tuple(ignore_phrases)
    words = [(q.id, question_words(q, ignore_phrases)) for q in questions]
    pairs = []
    for (first, a), (second, b) in combinations(words, 2):
        similarity = jaccard(a, b)
        if similarity >= threshold:
            pairs.append(SimilarPair(first, second, similarity, tuple(sorted(a & b))))
    pairs.sort(key=lambda p: -p.similarity)
    return pairs
