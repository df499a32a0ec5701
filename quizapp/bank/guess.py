"""Guessability: how well a test-wise examinee who knows nothing of the subject scores.

The examinee reads only the surface of each question and answers by cues. Each cue
gives every option a score (higher is preferred); on a single-answer question the
examinee picks among the options with the top score, at random when several tie,
so the expected mark is the key's share of those options. On a multiple-response
question (scored all or nothing) the examinee ticks every option scored above the
question's mean: the options the cue favours. A cue that scores every option alike
tells the examinee nothing, who then guesses at random (the chance score).

Chance is what the same examinee would get with no cue at all: 1/n on a
single-answer question; on a multiple-response question, the expected mark of a
random choice among the subsets a candidate could sensibly tick, every non-empty
subset except all of the options (the bank requires a wrong option): 1/(2^n - 2).

The combined strategy adds the cues' votes (1 from each cue that favours an option)
and answers by the total, in the same way.

Every strategy is also played reversed: avoid what the cue favours, choosing among
(or ticking) the other options. Writers told "the key must not be the longest or the
only careful option" can overshoot until the key is never the longest or never the
most careful; a trainee learns that from practice feedback as surely as the
original habit, so a reversed cue is a cue too.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from quizapp.bank.model import Question
from quizapp.bank.wording import ABSOLUTE, CAUTIOUS, HEDGES, content_words

# A strategy is allowed to beat chance by this much, in points of percentage.
LIMIT_POINTS = 10
# With fewer questions one lucky item moves the figure by about 10 points, so a set
# this small is reported but not judged.
MINIMUM_QUESTIONS = 10
GUESSED_TYPES = ("single", "multiple")

# An option this many times longer or shorter than the typical other option stands out.
ODD_LENGTH_RATIO = 1.5


def longest(q: Question) -> list[float]:
    """Prefer the longest option."""
    return [len(o.text) for o in q.options]


def stem_words(q: Question) -> list[float]:
    """Prefer the option sharing the most content words with the stem."""
    stem = set(content_words(q.stem))
    return [len(stem & set(content_words(o.text))) for o in q.options]


def no_absolute_words(q: Question) -> list[float]:
    """Avoid options with absolute words (always, never, only, all, must, ...)."""
    return [-len(ABSOLUTE.findall(o.text)) for o in q.options]


def middle_number(q: Question) -> list[float]:
    """In an ordered list (numbers ascending), prefer the middle one(s)."""
    count = len(q.options)
    if not q.ordered or count < 3:
        return [0.0] * count
    middle = {(count - 1) // 2, count // 2}
    return [1.0 if i in middle else 0.0 for i in range(count)]


def most_cautious(q: Question) -> list[float]:
    """Prefer the option that sounds most careful (postpone, refer, check first, ...)."""
    return [len(CAUTIOUS.findall(o.text.replace("’", "'"))) for o in q.options]


def most_hedged(q: Question) -> list[float]:
    """Prefer the qualified option ('may', 'usually', 'can', 'some'): keys often are."""
    return [len(HEDGES.findall(o.text)) for o in q.options]


def odd_length(q: Question) -> list[float]:
    """Prefer the option that stands out by length: the one furthest from the median
    of the others, when it is at least 1.5 times longer or shorter than it."""
    lengths = [len(o.text) for o in q.options]
    if len(lengths) < 3:
        return [0.0] * len(lengths)
    deviations = []
    for i, length in enumerate(lengths):
        ratio = length / statistics.median(lengths[:i] + lengths[i + 1:])
        deviations.append(max(ratio, 1 / ratio))
    most = max(deviations)
    if most < ODD_LENGTH_RATIO or deviations.count(most) > 1:
        return [0.0] * len(lengths)
    return [1.0 if d == most else 0.0 for d in deviations]


def echoes_other_options(q: Question) -> list[float]:
    """Prefer the option sharing the most words with the other options: a key is often
    written first and the distractors varied from it ("convergence")."""
    words = [set(content_words(o.text)) for o in q.options]
    return [
        sum(len(mine & theirs) for j, theirs in enumerate(words) if j != i)
        for i, mine in enumerate(words)
    ]


Cue = Callable[[Question], Sequence[float]]
CUES: dict[str, Cue] = {
    "longest option": longest,
    "most stem words": stem_words,
    "no absolute words": no_absolute_words,
    "middle number": middle_number,
    "most cautious": most_cautious,
    "most hedged": most_hedged,
    "odd length": odd_length,
    "echoes other options": echoes_other_options,
}
COMBINED = "combined cues"
REVERSED = ", reversed"


def favoured(q: Question, scores: Sequence[float]) -> list[int]:
    """The options the examinee picks from: on a single-answer question those with
    the top score, on a multiple-response one those above the mean; none when the
    scores are all equal (no cue)."""
    if len(set(scores)) <= 1:
        return []
    if q.type == "multiple":
        mean = sum(scores) / len(scores)
        return [i for i, s in enumerate(scores) if s > mean]
    top = max(scores)
    return [i for i, s in enumerate(scores) if s == top]


def chance(q: Question) -> float:
    count = len(q.options)
    return 1 / (2**count - 2) if q.type == "multiple" else 1 / count


def expected_mark(q: Question, picked: Sequence[int]) -> float:
    """The examinee's expected mark when choosing from (single) or ticking (multiple)
    the options at `picked`; with nothing picked, the chance mark."""
    if not picked:
        return chance(q)
    keys = {i for i, o in enumerate(q.options) if o.correct}
    if q.type == "multiple":
        return 1.0 if set(picked) == keys else 0.0
    return len(keys & set(picked)) / len(picked)


def votes(q: Question) -> list[float]:
    """Each cue gives one vote to every option it favours."""
    return _votes(q, [favoured(q, cue(q)) for cue in CUES.values()])


def _votes(q: Question, cue_picks: Iterable[Sequence[int]]) -> list[float]:
    total = [0.0] * len(q.options)
    for picked in cue_picks:
        for i in picked:
            total[i] += 1
    return total


def picks(q: Question) -> dict[str, list[int]]:
    """What every strategy picks on one question, each cue scored once."""
    chosen = {name: favoured(q, cue(q)) for name, cue in CUES.items()}
    chosen[COMBINED] = favoured(q, _votes(q, chosen.values()))
    return {**chosen,
            **{name + REVERSED: reversed_picks(q, picked) for name, picked in chosen.items()}}


def reversed_picks(q: Question, picked: Sequence[int]) -> list[int]:
    """The options a strategy does not pick: what its reversed form picks (nothing
    when the strategy itself had no cue to go on)."""
    return [i for i in range(len(q.options)) if i not in picked] if picked else []


def strategies() -> dict[str, Callable[[Question], list[int]]]:
    """Every strategy by name: each cue and the combination, followed and reversed."""
    scorers: dict[str, Cue] = {**CUES, COMBINED: votes}
    found: dict[str, Callable[[Question], list[int]]] = {}
    for name, cue in scorers.items():
        found[name] = lambda q, cue=cue: favoured(q, cue(q))
    for name, cue in scorers.items():
        found[name + REVERSED] = lambda q, cue=cue: reversed_picks(q, favoured(q, cue(q)))
    return found


@dataclass(frozen=True)
class StrategyScore:
    strategy: str
    score: float  # mean expected mark, 0 to 1


@dataclass(frozen=True)
class SetReport:
    """One set of questions: the chance score and every strategy's score on it."""

    name: str
    questions: int
    chance: float
    strategies: tuple[StrategyScore, ...]

    @property
    def best(self) -> StrategyScore:
        return max(self.strategies, key=lambda s: s.score)

    @property
    def excess_points(self) -> float:
        """How far the best strategy is above chance, in points of percentage."""
        return 100 * (self.best.score - self.chance)

    @property
    def judged(self) -> bool:
        return self.questions >= MINIMUM_QUESTIONS

    @property
    def too_guessable(self) -> bool:
        # The tolerance keeps float rounding (0.35 - 0.25 = 0.0999...) from deciding.
        return self.judged and self.excess_points > LIMIT_POINTS + 1e-9


def score_set(name: str, questions: Sequence[Question]) -> SetReport:
    """Simulate every strategy over `questions`."""
    questions = [q for q in questions if q.type in GUESSED_TYPES]
    count = len(questions)
    totals = dict.fromkeys(strategies(), 0.0)
    for q in questions:
        for strategy, picked in picks(q).items():
            totals[strategy] += expected_mark(q, picked)
    scores = [StrategyScore(strategy, total / count if count else 0.0)
              for strategy, total in totals.items()]
    mean_chance = sum(chance(q) for q in questions) / count if count else 0.0
    return SetReport(name, count, mean_chance, tuple(scores))


def certification_pool(questions: Iterable[Question]) -> list[Question]:
    """What the certification exam can draw that a guesser can answer by cues."""
    return [
        q for q in questions
        if q.status == "published" and not q.practice_only and q.type in GUESSED_TYPES
    ]


def guessability(questions: Iterable[Question]) -> tuple[SetReport, SetReport]:
    """The certification pool and its safety-critical questions, each scored."""
    pool = certification_pool(questions)
    return (
        score_set("certification pool", pool),
        score_set("safety-critical", [q for q in pool if q.safety_critical]),
    )


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def summary_line(reports: Sequence[SetReport]) -> str:
    """One line for `bank check`: each set's best score against chance and the limit."""
    parts = []
    for report in reports:
        if not report.questions:
            parts.append(f"{report.name}: no questions")
            continue
        figure = (f"{report.name} {_percent(report.best.score)} ({report.best.strategy})"
                  f" vs chance {_percent(report.chance)}")
        if report.judged:
            limit = report.chance + LIMIT_POINTS / 100
            verdict = "OVER THE LIMIT" if report.too_guessable else "within"
            parts.append(f"{figure} (limit {_percent(limit)}: {verdict})")
        else:
            parts.append(f"{figure} (too few questions to judge; at least {MINIMUM_QUESTIONS})")
    return "guessability: " + "; ".join(parts)


def strategy_lines(reports: Sequence[SetReport]) -> list[str]:
    """Per set, every strategy's score, followed and reversed: which cue to work on."""
    lines = []
    for report in reports:
        if not report.questions:
            continue
        plural = "s" if report.questions > 1 else ""
        lines.append(f"  {report.name} ({report.questions} question{plural}):")
        for label, reversed_form in (("followed", False), ("reversed", True)):
            scores = [s for s in report.strategies if s.strategy.endswith(REVERSED) is
                      reversed_form]
            lines.append(f"    {label}: " + ", ".join(
                f"{s.strategy.removesuffix(REVERSED)} {_percent(s.score)}" for s in scores))
    return lines
