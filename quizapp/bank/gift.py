"""Export questions to GIFT, the text format Moodle's question bank imports.

Plain Python, no Flask: `to_gift(questions, topics)` returns the text of one GIFT file.

What a question becomes:

- a `$CATEGORY: microneedling/<topic>` line before the questions of each topic, so
  Moodle files them in one category per topic;
- `::<id>::` as the title, so a Moodle question names the bank question it came from;
- the stem, marked `[plain]`: our texts are plain text, and Moodle's default format
  would read a `<` in a stem as HTML (every other part of a question inherits the
  stem's format, in Moodle and in other GIFT readers alike);
- the options in the author's order (GIFT has no per-question switch for Moodle's
  shuffling; the quiz's setting decides), each with its rationale as feedback
  (`#...`), and the explanation as general feedback (`####...`):
  - single best answer: `=right` and `~wrong`;
  - multiple response: Moodle's weighted form, `~%50%a ~%50%b ~%-100%c`. Each right
    option carries 100/k % of the mark (k right options), written as the grade
    Moodle's own list holds (100, 50, 33.33333, 25, 20, 16.66667, ...), so an import
    with "match grades: error if not listed" accepts it and the right options add up
    to 100 % (Moodle rounds the sum to two places: 3 x 33.33333 counts as 100). Each
    wrong option carries -100 %: a wrong tick costs the whole mark, the nearest a
    standard Moodle multiple-response question comes to the all-or-nothing marking
    of our certification exam (Moodle still gives part of the mark for some of the
    right options and no wrong one; it never goes below zero);
  - true/false: `{TRUE}` or `{FALSE}`, with the rationale of the wrong answer and
    then that of the right one as its two feedbacks, as Moodle writes them.

Escaping follows Moodle's own GIFT exporter and importer
(question/format/gift/format.php): a backslash becomes `\\\\`; `~ = # { } :` are
preceded by a backslash; a line break becomes `\\n` (a blank line would end the
question). A text that starts with `[` or `%` is preceded by `[plain]`, which the
readers take as its format, so that `[html]...` is not read as a format marker or
`%10%...` as an answer's weight. Comment lines (`//`) cannot arise: every text
starts after a title, `=`, `~` or `#`. Two things GIFT has no escape for:
- Moodle reads escapes by turning them into placeholders (`&&058;` for `\\:`, and
  `&&035; &&061; &&123; &&125; &&126; &&092; &&010`) and back, so a text holding one
  of those would come back changed: `to_gift` refuses it (ValueError) rather than
  export it wrongly;
- `->` marks a matching question. Moodle decides the type by `~` first, so it reads
  our questions right whatever their text, but a parser that tries "matching" first
  (gift-pegjs does) fails on a question whose first option is the right one and
  holds `->`. No question in the bank does; there is nothing to escape it with.

The output depends only on the arguments: topics in the order given (then any other
topic in the order it first appears), questions in the order given within a topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from quizapp.bank.files import ID_PATTERN
from quizapp.bank.model import Question

CATEGORY_ROOT = "microneedling"
# Grade of each right option of a multiple-response question with k right options:
# 100/k %, as Moodle lists it (question_bank::fraction_options_full).
RIGHT_WEIGHTS = {
    1: "100", 2: "50", 3: "33.33333", 4: "25", 5: "20",
    6: "16.66667", 7: "14.28571", 8: "12.5", 9: "11.11111", 10: "10",
}
WRONG_WEIGHT = "-100"

_ESCAPES = {
    "\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}", ":": "\\:",
    "\n": "\\n",
}


def escape(text: str) -> str:
    """`text` with GIFT's special characters escaped, on one line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(_ESCAPES.get(char, char) for char in text)


_PLACEHOLDER = re.compile(r"&&(?:058;|035;|061;|123;|125;|126;|092;|010)")


def _checked(text: str, what: str, question: Question) -> str:
    text = text.strip()
    if not text:
        raise ValueError(f"{question.id}: the {what} is empty")
    placeholder = _PLACEHOLDER.search(text)
    if placeholder:
        raise ValueError(
            f"{question.id}: the {what} holds {placeholder.group(0)!r}, which Moodle's GIFT"
            " import reads as a placeholder for another character; reword it"
        )
    return text


def _text(text: str, what: str, question: Question) -> str:
    """One part of a question (option, feedback), escaped and guarded."""
    escaped = escape(_checked(text, what, question))
    if escaped.startswith(("[", "%")):
        escaped = "[plain]" + escaped
    return escaped


def _feedback(text: str, what: str, question: Question) -> str:
    return "#" + _text(text, what, question) if text.strip() else ""


def _general_feedback(question: Question) -> str:
    if not question.explanation.strip():
        return ""
    return "####" + _text(question.explanation, "explanation", question)


def _choices(question: Question) -> list[str]:
    right = [o for o in question.options if o.correct]
    if question.type == "single":
        if len(right) != 1:
            raise ValueError(f"{question.id}: a single-answer question needs one right option")
        marks = {o.id: "=" if o.correct else "~" for o in question.options}
    else:
        weight = RIGHT_WEIGHTS.get(len(right))
        if weight is None or len(right) == len(question.options):
            raise ValueError(
                f"{question.id}: a multiple-response question needs 1 to"
                f" {max(RIGHT_WEIGHTS)} right options and at least one wrong one"
            )
        marks = {
            o.id: f"~%{weight if o.correct else WRONG_WEIGHT}%" for o in question.options
        }
    return [
        marks[o.id] + _text(o.text, f"text of option {o.id}", question)
        + _feedback(o.rationale, f"rationale of option {o.id}", question)
        for o in question.options
    ]


def _true_false(question: Question) -> str:
    texts = [o.text for o in question.options]
    right = [o for o in question.options if o.correct]
    if texts != ["True", "False"] or len(right) != 1:
        raise ValueError(
            f"{question.id}: a true/false question has the options True and False, one right"
        )
    wrong = next(o for o in question.options if not o.correct)
    answer = "TRUE" if right[0].text == "True" else "FALSE"
    wrong_feedback = _feedback(wrong.rationale, "rationale of the wrong answer", question)
    right_feedback = _feedback(right[0].rationale, "rationale of the right answer", question)
    if right_feedback and not wrong_feedback:
        wrong_feedback = "#"  # the first feedback is for a wrong answer, the second for a right one
    return "{" + answer + wrong_feedback + right_feedback + _general_feedback(question) + "}"


def question_to_gift(question: Question) -> str:
    """One question as a GIFT block (without the blank line that ends it)."""
    stem = _checked(question.stem, "stem", question)
    head = f"::{escape(question.id)}::[plain]{escape(stem)}"
    if question.type == "true_false":
        return f"{head} {_true_false(question)}"
    if question.type not in ("single", "multiple"):
        raise ValueError(f"{question.id}: GIFT export knows no question type {question.type!r}")
    lines = [f"{head} {{", *(f"\t{choice}" for choice in _choices(question))]
    general = _general_feedback(question)
    if general:
        lines.append(f"\t{general}")
    lines.append("}")
    return "\n".join(lines)


def category_line(topic: str) -> str:
    if not ID_PATTERN.match(topic):
        raise ValueError(f"topic {topic!r} is not an id, so it cannot name a Moodle category")
    return f"$CATEGORY: {CATEGORY_ROOT}/{topic}"


def to_gift(questions: Iterable[Question], topics: Iterable[str] | None = None) -> str:
    """The questions as one GIFT file, a `$CATEGORY` per topic.

    `topics` (topic ids, or `Bank.topics`) sets the order of the categories; topics it
    does not name follow in the order they first appear.
    """
    by_topic: dict[str, list[Question]] = {topic: [] for topic in topics or ()}
    for question in questions:
        by_topic.setdefault(question.topic, []).append(question)
    blocks = []
    for topic, items in by_topic.items():
        if not items:
            continue
        blocks.append(category_line(topic))
        blocks += [question_to_gift(q) for q in items]
    return "\n\n".join(blocks) + "\n" if blocks else ""
