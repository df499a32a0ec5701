"""The GIFT export (`quizapp.bank.gift`): escaping, weights, layout, and the whole
shipped bank read back by an independent parser.

The independent parser is gift-pegjs (npm, pinned in tests/gift/package.json) run
under Node by tests/gift/parse.js; `make test` installs it with `npm ci`. Without
Node or tests/gift/node_modules those tests are skipped with the reason, except in
CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from quizapp.bank import load_bank
from quizapp.bank.gift import (
    RIGHT_WEIGHTS,
    WRONG_WEIGHT,
    escape,
    question_to_gift,
    to_gift,
)
from quizapp.bank.model import Citation, Option, Question

ROOT = Path(__file__).resolve().parent.parent
GIFT_DIR = ROOT / "tests" / "gift"
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
# Moodle's grades (question_bank::fraction_options_full), as percentages.
MOODLE_GRADES = {
    100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
    14.28571, 12.5, 11.11111, 10, 5,
}


@pytest.fixture(scope="module")
def bank():
    bank, problems = load_bank(ROOT / "question_bank")
    assert not problems
    return bank


def moodle_unescape(text: str) -> str:
    """Moodle's reading of escapes (qformat_gift::escapedchar_pre, then _post)."""
    text = text.replace("\\\\", "&&092;")
    for char, holder in ((":", "&&058;"), ("#", "&&035;"), ("=", "&&061;"),
                         ("{", "&&123;"), ("}", "&&125;"), ("~", "&&126;"), ("n", "&&010")):
        text = text.replace("\\" + char, holder)
    text = text.replace("&&092;", "\\")
    for char, holder in ((":", "&&058;"), ("#", "&&035;"), ("=", "&&061;"),
                         ("{", "&&123;"), ("}", "&&125;"), ("~", "&&126;"), ("\n", "&&010")):
        text = text.replace(holder, char)
    return text


def make_question(**changes) -> Question:
    fields = dict(
        id="test-001", topic="mechanism", type="single",
        stem="Which one is right?",
        options=(
            Option("a", "Right", True),
            Option("b", "Wrong", False, "Because it is wrong."),
            Option("c", "Also wrong", False, "Also because."),
        ),
        explanation="The explanation.", difficulty="easy", safety_critical=False,
        sources=(Citation("doc-001", "Intro", "A fact."),),
    )
    fields.update(changes)
    return Question(**fields)


NASTY = [
    "a ~ b = c # d { e } f : g",
    "back\\slash and a trailing backslash \\",
    "\\n is not a newline, \\\\ is two backslashes",
    "::not a title:: and ~%50% not a weight",
    "line one\nline two\r\nline three\rline four",
    "#### not general feedback",
    "// not a comment",
    "$CATEGORY: not a category",
    "{TRUE}",
    "=%100%",
    "a -> b",
    "Ünïcödé — “quotes” 😀 עברית",
]


# --- Escaping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("~", "\\~"), ("=", "\\="), ("#", "\\#"), ("{", "\\{"), ("}", "\\}"), (":", "\\:"),
        ("\\", "\\\\"), ("\n", "\\n"), ("\r\n", "\\n"), ("\r", "\\n"),
        ("plain words, (brackets) [too] 50% & <b>", "plain words, (brackets) [too] 50% & <b>"),
        ("\\:", "\\\\\\:"),
        ("C:\\new", "C\\:\\\\new"),
    ],
)
def test_escape_each_special_character(text, escaped):
    assert escape(text) == escaped


@pytest.mark.parametrize("text", NASTY)
def test_escape_reads_back_through_moodles_rules(text):
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    escaped = escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert moodle_unescape(escaped) == expected


def test_escaped_text_has_no_unescaped_special_character():
    escaped = escape("".join(NASTY))
    unescaped = re.sub(r"\\[\\~=#{}:n]", "", escaped)
    assert not set(unescaped) & set("~=#{}:\\\n")


def test_a_text_moodle_would_read_as_its_placeholder_is_refused():
    # Moodle reads "\\:" as "&&058;" and that back as ":", so "&&058;" cannot be kept.
    with pytest.raises(ValueError, match="placeholder"):
        question_to_gift(make_question(stem="Is &&058; a colon?"))
    with pytest.raises(ValueError, match="rationale of option b"):
        question_to_gift(make_question(options=(
            Option("a", "x", True), Option("b", "y", False, "line&&010break"),
        )))


def test_text_starting_with_a_format_or_weight_is_marked_plain():
    question = make_question(options=(
        Option("a", "[html]<b>bold</b>", True, "[markdown] *not* markdown"),
        Option("b", "%10% of clients", False, "%-100% not a weight"),
    ))
    block = question_to_gift(question)
    assert "\t=[plain][html]<b>bold</b>#[plain][markdown] *not* markdown\n" in block
    assert "\t~[plain]%10% of clients#[plain]%-100% not a weight\n" in block


# --- Weights and layout -------------------------------------------------------------


@pytest.mark.parametrize("right", range(1, 7))
def test_right_weights_are_moodle_grades_that_sum_to_100(right):
    weight = float(RIGHT_WEIGHTS[right])
    assert weight in MOODLE_GRADES
    # Moodle's multichoice check: the positive grades, rounded to 2 places, make 100%.
    assert round(right * weight / 100, 2) == 1
    assert -float(WRONG_WEIGHT) in MOODLE_GRADES


def test_single_answer_layout():
    block = question_to_gift(make_question())
    assert block == (
        "::test-001::[plain]Which one is right? {\n"
        "\t=Right\n"
        "\t~Wrong#Because it is wrong.\n"
        "\t~Also wrong#Also because.\n"
        "\t####The explanation.\n"
        "}"
    )


def test_multiple_response_weights():
    question = make_question(type="multiple", options=(
        Option("a", "One", True, "Yes: one."),
        Option("b", "Two", False, "No: two."),
        Option("c", "Three", True),
        Option("d", "Four", True),
        Option("e", "Five", False, "No: five."),
    ))
    block = question_to_gift(question)
    assert "=" not in block.replace("\\=", "")  # no "=": Moodle makes it multiple-answer
    assert re.findall(r"\t~%(-?[\d.]+)%", block) == [
        "33.33333", "-100", "33.33333", "33.33333", "-100",
    ]
    assert "\t~%33.33333%One#Yes\\: one.\n" in block


@pytest.mark.parametrize(("answer", "right"), [("True", "TRUE"), ("False", "FALSE")])
def test_true_false_layout(answer, right):
    def options(right_rationale: str, wrong_rationale: str) -> tuple[Option, ...]:
        return tuple(
            Option(letter, text, text == answer,
                   right_rationale if text == answer else wrong_rationale)
            for letter, text in (("a", "True"), ("b", "False"))
        )

    # Moodle's order: the feedback for a wrong answer, then the one for a right answer.
    wrong_only = make_question(type="true_false", options=options("", "Wrong, it is so."))
    assert question_to_gift(wrong_only) == (
        f"::test-001::[plain]Which one is right? {{{right}#Wrong, it is so."
        "####The explanation.}"
    )
    both = make_question(type="true_false", options=options("Right.", "Wrong."))
    assert question_to_gift(both).endswith(f"{{{right}#Wrong.#Right.####The explanation.}}")
    right_only = make_question(type="true_false", explanation="", options=options("Right.", ""))
    assert question_to_gift(right_only).endswith(f"{{{right}##Right.}}")


def test_categories_follow_the_topics_order_and_output_is_deterministic():
    questions = [
        make_question(id="dev-001", topic="devices"),
        make_question(id="mech-001", topic="mechanism"),
        make_question(id="dev-002", topic="devices"),
        make_question(id="care-001", topic="aftercare"),
    ]
    text = to_gift(questions, topics=["mechanism", "devices", "sessions"])
    headings = re.findall(r"^\$CATEGORY: (.*)$|^::([^:]+)::", text, re.M)
    assert [a or b for a, b in headings] == [
        "microneedling/mechanism", "mech-001",
        "microneedling/devices", "dev-001", "dev-002",
        "microneedling/aftercare", "care-001",
    ]
    assert to_gift(questions, topics=["mechanism", "devices", "sessions"]) == text
    assert "\n\n\n" not in text and text.endswith("}\n")
    assert to_gift([]) == ""


def test_a_topic_that_is_not_an_id_is_refused():
    with pytest.raises(ValueError, match="not an id"):
        to_gift([make_question(topic="a/b")])


def test_an_option_set_moodle_cannot_take_is_refused():
    with pytest.raises(ValueError, match="one right option"):
        question_to_gift(make_question(options=(
            Option("a", "x", True), Option("b", "y", True),
        )))


# --- The independent parser -----------------------------------------------------------


def parse_with_gift_pegjs(text: str) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed, so the GIFT export cannot be parsed by gift-pegjs"
    elif not (GIFT_DIR / "node_modules" / "gift-pegjs").is_dir():
        reason = ("tests/gift/node_modules is missing: `make test` installs it"
                  " (npm ci --prefix tests/gift)")
    else:
        reason = ""
    if reason:
        if IN_CI:
            pytest.fail(f"{reason}; CI must run this check")
        pytest.skip(reason)
    result = subprocess.run(
        [node, str(GIFT_DIR / "parse.js")], input=text.encode("utf-8"),
        capture_output=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return json.loads(result.stdout.decode("utf-8"))


def parsed_answer(item: dict):
    """The key as the parser read it: the right choice, the positively weighted
    choices, or the boolean."""
    if item["type"] == "TF":
        return item["isTrue"]
    if all(choice["weight"] is not None for choice in item["choices"]):
        return [i for i, choice in enumerate(item["choices"]) if choice["weight"] > 0]
    return [i for i, choice in enumerate(item["choices"]) if choice["isCorrect"]]


def our_answer(question: Question):
    if question.type == "true_false":
        return next(o.text for o in question.options if o.correct) == "True"
    return [i for i, option in enumerate(question.options) if option.correct]


def text_of(part) -> str:
    return part["text"] if part else ""


def assert_read_back(question: Question, item: dict) -> None:
    assert item["title"] == question.id
    assert item["stem"] == {"format": "plain", "text": question.stem.strip()}
    assert text_of(item["globalFeedback"]) == question.explanation.strip()
    assert parsed_answer(item) == our_answer(question)
    if question.type == "true_false":
        return
    assert item["type"] == "MC"
    assert [text_of(c["text"]) for c in item["choices"]] == [o.text for o in question.options]
    assert [text_of(c["feedback"]) for c in item["choices"]] == [
        o.rationale for o in question.options
    ]
    if question.type == "multiple":
        right = len(question.correct_ids)
        assert [c["weight"] for c in item["choices"]] == [
            float(RIGHT_WEIGHTS[right]) if o.correct else float(WRONG_WEIGHT)
            for o in question.options
        ]
        assert not any(c["isCorrect"] for c in item["choices"])
    else:
        assert [c["weight"] for c in item["choices"]] == [None] * len(question.options)


def test_whole_shipped_bank_parses_in_gift_pegjs(bank):
    questions = list(bank.questions.values())
    parsed = parse_with_gift_pegjs(to_gift(questions, bank.topics))

    categories = [item["title"] for item in parsed if item["type"] == "Category"]
    items = [item for item in parsed if item["type"] != "Category"]
    assert categories == [
        f"microneedling/{topic}" for topic in bank.topics
        if any(q.topic == topic for q in questions)
    ]
    assert len(items) == len(questions) == 138
    ordered = [q for topic in bank.topics for q in questions if q.topic == topic]
    assert [item["title"] for item in items] == [q.id for q in ordered]
    assert [item["type"] for item in items] == [
        "TF" if q.type == "true_false" else "MC" for q in ordered
    ]
    assert [parsed_answer(item) for item in items] == [our_answer(q) for q in ordered]
    for question, item in zip(ordered, items, strict=True):
        assert_read_back(question, item)


def test_special_characters_survive_gift_pegjs():
    questions = []
    for number, text in enumerate(NASTY, start=1):
        one_line = text.replace("\r\n", "\n").replace("\r", "\n")
        questions.append(make_question(
            id=f"nasty-{number:03d}", stem=f"Stem: {one_line}",
            explanation=f"Explanation {{ {one_line} }}",
            # The right option is not first: gift-pegjs reads a first "=" option that
            # holds "->" as a matching question (see quizapp/bank/gift.py).
            options=(
                Option("a", one_line, False, one_line),
                Option("b", f"{one_line} (right)", True, f"[right] {one_line}"),
                Option("c", "%5% plain", False, "#3"),
            ),
        ))
    questions.append(make_question(
        id="nasty-multi", type="multiple",
        options=tuple(
            Option(letter, f"{letter}: {NASTY[i]}".replace("\r", ""), i % 2 == 0, f"fb \\ {i}")
            for i, letter in enumerate("abcdef")
        ),
    ))
    for answer in ("True", "False"):
        questions.append(make_question(
            id=f"nasty-tf-{answer.lower()}", type="true_false", stem="{T} :: ~ = #",
            options=(Option("a", "True", answer == "True", "# = ~"),
                     Option("b", "False", answer == "False", "} {")),
        ))
    items = parse_with_gift_pegjs(to_gift(questions))
    assert [item["type"] for item in items] == ["Category"] + [
        "TF" if q.type == "true_false" else "MC" for q in questions
    ]
    for question, item in zip(questions, items[1:], strict=True):
        assert_read_back(question, item)
    for question, item in zip(questions[-2:], items[-2:], strict=True):
        right = next(o for o in question.options if o.correct)
        wrong = next(o for o in question.options if not o.correct)
        # gift-pegjs calls them trueFeedback and falseFeedback; Moodle: wrong, then right.
        assert [text_of(item["trueFeedback"]), text_of(item["falseFeedback"])] == [
            wrong.rationale, right.rationale,
        ]
