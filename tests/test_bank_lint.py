"""Item-writing rules: each linter rule with an example that trips it and one that does not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from quizapp.bank import Bank, balance, check_bank, load_bank
from quizapp.bank.lint import lint_question
from quizapp.bank.model import Citation, Option, Question, Topic

SHIPPED = Path(__file__).resolve().parent.parent / "question_bank"
CITATION = Citation("doc-000", "How Does Microneedling Work?", "The skin repairs the injuries.")


def opt(oid: str, text: str, correct: bool = False) -> Option:
    return Option(oid, text, correct, "" if correct else "Why it is tempting and wrong.")


def make(stem: str = "What does the healing response after needling produce?",
         options: tuple[Option, ...] | None = None, qtype: str = "single",
         qid: str = "mech-901") -> Question:
    """A question that breaks no rule unless a test says otherwise."""
    if options is None:
        options = (opt("a", "New collagen and elastin", True),
                   opt("b", "Extra melanin pigment"),
                   opt("c", "A thicker layer of dead cells"))
    return Question(id=qid, topic="mechanism", type=qtype, stem=stem, options=options,
                    explanation="The repair lays down collagen and elastin.",
                    difficulty="easy", safety_critical=False, sources=(CITATION,))


def test_clean_question_has_no_findings():
    """The baseline question used below trips no rule."""
    assert lint_question(make()) == []


# --- all / none of the above ------------------------------------------------------------


@pytest.mark.parametrize("text", ["All of the above", "None of the above",
                                  "Both of the options", "all of the answers"])
def test_all_or_none_of_the_above_is_an_error(text):
    """'All/none of the above' style options are errors."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", "Extra melanin pigment"), opt("c", text)))
    findings = [f for f in lint_question(q) if f[0] == "error"]
    assert findings == [("error", f"option c uses '{text}'")]


def test_option_merely_mentioning_above_is_fine():
    """Words like 'above' on their own are not the banned phrase."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", "Fibres above the dermis"), opt("c", "A thicker layer of cells")))
    assert lint_question(q) == []


# --- negative stems ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["not", "except", "least", "never", "incorrect", "false"])
def test_lowercase_negative_in_lead_in_is_an_error(word):
    """A negative word in the sentence that asks the question is an error."""
    q = make(stem=f"Which answer is {word} the product of the healing response?")
    assert lint_question(q) == [(
        "error",
        f"negatively worded stem ('{word}'): ask positively, or if the negative is"
        f" essential write it in capitals ('{word.upper()}')",
    )]


def test_capitalised_negative_is_only_a_warning():
    """Writing the negative in capitals (NOT) turns it into a warning."""
    q = make(stem="Which answer is NOT the product of the healing response?")
    assert lint_question(q) == [("warning", "negative stem ('NOT'): flag for a second look")]


def test_negative_only_in_the_scenario_is_fine():
    """A negative in the scenario before the question is not a negative stem."""
    q = make(stem="A client who has never had acne and is not pregnant books a session."
                  " What does the healing response after needling produce?")
    assert lint_question(q) == []


def test_negative_before_choose_all_that_apply_is_an_error():
    """In a multiple-response stem the question is the one before 'Choose all that apply.'"""
    q = make(qtype="multiple",
             stem="Which of these are not produced by the repair? Choose all that apply.",
             options=(opt("a", "Melanin", True), opt("b", "Keratin plugs", True),
                      opt("c", "Collagen")))
    assert [level for level, message in lint_question(q) if "negative" in message] == ["error"]


def test_true_false_statement_is_not_a_negative_stem():
    """A true/false item is a statement to judge; a 'not' in it is no lead-in flaw."""
    q = make(qtype="true_false", stem="Microneedling does not rely on heat.",
             options=(opt("a", "True", True), opt("b", "False")))
    assert lint_question(q) == []


# --- absolute words ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["always", "never", "completely", "guaranteed", "every"])
def test_absolute_word_in_option_is_a_warning(word):
    """Absolute words in options are a warning that names the option and word."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", f"Melanin, {word} in larger amounts"),
                      opt("c", "A thicker layer of dead cells")))
    assert lint_question(q) == [("warning", f"option b uses the absolute word '{word}',"
                                            " which test-wise candidates rule out")]


def test_absolute_word_only_as_part_of_another_word_is_fine():
    """'everyday' or 'nevertheless' are not the absolute words themselves."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", "Everyday melanin pigment"),
                      opt("c", "Nevertheless, dead cells")))
    assert lint_question(q) == []


# --- duplicate options ---------------------------------------------------------------------


def test_options_saying_the_same_thing_are_an_error():
    """Two options that differ only in case and punctuation are duplicates."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", "Extra melanin pigment"), opt("c", "extra  Melanin pigment.")))
    assert ("error", "options b and c say the same thing") in lint_question(q)


def test_distinct_options_are_fine():
    """Options that share words but say different things are not duplicates."""
    q = make(options=(opt("a", "New collagen and elastin", True),
                      opt("b", "Extra melanin pigment"), opt("c", "Extra melanin granules")))
    assert lint_question(q) == []


# --- stem words only in the correct option -------------------------------------------------


def test_stem_word_repeated_only_in_correct_option_is_a_warning():
    """A stem word that reappears only in the key gives the answer away."""
    q = make(stem="Which protein does the healing response boost?",
             options=(opt("a", "Collagen made during the healing response", True),
                      opt("b", "Melanin pigment"), opt("c", "Keratin plugs")))
    assert lint_question(q) == [("warning", "stem word(s) 'healing', 'response' appear again"
                                            " only in the correct option, a clue to the answer")]


def test_stem_word_repeated_in_a_wrong_option_too_is_fine():
    """When a distractor repeats the word as well, it is no clue."""
    q = make(stem="Which protein does the healing response boost?",
             options=(opt("a", "Collagen made during the healing response", True),
                      opt("b", "Melanin made during the healing response"),
                      opt("c", "Keratin made during the healing response")))
    assert lint_question(q) == []


# --- the correct option being the longest -------------------------------------------------


def _bank(questions: list[Question]) -> Bank:
    bank = Bank()
    bank.questions = {q.id: q for q in questions}
    return bank


def _single(number: int, key_position: int) -> Question:
    """Four options of lengths 10, 20, 30, 40; the key at `key_position` (0 = longest)."""
    texts = ["Choice " + "x" * length for length in (33, 23, 13, 3)]
    options = tuple(opt("abcd"[i], text, i == key_position) for i, text in enumerate(texts))
    return make(qid=f"mech-{number:03d}", options=options)


def _bias_warnings(bank: Bank):
    return [p for p in check_bank(bank) if "is the longest" in p.message]


def test_correct_option_longest_far_more_than_chance_is_a_warning():
    """Across the bank, a key that is nearly always the longest option is flagged."""
    bank = _bank([_single(n, 0) for n in range(12)])
    warnings = _bias_warnings(bank)
    assert [(p.level, p.message) for p in warnings] == [(
        "warning", "the correct option is the longest in 12 of 12 single-answer"
                   " questions, against 3 expected by chance",
    )]


def test_balanced_keys_raise_no_length_warning():
    """Keys spread over every length position are what chance gives: no warning."""
    bank = _bank([_single(n, n % 4) for n in range(12)])
    assert _bias_warnings(bank) == []


def test_length_bias_needs_enough_questions():
    """With fewer than ten single-answer questions nothing can be concluded."""
    bank = _bank([_single(n, 0) for n in range(9)])
    assert _bias_warnings(bank) == []


def test_bias_counts_only_published_questions():
    """Drafts do not count towards the bank-wide length bias."""
    questions = [replace(_single(n, 0), status="draft") for n in range(12)]
    assert _bias_warnings(_bank(questions)) == []


# --- the rules reach `bank check` with their location -------------------------------------


def test_lint_findings_are_reported_with_file_and_id(tmp_path):
    """check_bank reports a linter finding at the question's file and id."""
    root = tmp_path / "question_bank"
    root.mkdir()
    for name in ("sources.yaml", "conflicts.yaml"):
        (root / name).write_text((SHIPPED / name).read_text(encoding="utf-8"), encoding="utf-8")
    (root / "topics.yaml").write_text(
        "topics:\n  - id: mechanism\n    name: Mechanism\n", encoding="utf-8")
    (root / "exams.yaml").write_text("exams: []\n", encoding="utf-8")
    raw = {
        "id": "mech-901", "type": "single", "difficulty": "easy", "safety_critical": False,
        "stem": "Which is not made by the repair?",
        "options": [{"id": "a", "text": "Melanin", "correct": True},
                    {"id": "b", "text": "Collagen", "rationale": "The repair makes it."},
                    {"id": "c", "text": "None of the above", "rationale": "One is."}],
        "explanation": "The repair makes collagen and elastin, not melanin.",
        "sources": [{"document": "doc-000", "section": "How Does Microneedling Work?",
                     "fact": "The skin repairs the injuries."}],
    }
    (root / "questions").mkdir()
    (root / "questions" / "mechanism.yaml").write_text(
        yaml.safe_dump({"topic": "mechanism", "questions": [raw]}), encoding="utf-8")
    bank, problems = load_bank(root)
    assert problems == []
    found = [(p.level, p.file, p.item, p.message) for p in check_bank(bank)]
    file = "question_bank/questions/mechanism.yaml"
    assert ("error", file, "mech-901",
            "negatively worded stem ('not'): ask positively, or if the negative is"
            " essential write it in capitals ('NOT')") in found
    assert ("error", file, "mech-901", "option c uses 'None of the above'") in found
    assert ("warning", file, "mech-901", "option c uses the absolute word 'None',"
                                         " which test-wise candidates rule out") in found


# --- where the keys sit: letters and ordered positions ------------------------------------


@pytest.mark.parametrize(("statistic", "degrees", "p"), [
    (3.841, 1, 0.05), (6.635, 1, 0.01), (5.991, 2, 0.05), (6.0, 2, 0.0498),
    (11.345, 3, 0.01), (7.815, 3, 0.05), (13.277, 4, 0.01), (15.086, 5, 0.01), (0.0, 3, 1.0),
])
def test_chi_square_p_matches_the_tables(statistic, degrees, p):
    """The closed-form survival function agrees with published chi-square tables."""
    assert balance.chi_square_p(statistic, degrees) == pytest.approx(p, abs=2e-4)


def _keyed(number: int, key: int, topic: str = "mechanism", count: int = 4,
           **changes) -> Question:
    """A question of `count` options keyed at position `key` (a = 0)."""
    options = tuple(opt("abcdef"[i], f"Choice {i} for {number}", i == key)
                    for i in range(count))
    return replace(make(qid=f"{topic[:4]}-{number:03d}", options=options), topic=topic,
                   **changes)


def _spread_warnings(bank: Bank):
    return [(p.file, p.item, p.message) for p in check_bank(bank)
            if p.level == "warning" and ("option letters" in p.message
                                         or "key's position" in p.message)]


def test_keys_piled_on_one_letter_are_a_warning_for_the_bank_and_the_topic():
    """Twelve keys all on a: flagged bank-wide and in the topic's file, with the counts."""
    bank = _bank([_keyed(n, 0) for n in range(12)])
    bank.topics = {"mechanism": Topic("mechanism", "Mechanism")}
    bank.origin = {q: "question_bank/questions/mechanism.yaml" for q in bank.questions}
    message = ("the keys of 12 shuffled questions are far from evenly spread over the option"
               " letters (a 12, b 0, c 0, d 0; chance expects 3.0, 3.0, 3.0, 3.0; p < 0.001):"
               " move keys to the letters that have few")
    assert _spread_warnings(bank) == [
        ("question_bank/questions", "", message),
        ("question_bank/questions/mechanism.yaml", "mechanism", message),
    ]


def test_keys_spread_over_the_letters_raise_no_warning():
    assert _spread_warnings(_bank([_keyed(n, n % 4) for n in range(12)])) == []


def test_a_lean_that_chance_explains_is_not_flagged():
    """Six of twelve keys on a (p = 0.07) is within what chance gives."""
    keys = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert _spread_warnings(_bank([_keyed(n, k) for n, k in enumerate(keys)])) == []


def test_nine_questions_are_too_few_to_judge_the_letters():
    assert _spread_warnings(_bank([_keyed(n, 0) for n in range(9)])) == []


def test_ordered_true_false_and_draft_questions_do_not_count_for_letters():
    """Ordered lists keep their written order and true/false is always True then
    False, so neither says anything about letters; drafts are never drawn."""
    questions = [_keyed(n, 0, ordered=True) for n in range(4)]
    questions += [_keyed(n, 0, status="draft") for n in range(4, 8)]
    questions += [replace(_keyed(n, 0, count=2), type="true_false") for n in range(8, 12)]
    questions += [_keyed(n, n % 4) for n in range(12, 24)]
    assert _spread_warnings(_bank(questions)) == []


def test_rare_letters_are_pooled_with_the_letter_before():
    """Letters that chance fills with fewer than two keys (e and f, which only a few
    long questions have) are counted together, so tiny expectations do not decide."""
    questions = [_keyed(n, n % 4) for n in range(12)]
    questions += [_keyed(n, 4, count=6) for n in range(12, 18)]
    spread = balance.letter_spread(questions)
    assert spread.cells == ("a", "b", "c", "d", "e-f")
    assert spread.observed == (3, 3, 3, 3, 6)
    assert spread.expected == pytest.approx((4, 4, 4, 4, 2))
    fewer = balance.letter_spread(questions[:15])
    assert fewer.cells == ("a", "b", "c", "d-f")
    assert fewer.observed == (3, 3, 3, 6)


def test_multiple_response_keys_count_on_each_of_their_letters():
    """A question with keys a and b over four options expects half a key per letter."""
    q = replace(_keyed(1, 0), type="multiple",
                options=tuple(replace(o, correct=o.id in "ab") for o in _keyed(1, 0).options))
    spread = balance.letter_spread([q] * 4)
    assert spread.observed == (4, 4, 0, 0)
    assert spread.expected == pytest.approx((2, 2, 2, 2))


def test_ordered_keys_always_in_the_middle_are_a_warning():
    """Six ordered lists keyed in the middle: the test-wise 'middle number' guess."""
    bank = _bank([_keyed(n, 1 + n % 2, ordered=True) for n in range(6)])
    assert _spread_warnings(bank) == [(
        "question_bank/questions", "",
        "in the 6 ordered option lists the key's position is far from even (first 0,"
        " middle 6, last 0; chance expects 1.5, 3.0, 1.5; p = 0.050): vary where the key sits",
    )]


def test_ordered_keys_at_first_middle_and_last_raise_no_warning():
    keys = [0, 1, 2, 3, 0, 3]
    bank = _bank([_keyed(n, k, ordered=True) for n, k in enumerate(keys)])
    assert _spread_warnings(bank) == []


def test_four_ordered_lists_are_too_few_to_judge():
    bank = _bank([_keyed(n, 1, ordered=True) for n in range(4)])
    assert _spread_warnings(bank) == []


# --- cautious distractors in safety-critical questions -----------------------------------


def _safety(*wrong_texts: str) -> Question:
    stem = "A client on isotretinoin asks to book a session next week. What should be done?"
    options = (opt("a", "Postpone until the acne medicine course is over", True),
               *(opt(letter, text) for letter, text in zip("bcd", wrong_texts, strict=False)))
    return replace(make(stem=stem, options=options), safety_critical=True, risk="medication")


def test_a_safety_question_whose_key_is_the_only_careful_option_is_an_error():
    """'Pick the careful option' must not work: two wrong options sound careful too."""
    one = _safety("Treat as booked at a normal depth", "Go ahead but with more numbing cream",
                  "Wait two days, then treat as booked")
    findings = [f for f in lint_question(one) if "sound cautious" in f[1]]
    assert findings == [("error", "a safety-critical question needs at least 2 wrong options"
                                  " that sound cautious (postpone, check, refer, patch test,"
                                  " ...); it has 1 (d)")]
    two = _safety("Do a patch test first and go ahead if it is clear",
                  "Go ahead but with more numbing cream", "Wait two days, then treat as booked")
    assert not [f for f in lint_question(two) if "sound cautious" in f[1]]
    # An ordinary question is not held to it.
    assert not [f for f in lint_question(replace(one, safety_critical=False, risk=None))
                if "sound cautious" in f[1]]


def test_options_differing_in_their_figures_are_not_duplicates():
    """Numbers count: '15 to 30 minutes' and '45 to 60 minutes' are different answers."""
    q = make(options=(opt("a", "30 to 45 minutes", True), opt("b", "15 to 30 minutes"),
                      opt("c", "45 to 60 minutes"), opt("d", "1.5 to 2 hours")))
    assert not [f for f in lint_question(q) if "say the same thing" in f[1]]
