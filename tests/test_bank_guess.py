"""Guessability: the test-wise examinee who knows nothing of microneedling.

Each cue on its own question, the scoring rules (ties split, multiple response, chance),
and whole banks: one written with cues fails `check_bank`, one without passes.
"""

from __future__ import annotations

import pytest
from support import make_app
from test_bank_schema import make_question, write_bank

from quizapp.bank import Bank, check_bank, guess
from quizapp.bank.model import Citation, Option, Question

CITATION = Citation("doc-000", "How Does Microneedling Work?", "The skin repairs the injuries.")
RISKS = {"medication": "Medicines", "screening": "General screening"}


def question(options: list[str], keys: set[int], qid: str = "mech-901",
             stem: str = "Which reply fits?", qtype: str = "single", ordered: bool = False,
             safety_critical: bool = False, **changes) -> Question:
    return Question(
        id=qid, topic="mechanism", type=qtype, stem=stem, ordered=ordered,
        options=tuple(Option("abcdef"[i], text, i in keys, "" if i in keys else "Wrong.")
                      for i, text in enumerate(options)),
        explanation="Because.", difficulty="easy", safety_critical=safety_critical,
        sources=(CITATION,), risk="screening" if safety_critical else None, **changes,
    )


def picked(strategy: str, q: Question) -> list[int]:
    return guess.strategies()[strategy](q)


def scores(report: guess.SetReport) -> dict[str, float]:
    return {s.strategy: s.score for s in report.strategies}


# --- each cue on its own ----------------------------------------------------------------

CUE_CASES = [
    pytest.param("longest option",
                 ["Ice", "A cold pack", "A cold compress held on for ten minutes", "Heat"],
                 [2], id="longest"),
    pytest.param("no absolute words",
                 ["It always works", "It never fails", "It helps most people a little",
                  "Every client benefits"], [2], id="absolute"),
    pytest.param("most cautious",
                 ["Treat as booked", "Postpone and refer her to her doctor",
                  "Treat at a lower depth", "Add more numbing cream"], [1], id="cautious"),
    pytest.param("most hedged",
                 ["It fades scars", "It may soften some scars", "It removes scars",
                  "It hides scars"], [1], id="hedged"),
    pytest.param("odd length",
                 ["Redness", "Swelling", "Peeling", "Bruising"], [], id="no-odd-length"),
    pytest.param("odd length",
                 ["Redness", "Swelling", "Peeling", "A faint rash that settles within days"],
                 [3], id="odd-length-long"),
    pytest.param("odd length",
                 ["Redness that lasts", "Swelling that stays", "Peeling that goes", "Pain"],
                 [3], id="odd-length-short"),
    pytest.param("echoes other options",
                 ["Collagen and elastin rise", "Collagen falls", "Elastin falls", "Melanin rises"],
                 [0], id="echoes"),
]


@pytest.mark.parametrize(("cue", "options", "expected"), CUE_CASES)
def test_each_cue_favours_what_a_test_wise_examinee_would(cue, options, expected):
    """Every cue points at the options a test-wise examinee would pick by it."""
    assert picked(cue, question(options, {0})) == expected


def test_stem_words_cue_prefers_the_option_echoing_the_stem():
    q = question(["A dressing for a fresh wound", "Cold water", "A warm towel", "Bare air"],
                 {0}, stem="Which dressing suits a fresh wound?")
    assert picked("most stem words", q) == [0]


@pytest.mark.parametrize(("count", "ordered", "expected"), [
    (5, True, [2]), (4, True, [1, 2]), (3, True, [1]), (4, False, []), (2, True, []),
])
def test_middle_number_cue_applies_only_to_ordered_lists(count, ordered, expected):
    """In an ordered (numeric) list the middle one or two; elsewhere no cue at all."""
    q = question([f"{n} weeks" for n in range(1, count + 1)], {0}, ordered=ordered)
    assert picked("middle number", q) == expected


def test_cautious_words_count_in_inflected_forms():
    """'postponed', 'referral', 'evaluated', 'gently' sound just as careful."""
    q = question(["It was postponed", "A referral", "Have it evaluated", "Go gently",
                  "Treat now"], {0})
    assert guess.most_cautious(q) == [1, 1, 1, 1, 0]


def test_a_reversed_strategy_picks_what_the_cue_leaves():
    """Reversed, a cue sends the examinee to the other options: writers who always make
    a distractor the longest, or the only careful one, leak the key that way too."""
    q = question(["Ice", "A cold pack", "A cold compress held on for ten minutes", "Heat"],
                 {0})
    assert picked("longest option, reversed", q) == [0, 1, 3]
    q = question(["Treat as booked", "Postpone and refer her to her doctor",
                  "Treat at a lower depth"], {0})
    assert picked("most cautious, reversed", q) == [0, 2]
    assert guess.expected_mark(q, picked("most cautious, reversed", q)) == 0.5


def test_every_cue_and_the_combination_are_played_both_ways():
    names = list(guess.strategies())
    assert names == [*guess.CUES, guess.COMBINED,
                     *(f"{n}, reversed" for n in (*guess.CUES, guess.COMBINED))]


def test_a_cue_that_scores_every_option_alike_gives_no_preference():
    q = question(["Ice pack", "Warm pad", "Cool gel", "Dry wrap"], {0})
    assert picked("longest option", q) == []
    assert picked("longest option, reversed", q) == []
    assert guess.expected_mark(q, []) == guess.chance(q) == 0.25


# --- the scoring rules ------------------------------------------------------------------


def test_ties_are_split_on_a_single_answer_question():
    """Among two favoured options, one of them the key, the examinee scores half."""
    q = question(["One", "Two", "Three", "Four"], {1})
    assert guess.expected_mark(q, [1, 2]) == 0.5
    assert guess.expected_mark(q, [0, 2]) == 0.0
    assert guess.expected_mark(q, [1]) == 1.0


def test_multiple_response_ticks_the_options_scored_above_the_mean():
    """On a choose-all question the examinee ticks every option the cue favours, and
    scores (all or nothing) only when that is exactly the key."""
    q = question(["Postpone the session", "Refer to a doctor", "Treat now", "Treat deeper"],
                 {0, 1}, qtype="multiple")
    assert guess.favoured(q, guess.most_cautious(q)) == [0, 1]
    assert guess.expected_mark(q, [0, 1]) == 1.0
    assert guess.expected_mark(q, [0]) == 0.0


def test_chance_of_multiple_response_is_one_sensible_subset_in_all():
    """A random guess ticks one of the 2^n - 2 subsets that are neither empty nor all."""
    assert guess.chance(question(["A", "B", "C", "D"], {0, 1}, qtype="multiple")) == 1 / 14
    assert guess.chance(question(["A", "B"], {0}, qtype="multiple")) == 0.5
    assert guess.chance(question(["A", "B", "C"], {0})) == 1 / 3


def test_combined_strategy_adds_the_votes_of_the_conventional_cues():
    """Longest, cautious and hedged agree on option b: it gets their three votes."""
    q = question(["Treat now", "Postpone: it may need a doctor's check", "Treat deeper",
                  "Numb it"], {1})
    assert guess.votes(q)[1] >= 3
    assert guess.favoured(q, guess.votes(q)) == [1]


def test_true_false_and_practice_only_questions_are_not_in_the_certification_pool():
    questions = [
        question(["True", "False"], {0}, qid="mech-901", qtype="true_false",
                 practice_only=True),
        question(["One", "Two", "Three"], {0}, qid="mech-902", practice_only=True),
        question(["One", "Two", "Three"], {0}, qid="mech-903", status="draft"),
        question(["One", "Two", "Three"], {0}, qid="mech-904"),
    ]
    assert [q.id for q in guess.certification_pool(questions)] == ["mech-904"]


# --- whole sets: the limit and the minimum ----------------------------------------------


def _lengths_set(keyed_longest: int, total: int = 20) -> list[Question]:
    """`total` questions whose only cue is length; the key is the longest option in
    `keyed_longest` of them and the shortest in the rest."""
    lengths = ("A cool gel pad", "A cool gel wrap", "A cool gel sheet", "A cool gel bandage")
    return [
        question(list(lengths), {3 if n < keyed_longest else 0}, qid=f"mech-{n:03d}")
        for n in range(total)
    ]


def test_longest_key_everywhere_scores_full_marks_and_is_too_guessable():
    report = guess.score_set("pool", _lengths_set(20))
    assert scores(report)["longest option"] == 1.0
    assert scores(report)["longest option, reversed"] == 0.0
    assert report.best.strategy == "longest option"
    assert report.chance == 0.25
    assert report.too_guessable


def test_ten_points_above_chance_is_the_limit():
    """Exactly 10 points above chance passes; more fails."""
    at_limit = guess.score_set("pool", _lengths_set(7))  # 35% against 25%
    assert round(at_limit.best.score, 6) == 0.35
    assert not at_limit.too_guessable
    over = guess.score_set("pool", _lengths_set(8))  # 40%
    assert over.too_guessable


def test_a_key_never_the_longest_is_a_cue_too():
    """The key always the shortest of four: avoiding the longest option scores 1/3
    against 1/4 by chance."""
    report = guess.score_set("pool", _lengths_set(0))
    assert scores(report)["longest option"] == 0.0
    assert scores(report)["longest option, reversed"] == pytest.approx(1 / 3)


def test_a_set_too_small_is_reported_but_not_judged():
    small = guess.score_set("pool", _lengths_set(9, total=9))
    assert small.best.score == 1.0
    assert not small.judged and not small.too_guessable
    assert "too few questions to judge" in guess.summary_line([small])


# --- whole banks ---------------------------------------------------------------------------

CONDITIONS = ("isotretinoin", "warfarin", "chemotherapy", "cold sores", "eczema", "psoriasis",
              "keloids", "a changing mole", "a skin infection", "active acne", "a rash",
              "a recent sunburn")


def _bank(questions: list[Question]) -> Bank:
    bank = Bank(risk_categories=dict(RISKS))
    bank.questions = {q.id: q for q in questions}
    return bank


def cued_bank() -> Bank:
    """Safety questions whose key is the longest and the only cautious option, and
    ordered lists whose key sits in the middle."""
    questions = [
        question([f"Postpone, and refer the client with {condition} to her doctor first",
                  "Treat as booked", "Treat at a lower depth", "Add extra numbing cream"],
                 {0}, qid=f"contra-{n:03d}", safety_critical=True,
                 stem=f"A client with {condition} books a session. What should happen?")
        for n, condition in enumerate(CONDITIONS)
    ]
    questions += [
        question(["1 week", "4 weeks", "6 weeks", "12 weeks"], {1 + n % 2},
                 qid=f"sess-{n:03d}", ordered=True, stem=f"Which gap suits course {n}?")
        for n in range(4)
    ]
    return _bank(questions)


def clean_bank() -> Bank:
    """The same safety questions written without cues: two distractors sound just as
    careful as the key, the key is sometimes the plain "go ahead" option, the lengths
    of the key vary, and the key of the ordered lists moves from first to last."""
    questions = [
        question([f"Postpone for {condition}", f"Refer to a GP over {condition}",
                  f"Check again for {condition} next week",
                  f"Treat as booked despite {condition}"],
                 # Each option is the key in a quarter of the questions, the plain one too.
                 {n % 4}, qid=f"contra-{n:03d}", safety_critical=True,
                 stem=f"A client with {condition} books a session. What should happen?")
        for n, condition in enumerate(CONDITIONS)
    ]
    questions += [
        question(["1 week", "4 weeks", "6 weeks", "12 weeks"], {n}, qid=f"sess-{n:03d}",
                 ordered=True, stem=f"Which gap suits course {n}?")
        for n in range(4)
    ]
    return _bank(questions)


def _guessability_errors(bank: Bank) -> list[str]:
    return [p.message for p in check_bank(bank)
            if p.level == "error" and p.message.startswith("guessability")]


def test_bank_written_with_cues_fails_the_check():
    """The key always the longest and the only careful option: both sets fail."""
    bank = cued_bank()
    pool, safety = guess.guessability(bank.questions.values())
    assert pool.too_guessable and safety.too_guessable
    assert scores(safety)["most cautious"] == 1.0
    assert scores(pool)["middle number"] > pool.chance
    found = _guessability_errors(bank)
    assert len(found) == 2
    assert found[0].startswith("guessability: on the certification pool questions (16), a"
                               " test-wise examinee who knows nothing of the subject scores")
    assert "against 25.0% by chance; the limit is chance + 10 points" in found[0]
    assert found[1].startswith("guessability: on the safety-critical questions (12)")


def test_bank_written_without_cues_passes_the_check():
    """Careful distractors, varied lengths and key positions: no strategy beats chance
    by more than 10 points."""
    bank = clean_bank()
    pool, safety = guess.guessability(bank.questions.values())
    for report in (pool, safety):
        assert report.judged
        assert report.excess_points <= guess.LIMIT_POINTS, report
    assert _guessability_errors(bank) == []


def test_middle_number_cue_on_its_own_bank():
    """Twelve ordered lists with the key always in the middle: the cue scores 50% on
    four options (two middle ones), against 25%."""
    questions = [question(["1 week", "4 weeks", "6 weeks", "12 weeks"], {1},
                          qid=f"sess-{n:03d}", ordered=True, stem=f"Which gap for course {n}?")
                 for n in range(12)]
    pool, _safety = guess.guessability(questions)
    assert scores(pool)["middle number"] == 0.5
    assert pool.too_guessable


# --- what `bank check` prints --------------------------------------------------------------


def test_summary_and_strategy_lines():
    reports = guess.guessability(cued_bank().questions.values())
    line = guess.summary_line(reports)
    assert line.startswith("guessability: certification pool ")
    assert "vs chance 25.0% (limit 35.0%: OVER THE LIMIT)" in line
    assert "; safety-critical 100.0% (longest option) vs chance 25.0%" in line
    lines = guess.strategy_lines(reports)
    assert [line.split(":")[0] for line in lines] == [
        "  certification pool (16 questions)", "    followed", "    reversed",
        "  safety-critical (12 questions)", "    followed", "    reversed"]
    assert lines[4].startswith("    followed: longest option 100.0%, most stem words 100.0%")
    assert lines[5].startswith("    reversed: longest option 0.0%")
    for line in (lines[1], lines[2]):
        assert all(f"{name} " in line for name in (*guess.CUES, guess.COMBINED))


def test_summary_of_an_empty_set():
    reports = guess.guessability([question(["One", "Two", "Three"], {0})])
    assert guess.summary_line(reports).endswith("; safety-critical: no questions")


def test_bank_check_command_prints_the_guessability_figures(tmp_path):
    """`flask bank check` prints the summary line and each strategy's score."""
    root = write_bank(tmp_path, questions={"mechanism": [make_question()]})
    app = make_app(tmp_path)
    result = app.test_cli_runner().invoke(
        args=["bank", "check", "--path", str(root), "--sources", str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1:5] == [
        "guessability: certification pool 50.0% (longest option, reversed) vs chance 33.3%"
        " (too few questions to judge; at least 10); safety-critical: no questions",
        "  certification pool (1 question):",
        "    followed: longest option 0.0%, most stem words 33.3%, no absolute words 33.3%,"
        " middle number 33.3%, most cautious 33.3%, most hedged 33.3%, odd length 33.3%,"
        " echoes other options 33.3%, combined cues 0.0%",
        "    reversed: longest option 50.0%, most stem words 33.3%, no absolute words 33.3%,"
        " middle number 33.3%, most cautious 33.3%, most hedged 33.3%, odd length 33.3%,"
        " echoes other options 33.3%, combined cues 50.0%",
    ]
