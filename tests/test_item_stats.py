"""The item statistics: a matrix worked by hand, an independent NumPy computation on
random matrices, each flag rule, and the edge cases that must give "not available"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quizapp import item_stats
from quizapp.item_stats import Question, Responses, analyse

SINGLE = Question("single", ("a", "b", "c", "d"), frozenset({"a"}))


def _rows(marks: list[dict[str, float]], choices: list[dict] | None = None) -> list[Responses]:
    choices = choices or [{} for _ in marks]
    return [Responses(m, c) for m, c in zip(marks, choices, strict=True)]


# Five attempts at one fixed form of three single-answer questions (key "a"):
#
#   attempt   A  B  C   T   percent   chosen (A, B, C)
#      1      1  1  0   2    66.67     a  a  b
#      2      1  1  1   3   100.00     a  a  a
#      3      1  0  0   1    33.33     a  c  b
#      4      0  0  1   1    33.33     b  d  a
#      5      0  0  1   1    33.33     b  b  a
HAND = [
    {"A": 1, "B": 1, "C": 0},
    {"A": 1, "B": 1, "C": 1},
    {"A": 1, "B": 0, "C": 0},
    {"A": 0, "B": 0, "C": 1},
    {"A": 0, "B": 0, "C": 1},
]
HAND_CHOICES = [
    {"A": ["a"], "B": ["a"], "C": ["b"]},
    {"A": ["a"], "B": ["a"], "C": ["a"]},
    {"A": ["a"], "B": ["c"], "C": ["b"]},
    {"A": ["b"], "B": ["d"], "C": ["a"]},
    {"A": ["b"], "B": ["b"], "C": ["a"]},
]
HAND_QUESTIONS = {"A": SINGLE, "B": SINGLE, "C": SINGLE}


def test_a_small_matrix_worked_by_hand():
    # Rest scores R = T - x, deviations from the means, s - 1 = 4:
    #
    # A: x = 1 1 1 0 0 (x̄ = .6), R = 1 2 0 1 1 (R̄ = 1)
    #    dx = .4 .4 .4 -.6 -.6, dR = 0 1 -1 0 0
    #    Σdx² = 3(.16) + 2(.36) = 1.2, so SD = √(1.2/4) = .5477; ΣdR² = 2
    #    ΣdxdR = 0 + .4 - .4 + 0 + 0 = 0, so discrimination = 100 · 0 = 0
    #    sorted x 0 0 1 1 1 with sorted R 0 1 1 1 2: Σ = (-.6)(-1) + (.4)(1) = 1.0,
    #    efficiency = 100 · 0 / 1.0 = 0
    # B: x = 1 1 0 0 0 (x̄ = .4), R = 1 2 1 1 1 (R̄ = 1.2)
    #    dx = .6 .6 -.4 -.4 -.4, dR = -.2 .8 -.2 -.2 -.2
    #    ΣdxdR = -.12 + .48 + .08 + .08 + .08 = .6; Σdx² = 1.2; ΣdR² = .8
    #    discrimination = 100 · .6 / √(1.2 · .8) = 61.237
    #    sorted pairing: (-.4)(-.2)·3 + (.6)(-.2) + (.6)(.8) = .6, efficiency = 100
    # C: x = 0 1 0 1 1 (x̄ = .6), R = 2 2 1 0 0 (R̄ = 1)
    #    dx = -.6 .4 -.6 .4 .4, dR = 1 1 0 -1 -1
    #    ΣdxdR = -.6 + .4 + 0 - .4 - .4 = -1.0; Σdx² = 1.2; ΣdR² = 4
    #    discrimination = 100 · -1 / √(1.2 · 4) = -45.644 (the better attempts miss it)
    #    the covariance is negative, so efficiency is not available (the sorted
    #    pairing gives (-.6)(-1)·2 + (.4)(0) + (.4)(1)·2 = 2.0: -1/2 would be -50%)
    analysis = analyse(_rows(HAND, HAND_CHOICES), HAND_QUESTIONS, min_responses=5)
    a, b, c = (analysis.items[q] for q in "ABC")
    assert (a.facility, b.facility, c.facility) == pytest.approx((0.6, 0.4, 0.6))
    assert a.sd == pytest.approx(math.sqrt(0.3))
    assert a.discrimination == pytest.approx(0, abs=1e-12)
    assert a.efficiency == pytest.approx(0, abs=1e-12)
    assert b.discrimination == pytest.approx(61.237, abs=1e-3)
    assert b.efficiency == pytest.approx(100)
    assert c.discrimination == pytest.approx(-45.644, abs=1e-3)
    assert c.efficiency is None
    assert a.random_guess == pytest.approx(0.25)
    assert a.option_shares == pytest.approx({"a": 0.6, "b": 0.4, "c": 0, "d": 0})
    assert b.option_shares == pytest.approx({"a": 0.4, "b": 0.2, "c": 0.2, "d": 0.2})

    # The exam, in percent: T = 2 3 1 1 1, T̄ = 1.6, deviations .4 1.4 -.6 -.6 -.6
    #    Σd² = .16 + 1.96 + 3(.36) = 3.2, m2 = .64, k2 = 3.2/4 = .8 (raw marks)
    #    on the percent scale (x 100/3): mean 53.333, k2 = .8 · (100/3)² = 88.889,
    #    SD = √88.889 = 29.814; median 33.333
    #    m3 = (.064 + 2.744 - 3(.216)) / 5 = .432, k3 = 25 · .432 / (4 · 3) = .9,
    #    skewness = .9 / .8^1.5 = 1.2578
    #    m4 = (.0256 + 3.8416 + 3(.1296)) / 5 = .8512,
    #    k4 = 25 · (6 · .8512 - 3 · 4 · .64²) / (4 · 3 · 2) = .2, kurtosis = .2/.64 = .3125
    # Alpha (KR-20): item variances 1.2/4 = .3 each, Σ = .9 against k2 = .8:
    #    α = 3/2 · (1 - .9/.8) = -.1875 (C works against A and B, as a wrong key does),
    #    error ratio = √1.1875 = 1.0897, SEM = 29.814 · 1.0897 = 32.489
    exam = analysis.exam
    assert exam.attempts == 5
    assert exam.mean == pytest.approx(160 / 3)
    assert exam.median == pytest.approx(100 / 3)
    assert exam.sd == pytest.approx(29.814, abs=1e-3)
    assert exam.skewness == pytest.approx(1.2578, abs=1e-4)
    assert exam.kurtosis == pytest.approx(0.3125)
    assert exam.alpha == pytest.approx(-0.1875)
    assert exam.error_ratio == pytest.approx(math.sqrt(1.1875))
    assert exam.sem == pytest.approx(29.814 * math.sqrt(1.1875), abs=1e-3)


def test_the_hand_matrix_flags():
    items = analyse(_rows(HAND, HAND_CHOICES), HAND_QUESTIONS, min_responses=5).items
    # A: discrimination 0 (< 15); c and d chosen by nobody.
    assert items["A"].flags == (item_stats.WEAK, item_stats.RARE_DISTRACTOR)
    assert items["A"].rare_distractors == ("c", "d")
    assert items["A"].labels == ("weak discrimination", "distractor rarely chosen: c, d")
    # B: facility .4, discrimination 61, efficiency 100, every distractor chosen.
    assert items["B"].flags == ()
    # C: negative discrimination; d never chosen.
    assert items["C"].flags == (item_stats.CHECK_KEY, item_stats.RARE_DISTRACTOR)


# --- Against an independent computation ----------------------------------------------


def _numpy_reference(marks: np.ndarray, seen: np.ndarray):
    """The guide's formulas written again, vectorised: marks[a, q] with seen[a, q]."""
    totals = (marks * seen).sum(axis=1)
    lengths = seen.sum(axis=1)
    items = {}
    for q in range(marks.shape[1]):
        rows = seen[:, q]
        x, rest = marks[rows, q], totals[rows] - marks[rows, q]
        if len(x) > 1 and x.std() > 0 and rest.std() > 0:
            discrimination = 100 * np.corrcoef(x, rest)[0, 1]
            cov = np.cov(x, rest)[0, 1]
            cov_max = np.cov(np.sort(x), np.sort(rest))[0, 1]
            efficiency = 100 * cov / cov_max if cov >= 0 else None
        else:
            discrimination = efficiency = None
        items[q] = (len(x), x.mean(), x.std(ddof=1) if len(x) > 1 else None,
                    discrimination, efficiency)
    percent = 100 * totals / lengths
    s = len(percent)
    g1 = ((percent - percent.mean()) ** 3).mean() / percent.var() ** 1.5
    g2 = ((percent - percent.mean()) ** 4).mean() / percent.var() ** 2 - 3
    p = lengths.mean()
    weights = seen.sum(axis=0) / s
    item_vars = np.array([marks[seen[:, q], q].var(ddof=1) for q in range(marks.shape[1])])
    alpha = p / (p - 1) * (1 - (weights * item_vars).sum() * (100 / p) ** 2
                           / percent.var(ddof=1))
    exam = {
        "mean": percent.mean(),
        "median": np.median(percent),
        "sd": percent.std(ddof=1),
        "skewness": math.sqrt(s * (s - 1)) / (s - 2) * g1,
        "kurtosis": (s - 1) / ((s - 2) * (s - 3)) * ((s + 1) * g2 + 6),
        "alpha": alpha,
        "sem": percent.std(ddof=1) * math.sqrt(1 - alpha),
    }
    return items, exam


def _matrix(rng, attempts: int, questions: int, form: int | None):
    ability = rng.normal(size=(attempts, 1))
    difficulty = rng.normal(size=(1, questions))
    marks = (rng.random((attempts, questions))
             < 1 / (1 + np.exp(difficulty - ability))).astype(float)
    if form is None:
        seen = np.ones_like(marks, dtype=bool)
    else:
        seen = np.zeros_like(marks, dtype=bool)
        for row in seen:
            row[rng.choice(questions, size=form, replace=False)] = True
    return marks, seen


@pytest.mark.parametrize("seed, attempts, questions, form", [
    (1, 40, 8, None), (2, 200, 30, None), (3, 300, 40, 15), (4, 57, 12, 5)])
def test_the_statistics_equal_an_independent_numpy_computation(seed, attempts, questions,
                                                               form):
    marks, seen = _matrix(np.random.default_rng(seed), attempts, questions, form)
    rows = [Responses({f"q{q}": float(marks[a, q])
                       for q in range(questions) if seen[a, q]})
            for a in range(attempts)]
    analysis = analyse(rows, {})
    expected_items, expected_exam = _numpy_reference(marks, seen)
    for q, (n, facility, sd, discrimination, efficiency) in expected_items.items():
        got = analysis.items[f"q{q}"]
        assert got.responses == n
        assert got.facility == pytest.approx(facility)
        assert got.sd == pytest.approx(sd)
        assert got.discrimination == pytest.approx(discrimination)
        assert got.efficiency == pytest.approx(efficiency)
    exam = analysis.exam
    for name, value in expected_exam.items():
        assert getattr(exam, name) == pytest.approx(value), name


def test_alpha_with_random_forms_weights_each_question_by_how_often_it_was_seen():
    # Two forms of two questions each from a pool of three: A and B, or A and C.
    #   attempt  A  B  C   T
    #      1     1  1  -   2
    #      2     0  0  -   0
    #      3     1  -  1   2
    #      4     0  -  1   1
    # Percent: 100, 0, 100, 50; mean 62.5; k2 = (37.5² + 62.5² + 37.5² + 12.5²)/3
    #   = (1406.25 + 3906.25 + 1406.25 + 156.25)/3 = 2291.667
    # Var(A) = 1/3 (1 1 0 0 ... over 4: Σdx² = 1, /3); Var(B) = .5 (1 0); Var(C) = 0.
    # Weights n_i/s: A 1, B .5, C .5, so a form holds .333 + .25 + 0 = .5833 (marks²),
    # on the percent scale x (100/2)² = 1458.33.
    # α = 2/1 · (1 - 1458.33 / 2291.667) = .7273
    rows = _rows([{"A": 1, "B": 1}, {"A": 0, "B": 0}, {"A": 1, "C": 1}, {"A": 0, "C": 1}])
    exam = analyse(rows, {}).exam
    assert exam.alpha == pytest.approx(2 * (1 - 1458.3333 / 2291.6667), abs=1e-6)
    assert exam.alpha == pytest.approx(0.7273, abs=1e-4)


def test_an_alpha_estimate_above_one_is_not_given():
    # Four attempts on forms of two: totals 2, 1, 0, 1, so percents 100, 50, 0, 50 and
    # k2 = 5000/3. Only A varies among questions seen twice or more (1, 0: variance .5),
    # seen by half the attempts: .25 x (100/2)² = 625. α would be 2(1 - 625/1666.7) = 1.25.
    rows = _rows([{"A": 1, "C": 1}, {"B": 0, "C": 1}, {"A": 0, "D": 0}, {"D": 0, "C": 1}])
    exam = analyse(rows, {}).exam
    assert exam.sd == pytest.approx(math.sqrt(5000 / 3))
    assert exam.alpha is exam.error_ratio is exam.sem is None


def test_with_one_fixed_form_alpha_is_kr20_exactly():
    marks, seen = _matrix(np.random.default_rng(9), 80, 10, None)
    rows = [Responses({f"q{q}": float(v) for q, v in enumerate(row)}) for row in marks]
    totals = marks.sum(axis=1)
    p = marks.shape[1]
    facility = marks.mean(axis=0)
    # KR-20 with sample variances: Σ p_i q_i · s/(s - 1) over the total's variance.
    kr20 = p / (p - 1) * (1 - (facility * (1 - facility)).sum() * 80 / 79 / totals.var(ddof=1))
    assert analyse(rows, {}).exam.alpha == pytest.approx(kr20)


def test_the_statistics_are_the_same_whatever_order_the_attempts_come_in():
    marks, seen = _matrix(np.random.default_rng(5), 60, 10, 6)
    rows = [Responses({f"q{q}": float(marks[a, q]) for q in range(10) if seen[a, q]})
            for a in range(60)]
    forward, backward = analyse(rows, {}), analyse(rows[::-1], {})
    assert forward.exam.alpha == pytest.approx(backward.exam.alpha)
    for qid, item in forward.items.items():
        assert item.discrimination == pytest.approx(backward.items[qid].discrimination)
        assert item.efficiency == pytest.approx(backward.items[qid].efficiency)


def test_a_tally_of_grouped_counts_gives_what_the_matrix_gives():
    # Partial marks, random forms and several options chosen at once: the counts a
    # database groups (attempts by total and length, by each question's mark and the
    # total, responses by the options chosen) carry everything the statistics read.
    rng = np.random.default_rng(11)
    marks = [0.0, 1 / 3, 0.5, 2 / 3, 1.0]
    rows = []
    for _ in range(90):
        questions = rng.choice(12, size=6, replace=False)
        rows.append(Responses(
            {f"q{q}": marks[rng.integers(len(marks))] for q in questions},
            {f"q{q}": list(rng.choice(["a", "b", "c", "d"], size=rng.integers(0, 3),
                                      replace=False)) for q in questions}))
    tally = item_stats.Tally()
    for row in rows:
        total = math.fsum(row.marks.values())
        tally.totals[total, len(row.marks)] += 1
        for qid, mark in row.marks.items():
            tally.marks[qid][mark, total] += 1
            tally.add_choices(qid, row.choices[qid], 1)
    expected, got = analyse(rows, {}), item_stats.analyse_tally(tally, {})
    assert got.exam == expected.exam  # from counts either way: the same to the last bit
    assert got.items.keys() == expected.items.keys()
    for qid, want in expected.items.items():
        item = got.items[qid]
        assert (item.responses, item.facility, item.sd, item.option_shares) == (
            want.responses, want.facility, want.sd, want.option_shares)
        assert item.discrimination == pytest.approx(want.discrimination)
        assert item.efficiency == pytest.approx(want.efficiency)
        assert item.flags == want.flags


# --- Random-guess scores ---------------------------------------------------------------


def test_random_guess_scores_follow_each_types_scoring():
    assert item_stats.random_guess_score(SINGLE) == pytest.approx(0.25)
    true_false = Question("true_false", ("t", "f"), frozenset({"t"}))
    assert item_stats.random_guess_score(true_false) == pytest.approx(0.5)
    # Multiple response, all or nothing: one right set among the 2^4 - 1 non-empty ones.
    multiple = Question("multiple", ("a", "b", "c", "d"), frozenset({"a", "b"}))
    assert item_stats.random_guess_score(multiple) == pytest.approx(1 / 15)
    # With partial credit (each right pick +1/2, each wrong -1/2, floor 0): the sets
    # scoring above 0 are {a}, {b} (.5 each), {a,b} (1), {a,c}, {a,d}, {b,c}, {b,d}
    # (0), {a,b,c}, {a,b,d} (.5 each): 3 in all, over 15.
    assert item_stats.random_guess_score(multiple, partial_credit=True) == pytest.approx(3 / 15)
    assert item_stats.random_guess_score(Question("essay", ("a",), frozenset())) is None


# --- Flags -----------------------------------------------------------------------------


def _item(marks: list[float], rests: list[float] | None = None, question=SINGLE,
          choices: list[list[str]] | None = None, min_responses: int = 30):
    """One question's statistics from its marks, with other questions filling in rest
    scores (by default the same as the mark: a perfectly discriminating question)."""
    rests = rests if rests is not None else marks
    choices = choices or [["a"] if m else ["b", "c", "d"][n % 3] for n, m in enumerate(marks)]
    rows = [Responses({"Q": m, "R": r}, {"Q": list(c)})
            for m, r, c in zip(marks, rests, choices, strict=True)]
    return analyse(rows, {"Q": question}, min_responses=min_responses).items["Q"]


def test_a_hard_question_is_flagged():
    item = _item([1.0] * 8 + [0.0] * 22)
    assert item.facility == pytest.approx(8 / 30)
    assert item_stats.TOO_HARD in item.flags
    assert item_stats.TOO_HARD not in _item([1.0] * 9 + [0.0] * 21).flags  # .30 exactly


def test_an_easy_question_is_flagged_unless_safety_critical():
    marks = [1.0] * 28 + [0.0] * 2  # facility .933
    assert item_stats.TOO_EASY in _item(marks).flags
    critical = Question("single", ("a", "b", "c", "d"), frozenset({"a"}), safety_critical=True)
    assert item_stats.TOO_EASY not in _item(marks, question=critical).flags
    assert item_stats.TOO_EASY not in _item([1.0] * 27 + [0.0] * 3).flags  # .90 exactly


def test_weak_discrimination_is_flagged():
    marks = [1.0, 0.0] * 15
    unrelated = [float(n % 3 == 0) for n in range(30)]  # rest scores unrelated to x
    item = _item(marks, unrelated)
    assert 0 <= item.discrimination < 15
    assert item.flags == (item_stats.WEAK,)
    assert _item(marks).flags == ()  # R = x: discrimination 100


def test_low_efficiency_is_flagged(monkeypatch):
    # Efficiency is never below a positive discrimination (Cov_max <= SD(x) SD(R),
    # Cauchy-Schwarz), so with both limits at 15 the discrimination rule fires first;
    # lower that limit to see the efficiency rule on its own.
    monkeypatch.setattr(item_stats, "DISCRIMINATION_MIN", 0.0)
    marks = [1.0, 0.0] * 15
    unrelated = [float(n % 3 == 0) for n in range(30)]
    item = _item(marks, unrelated)
    assert 0 < item.discrimination <= item.efficiency < 15
    assert item.flags == (item_stats.WEAK,)


def test_negative_discrimination_says_check_the_key():
    marks = [1.0, 0.0] * 15
    item = _item(marks, [1 - m for m in marks])
    assert item.discrimination == pytest.approx(-100)
    assert item.flags == (item_stats.CHECK_KEY,)
    assert item.labels == ("check the key",)


def test_a_distractor_almost_nobody_picks_is_flagged():
    marks = [1.0, 0.0] * 20
    # Of 40 responses: b and c share the 20 wrong ones but for one d.
    wrong = (["b"], ["c"]) * 10
    choices = [["a"] if m else list(wrong[n // 2]) for n, m in enumerate(marks)]
    choices[1] = ["d"]  # 1/40 = 2.5%
    item = _item(marks, choices=choices)
    assert item.option_shares["d"] == pytest.approx(0.025)
    assert item.flags == (item_stats.RARE_DISTRACTOR,)
    assert item.rare_distractors == ("d",)
    choices[3] = ["d"]  # 2/40 = 5%: not under 5%
    assert _item(marks, choices=choices).flags == ()


def test_below_the_minimum_there_are_no_flags_but_not_enough_data():
    marks = [1.0, 0.0] * 14  # 28 responses, negative discrimination
    item = _item(marks, [1 - m for m in marks])
    assert not item.enough_data and item.flags == ()
    assert item.labels == ("not enough data",)
    assert item.discrimination == pytest.approx(-100)  # still computed
    assert _item(marks, [1 - m for m in marks], min_responses=28).flags == (
        item_stats.CHECK_KEY,)


# --- Edge cases ------------------------------------------------------------------------


def test_no_attempts_at_all():
    analysis = analyse([], {})
    assert analysis.items == {}
    assert analysis.exam == item_stats.ExamStats(0, None, None, None, None, None, None,
                                                 None, None)


def test_one_attempt_gives_not_available_not_an_exception():
    analysis = analyse(_rows([{"A": 1, "B": 0}]), {"A": SINGLE})
    item = analysis.items["A"]
    assert (item.responses, item.facility) == (1, 1.0)
    assert item.sd is item.discrimination is item.efficiency is None
    exam = analysis.exam
    assert (exam.attempts, exam.mean, exam.median) == (1, 50.0, 50.0)
    assert exam.sd is exam.skewness is exam.kurtosis is exam.alpha is exam.sem is None


def test_two_and_three_attempts_leave_out_the_higher_moments():
    two = analyse(_rows([{"A": 1, "B": 0}, {"A": 1, "B": 1}]), {}).exam
    assert two.sd == pytest.approx(math.sqrt(1250)) and two.skewness is None
    three = analyse(_rows([{"A": 1, "B": 0}, {"A": 1, "B": 1}, {"A": 0, "B": 0}]), {}).exam
    assert three.skewness is not None and three.kurtosis is None


def test_zero_variance_gives_not_available():
    # Everyone scores the same: no SD of the totals to divide by, no correlation.
    analysis = analyse(_rows([{"A": 1, "B": 0}] * 40), {"A": SINGLE, "B": SINGLE})
    exam = analysis.exam
    assert exam.sd == 0 and exam.median == 50
    assert exam.skewness is exam.kurtosis is exam.alpha is exam.error_ratio is None
    a = analysis.items["A"]
    assert a.sd == 0 and a.discrimination is None and a.efficiency is None
    assert a.flags == (item_stats.TOO_EASY, item_stats.RARE_DISTRACTOR)


def test_a_one_question_form_has_no_alpha():
    exam = analyse(_rows([{"A": 1}, {"A": 0}, {"A": 1}]), {}).exam
    assert exam.sd is not None and exam.alpha is None


def test_attempts_with_empty_forms_are_skipped():
    analysis = analyse(_rows([{}, {"A": 1}, {"A": 0}]), {})
    assert analysis.exam.attempts == 2
