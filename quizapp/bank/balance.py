"""Where the keys sit: spread over the option letters, and over the positions of an
ordered list, about as evenly as chance would.

A bank whose key is mostly option a leaks it to anyone who sees the letters; an
ordered numeric list whose key is always in the middle is answered by a test-wise
guess. Both are tested with Pearson's chi-square against what chance expects,
question by question (a question with n options and k keys expects k/n keys on
each of its letters).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from quizapp.bank.model import Question

# Letters: p < 0.01 over at least 10 questions. A bank has about ten groups to
# test (the bank and each topic), so 0.01 keeps a false alarm rare, while a real
# lean (9 of 12 keys on one letter gives p = 0.001) is still caught.
LETTER_P_LIMIT = 0.01
LETTER_MINIMUM_QUESTIONS = 10
# Positions in ordered lists: a bank holds only a handful of such questions, and at
# 0.01 even six keys out of six in the middle (p = 0.05) would pass unnoticed; a
# warning asks only for a second look, so the bar is 0.05 over at least 5.
POSITION_P_LIMIT = 0.05
POSITION_MINIMUM_QUESTIONS = 5
# Cells that chance fills with fewer keys than this are pooled with the cell
# before them (the rare letters e and f of long multiple-response questions).
MINIMUM_EXPECTED = 2.0
POSITIONS = ("first", "middle", "last")


def chi_square_p(statistic: float, degrees: int) -> float:
    """P(X >= statistic) for X chi-square with `degrees` degrees of freedom.

    Closed forms for whole degrees of freedom (Abramowitz and Stegun 26.4.4-5), so
    no statistics library is needed.
    """
    if degrees <= 0:
        return 1.0
    x = max(statistic, 0.0)
    if degrees % 2 == 0:
        term = total = math.exp(-x / 2)
        for i in range(1, degrees // 2):
            term *= x / (2 * i)
            total += term
        return min(1.0, total)
    chi = math.sqrt(x)
    series, term = 0.0, chi
    for r in range(1, (degrees - 1) // 2 + 1):
        if r > 1:
            term *= x / (2 * r - 1)
        series += term
    density = math.exp(-x / 2) / math.sqrt(2 * math.pi)
    return min(1.0, math.erfc(chi / math.sqrt(2)) + 2 * density * series)


@dataclass(frozen=True)
class Spread:
    """Keys counted per cell (letter or position) against what chance expects."""

    questions: int
    cells: tuple[str, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]

    @property
    def statistic(self) -> float:
        return sum((o - e) ** 2 / e for o, e in zip(self.observed, self.expected, strict=True)
                   if e > 0)

    @property
    def p_value(self) -> float:
        degrees = sum(e > 0 for e in self.expected) - 1
        return chi_square_p(self.statistic, degrees)


def _spread(tallies: dict[str, list[float]], order: Iterable[str], questions: int) -> Spread:
    cells = [[name, *tallies[name]] for name in order if name in tallies]
    # Pool trailing rare cells so no cell's expectation is too small for the test.
    while len(cells) > 2 and cells[-1][2] < MINIMUM_EXPECTED - 1e-9:  # float sums of k/n
        name, observed, expected = cells.pop()
        cells[-1][0] = f"{cells[-1][0].split('-')[0]}-{name.split('-')[-1]}"
        cells[-1][1] += observed
        cells[-1][2] += expected
    return Spread(
        questions,
        tuple(c[0] for c in cells),
        tuple(int(c[1]) for c in cells),
        tuple(c[2] for c in cells),
    )


def _tally(tallies: dict[str, list[float]], cell: str, correct: bool, share: float) -> None:
    counts = tallies.setdefault(cell, [0, 0.0])
    counts[0] += correct
    counts[1] += share


def letter_spread(questions: Iterable[Question]) -> Spread:
    """Keys per option letter over the shuffled single and multiple-answer questions."""
    tallies: dict[str, list[float]] = {}
    counted = 0
    for q in questions:
        if q.type not in ("single", "multiple") or q.ordered:
            continue
        counted += 1
        share = len(q.correct_ids) / len(q.options)
        for option in q.options:
            _tally(tallies, option.id, option.correct, share)
    return _spread(tallies, sorted(tallies), counted)


def position(index: int, count: int) -> str:
    return "first" if index == 0 else "last" if index == count - 1 else "middle"


def position_spread(questions: Iterable[Question]) -> Spread:
    """Keys per position (first, middle, last) over the ordered option lists."""
    tallies: dict[str, list[float]] = {}
    counted = 0
    for q in questions:
        if q.type not in ("single", "multiple") or not q.ordered:
            continue
        counted += 1
        share = len(q.correct_ids) / len(q.options)
        for index, option in enumerate(q.options):
            _tally(tallies, position(index, len(q.options)), option.correct, share)
    return Spread(
        counted,
        tuple(p for p in POSITIONS if p in tallies),
        tuple(int(tallies[p][0]) for p in POSITIONS if p in tallies),
        tuple(tallies[p][1] for p in POSITIONS if p in tallies),
    )


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _counts(spread: Spread) -> tuple[str, str]:
    observed = ", ".join(f"{c} {o}" for c, o in zip(spread.cells, spread.observed, strict=True))
    expected = ", ".join(f"{e:.1f}" for e in spread.expected)
    return observed, expected


def letter_warning(spread: Spread) -> str | None:
    """A message when the keys lean on some letters far more than chance explains."""
    if spread.questions < LETTER_MINIMUM_QUESTIONS or spread.p_value >= LETTER_P_LIMIT:
        return None
    observed, expected = _counts(spread)
    return (
        f"the keys of {spread.questions} shuffled questions are far from evenly spread over"
        f" the option letters ({observed}; chance expects {expected}; {_p(spread.p_value)}):"
        " move keys to the letters that have few"
    )


def position_warning(spread: Spread) -> str | None:
    """A message when the key of ordered lists sits in one place far more than chance."""
    if spread.questions < POSITION_MINIMUM_QUESTIONS or spread.p_value >= POSITION_P_LIMIT:
        return None
    observed, expected = _counts(spread)
    return (
        f"in the {spread.questions} ordered option lists the key's position is far from even"
        f" ({observed}; chance expects {expected}; {_p(spread.p_value)}):"
        " vary where the key sits"
    )
