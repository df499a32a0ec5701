"""Item analysis: classical test statistics of an exam's questions and of the exam.

Plain Python, no Flask and no database: `analyse` takes the response matrix (one
`Responses` per attempt) and the questions' descriptions, and returns values. The
formulas are the Moodle statistics report's, as ../shared/guides/psychometrics.md
writes them; sample statistics divide by s - 1.

The matrix is read once, attempt by attempt, and what is kept does not grow with the
number of attempts: the running means and co-moment of (x, R) for each question
(Welford's update, which stays accurate where sums of products would cancel), and
counts of the distinct values of marks and totals (there are few: marks are 0, 1 or
a fraction, totals are sums of them), from which the variances (in two passes), the
sorted pairing of discriminative efficiency, the median and the higher moments are
exact.

A database need not send the matrix at all: `analyse_tally` takes the same counts
grouped in SQL (a `Tally`: attempts by total and form length, by each question's mark
and the attempt's total, and responses by the options chosen), with the co-moment of
(x, R) worked from them in two passes. Given the same totals, everything computed
from counts (facility, SD, the exam's statistics) is the same to the last bit either
way; the correlations agree to rounding.

With random forms an attempt sees only some of the bank's questions: a question's
statistics are over the attempts that saw it, and its rest score R = T - x uses the
attempt's own total T.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from quizapp.question_types import QUESTION_TYPES

MIN_RESPONSES = 30  # below this a question is "not enough data": no flags
FACILITY_LOW = 0.30
FACILITY_HIGH = 0.90
DISCRIMINATION_MIN = 15.0  # on the 100 x correlation scale
EFFICIENCY_MIN = 15.0  # percent
DISTRACTOR_MIN_SHARE = 0.05

# The flags, as words a manager reads (and scripts match).
TOO_HARD = "too hard"
TOO_EASY = "too easy"
WEAK = "weak discrimination"
CHECK_KEY = "check the key"
RARE_DISTRACTOR = "distractor rarely chosen"
NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True)
class Question:
    """What the statistics need to know of a question beyond its marks."""

    type: str  # a key of QUESTION_TYPES
    option_ids: tuple[str, ...]
    correct: frozenset[str]
    safety_critical: bool = False


@dataclass(frozen=True)
class Responses:
    """One attempt's row of the matrix: the mark (0..1) of every question on its form
    (a question missing was not on the form) and the option ids chosen for each."""

    marks: Mapping[str, float]
    choices: Mapping[str, Collection[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    responses: int
    facility: float | None  # share of the marks earned (max mark 1)
    sd: float | None
    random_guess: float | None
    discrimination: float | None  # 100 x corr(x, R)
    efficiency: float | None  # 100 x Cov(x, R) / Cov_max; None when Cov < 0
    option_shares: dict[str, float]  # option id -> share of responses choosing it
    enough_data: bool
    flags: tuple[str, ...]  # empty when not enough data
    rare_distractors: tuple[str, ...] = ()  # the option ids behind RARE_DISTRACTOR

    @property
    def labels(self) -> tuple[str, ...]:
        """The flags as a page, a CSV or a script shows them: the rare distractors
        named, and "not enough data" in place of flags below the minimum."""
        if not self.enough_data:
            return (NOT_ENOUGH_DATA,)
        return tuple(f"{flag}: {', '.join(self.rare_distractors)}"
                     if flag == RARE_DISTRACTOR else flag for flag in self.flags)


@dataclass(frozen=True)
class ExamStats:
    """The exam's statistics over attempt scores in percent (see `analyse`)."""

    attempts: int
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    alpha: float | None  # 0..1 (Cronbach's alpha; KR-20 on 0/1 marks)
    error_ratio: float | None  # sqrt(1 - alpha)
    sem: float | None  # percent points


@dataclass(frozen=True)
class Analysis:
    exam: ExamStats
    items: dict[str, ItemStats]  # in the order questions were first seen


# Questions of a bank mostly share their option ids (a, b, c...) and numbers of keys, and
# scoring every subset of a multiple-response question's options is otherwise the
# costliest step of analysing an exam of thousands of questions.
@functools.lru_cache(maxsize=4096)
def random_guess_score(question: Question, partial_credit: bool = False) -> float | None:
    """The expected mark of someone who guesses at random, under the type's own
    scoring rule: one option picked at random for a one-answer type (1/k, and 1/2 for
    true/false); for multiple response, any non-empty set of options with equal
    chance, scored all-or-nothing or with partial credit as the exam scores it. (An
    empty answer is not a guess; a uniform choice of set is the assumption that
    needs no knowledge of how many keys there are.)"""
    kind = QUESTION_TYPES.get(question.type)
    options = question.option_ids
    if kind is None or not options:
        return None
    if kind.input == "radio":
        guesses = [(option,) for option in options]
    else:
        guesses = [c for size in range(1, len(options) + 1)
                   for c in combinations(options, size)]
    total = math.fsum(kind.score(g, question.correct, partial_credit) for g in guesses)
    return total / len(guesses)


class _Moments:
    """Mean and co-moments of one question's (x, R) pairs, and the distinct values of
    each with their counts; added one pair at a time (`add`, Welford's update) or made
    from counts (`of_counts`). The variances come from the counts either way, so the
    two agree exactly on them."""

    def __init__(self):
        self.n = 0
        self.mean_x = self.mean_r = 0.0
        self.sxr = 0.0
        self.xs: Counter = Counter()
        self.rs: Counter = Counter()
        self.chosen: Counter = Counter()

    def add(self, x: float, rest: float, chosen: Collection[str]) -> None:
        self.n += 1
        dx = x - self.mean_x
        self.mean_x += dx / self.n
        self.mean_r += (rest - self.mean_r) / self.n
        self.sxr += dx * (rest - self.mean_r)
        self.xs[x] += 1
        self.rs[rest] += 1
        self.chosen.update(set(chosen))

    @classmethod
    def of_counts(cls, marks: Mapping[tuple[float, float], int], chosen: Counter) -> _Moments:
        """From the number of attempts with each mark x and attempt total T (so R is
        T - x), and of responses choosing each option."""
        m = cls()
        pairs = [(x, total - x, count) for (x, total), count in marks.items()]
        for x, rest, count in pairs:
            m.xs[x] += count
            m.rs[rest] += count
        m.n = sum(m.xs.values())
        m.mean_x, m.mean_r = _mean(m.xs, m.n), _mean(m.rs, m.n)
        m.sxr = math.fsum(count * (x - m.mean_x) * (rest - m.mean_r)
                          for x, rest, count in pairs)
        m.chosen = chosen
        return m

    # Read once all pairs are in.
    @functools.cached_property
    def facility(self) -> float:
        # From the counts rather than the running mean, so 9 of 30 is exactly .30 and
        # lands on the right side of a threshold.
        return _mean(self.xs, self.n)

    @functools.cached_property
    def sxx(self) -> float:
        return _comoment(self.xs, self.n)

    @functools.cached_property
    def srr(self) -> float:
        return _comoment(self.rs, self.n)

    def max_comoment(self) -> float:
        """Σ(x - x̄)(R - R̄) with the sorted x paired with the sorted R: the largest
        co-moment these values allow, the denominator of discriminative efficiency."""
        xs, rs = sorted(self.xs.items()), sorted(self.rs.items())
        total, i, j = [], 0, 0
        x_left, r_left = xs[0][1], rs[0][1]
        while i < len(xs) and j < len(rs):
            pairs = min(x_left, r_left)
            total.append(pairs * (xs[i][0] - self.mean_x) * (rs[j][0] - self.mean_r))
            x_left -= pairs
            r_left -= pairs
            if not x_left:
                i += 1
                x_left = xs[i][1] if i < len(xs) else 0
            if not r_left:
                j += 1
                r_left = rs[j][1] if j < len(rs) else 0
        return math.fsum(total)


def _mean(counts: Counter, n: int) -> float:
    """The mean of a multiset given as value -> count."""
    return math.fsum(value * count for value, count in counts.items()) / n


def _comoment(counts: Counter, n: int) -> float:
    """Σ(v - v̄)² over a multiset given as value -> count, in two passes."""
    mean = _mean(counts, n)
    return math.fsum(count * (value - mean) ** 2 for value, count in counts.items())


@dataclass
class Tally:
    """A response matrix as counts, which SQL can group: attempts by their total and
    form length, attempts by each question's mark and the attempt's total, and
    responses by the options chosen."""

    totals: Counter = field(default_factory=Counter)  # (total, length) -> attempts
    # question id -> (x, total) -> attempts
    marks: defaultdict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # question id -> option id -> responses
    choices: defaultdict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add_choices(self, question_id: str, chosen: Collection[str], responses: int) -> None:
        """`responses` responses to the question that chose the options `chosen`."""
        counts = self.choices[question_id]
        for option in set(chosen):
            counts[option] += responses


def analyse(
    matrix: Iterable[Responses],
    questions: Mapping[str, Question],
    partial_credit: bool = False,
    min_responses: int = MIN_RESPONSES,
) -> Analysis:
    """Item and exam statistics of a response matrix, read in one pass."""
    per_item: dict[str, _Moments] = {}
    totals: Counter = Counter()  # (total, form length) -> attempts
    for row in matrix:
        if not row.marks:
            continue
        total = math.fsum(row.marks.values())
        totals[total, len(row.marks)] += 1
        for question_id, mark in row.marks.items():
            per_item.setdefault(question_id, _Moments()).add(
                mark, total - mark, row.choices.get(question_id, ()))
    return _analysis(totals, per_item, questions, partial_credit, min_responses)


def analyse_tally(
    tally: Tally,
    questions: Mapping[str, Question],
    partial_credit: bool = False,
    min_responses: int = MIN_RESPONSES,
) -> Analysis:
    """Item and exam statistics of a response matrix given as counts."""
    per_item = {qid: _Moments.of_counts(marks, tally.choices.get(qid, Counter()))
                for qid, marks in tally.marks.items()}
    return _analysis(tally.totals, per_item, questions, partial_credit, min_responses)


def _analysis(totals: Counter, per_item: Mapping[str, _Moments],
              questions: Mapping[str, Question], partial_credit: bool,
              min_responses: int) -> Analysis:
    percents: Counter = Counter()  # attempt score in percent -> attempts
    for (total, length), attempts in totals.items():
        percents[100 * total / length] += attempts
    form_lengths = sum(length * attempts for (_, length), attempts in totals.items())
    items = {
        qid: _item(qid, moments, questions.get(qid), partial_credit, min_responses)
        for qid, moments in per_item.items()
    }
    return Analysis(_exam(percents, per_item, sum(percents.values()), form_lengths), items)


def _item(question_id: str, m: _Moments, question: Question | None, partial_credit: bool,
          min_responses: int) -> ItemStats:
    n = m.n
    facility = m.facility
    sd = math.sqrt(m.sxx / (n - 1)) if n > 1 else None
    discrimination = efficiency = None
    if n > 1 and m.sxx > 0 and m.srr > 0:
        discrimination = 100 * m.sxr / math.sqrt(m.sxx * m.srr)
        # Cov and Cov_max share the 1/(s - 1), so their ratio is that of co-moments.
        # A negative covariance has no share of the maximum to speak of (it can
        # pass -100%): not available, as the guide has it; discrimination says it.
        best = m.max_comoment()
        if m.sxr >= 0 and best > 0:
            efficiency = 100 * m.sxr / best
    options = question.option_ids if question is not None else tuple(sorted(m.chosen))
    shares = {option: m.chosen[option] / n for option in options}
    enough = n >= min_responses
    flags: list[str] = []
    rare: tuple[str, ...] = ()
    if enough:
        if facility < FACILITY_LOW:
            flags.append(TOO_HARD)
        # Near-universal mastery is what safety-critical questions are for.
        if facility > FACILITY_HIGH and not (question and question.safety_critical):
            flags.append(TOO_EASY)
        if discrimination is not None and discrimination < 0:
            flags.append(CHECK_KEY)
        elif (discrimination is not None and discrimination < DISCRIMINATION_MIN) or (
                efficiency is not None and efficiency < EFFICIENCY_MIN):
            flags.append(WEAK)
        if question is not None:
            rare = tuple(o for o in question.option_ids if o not in question.correct
                         and shares[o] < DISTRACTOR_MIN_SHARE)
            if rare:
                flags.append(RARE_DISTRACTOR)
    return ItemStats(
        question_id=question_id,
        responses=n,
        facility=facility,
        sd=sd,
        random_guess=(random_guess_score(question, partial_credit)
                      if question is not None else None),
        discrimination=discrimination,
        efficiency=efficiency,
        option_shares=shares,
        enough_data=enough,
        flags=tuple(flags),
        rare_distractors=rare,
    )


def _exam(percents: Counter, per_item: Mapping[str, _Moments], s: int,
          form_lengths: int) -> ExamStats:
    """The test statistics, over percent scores.

    Percent, not raw totals: it is the score the exam reports, and forms of another
    length (after a blueprint change) stay comparable.

    Cronbach's alpha, p/(p - 1) · (1 - Σ Var(x_i) / k2), assumes every attempt
    answered the same p items. With random forms each attempt answers p of a larger
    pool, so Σ Var(x_i) is taken as what one form holds on average: each question's
    variance weighted by the share of attempts that saw it, n_i / s, and put on the
    percent scale, (100 / p)² with p the mean form length. With one fixed form every
    weight is 1 and this is the guide's formula exactly. Moodle's alternative, a
    "slot" per position holding whichever question was drawn, would add the spread
    between the questions' facilities to each slot's variance (our positions are
    shuffled, so every slot mixes the whole pool) and understate alpha as KR-21 does.
    """
    if s == 0:
        return ExamStats(0, None, None, None, None, None, None, None, None)
    mean = math.fsum(score * count for score, count in percents.items()) / s
    median = _median(percents, s)

    def moment(r: int) -> float:
        return math.fsum(count * (score - mean) ** r for score, count in percents.items()) / s

    m2 = moment(2)
    if s < 2:
        return ExamStats(s, mean, median, None, None, None, None, None, None)
    k2 = s * m2 / (s - 1)
    sd = math.sqrt(k2)
    skewness = kurtosis = alpha = error_ratio = sem = None
    if k2 > 0:
        if s > 2:
            k3 = s * s * moment(3) / ((s - 1) * (s - 2))
            skewness = k3 / k2 ** 1.5
        if s > 3:
            k4 = (s * s * ((s + 1) * moment(4) - 3 * (s - 1) * m2 * m2)
                  / ((s - 1) * (s - 2) * (s - 3)))
            kurtosis = k4 / (k2 * k2)
        p = form_lengths / s
        if p > 1:
            scale = (100 / p) ** 2
            item_variance = math.fsum(
                (m.n / s) * (m.sxx / (m.n - 1)) * scale for m in per_item.values() if m.n > 1)
            estimate = p / (p - 1) * (1 - item_variance / k2)
            # On a few attempts over random forms the weighted estimate can pass 1, which
            # no reliability can: shown as "n/a" (with the SEM it feeds), never as 125%.
            if estimate <= 1:
                alpha = estimate
                error_ratio = math.sqrt(1 - alpha)
                sem = sd * error_ratio
    return ExamStats(s, mean, median, sd, skewness, kurtosis, alpha, error_ratio, sem)


def _median(counts: Counter, s: int) -> float:
    """The median of a multiset given as value -> count."""
    ordered = sorted(counts.items())
    wanted = [(s - 1) // 2, s // 2]  # 0-based ranks of the middle one or two
    found = []
    seen = 0
    for value, count in ordered:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return (found[0] + found[1]) / 2
