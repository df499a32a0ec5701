"""Item-writing rules: the flaws a reviewer of certification questions looks for.

Each rule takes a question and returns (level, message) findings. Errors are
flaws that spoil an item; warnings deserve a second look but may be deliberate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from quizapp.bank.model import Question
from quizapp.bank.wording import ABSOLUTE, CAUTIOUS, STOP_WORDS

ABOVE = re.compile(r"\b(all|none|both|neither) of the (above|options|answers)\b", re.I)
NEGATIVE = re.compile(r"\b(not|except|least|never|incorrect|false)\b", re.I)
WORD = re.compile(r"[a-z][a-z'-]+")


def _lead_in(stem: str) -> str:
    """The sentence that asks the question: the last question after any scenario,
    not an instruction such as "Choose all that apply." that follows it."""
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", stem.strip()) if s]
    questions = [s for s in sentences if s.endswith("?")]
    return (questions or sentences or [stem])[-1]


def _normalise(text: str) -> str:
    # Digits count: "15 to 30 minutes" and "45 to 60 minutes" are different options.
    return " ".join(re.findall(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*", text.lower()))


def all_or_none_of_the_above(q: Question):
    for option in q.options:
        if ABOVE.search(option.text):
            yield "error", f"option {option.id} uses '{ABOVE.search(option.text).group(0)}'"


def negative_stem(q: Question):
    if q.type == "true_false":
        return  # a statement to judge, not a question with a lead-in
    lead_in = _lead_in(q.stem)
    for match in NEGATIVE.finditer(lead_in):
        word = match.group(0)
        if word.isupper():
            yield "warning", f"negative stem ('{word}'): flag for a second look"
        else:
            yield "error", (
                f"negatively worded stem ('{word}'): ask positively, or if the negative is"
                f" essential write it in capitals ('{word.upper()}')"
            )


def absolute_words(q: Question):
    for option in q.options:
        match = ABSOLUTE.search(option.text)
        if match:
            yield "warning", (
                f"option {option.id} uses the absolute word '{match.group(0)}',"
                " which test-wise candidates rule out"
            )


def duplicate_options(q: Question):
    seen: dict[str, str] = {}
    for option in q.options:
        key = _normalise(option.text)
        if key in seen:
            yield "error", f"options {seen[key]} and {option.id} say the same thing"
        seen.setdefault(key, option.id)


def stem_words_only_in_correct(q: Question):
    if q.type != "single":
        return
    stem_words = {w for w in WORD.findall(q.stem.lower()) if len(w) > 4} - STOP_WORDS
    correct = [o for o in q.options if o.correct]
    wrong = [o for o in q.options if not o.correct]
    in_correct = stem_words & set(WORD.findall(correct[0].text.lower()))
    in_wrong = set().union(*(set(WORD.findall(o.text.lower())) for o in wrong))
    clues = sorted(in_correct - in_wrong)
    if clues:
        yield "warning", (
            f"stem word(s) {', '.join(repr(w) for w in clues)} appear again only in the"
            " correct option, a clue to the answer"
        )


CAUTIOUS_DISTRACTORS = 2


def cautious_distractors(q: Question):
    """In a safety-critical single-answer question, "pick the careful option" must not
    work: at least two wrong options sound careful too (a plausible but wrong
    precaution), in the words the guessability check counts as cautious."""
    if q.type != "single" or not q.safety_critical:
        return
    careful = [o.id for o in q.options if not o.correct and CAUTIOUS.search(o.text)]
    if len(careful) < CAUTIOUS_DISTRACTORS:
        yield "error", (
            f"a safety-critical question needs at least {CAUTIOUS_DISTRACTORS} wrong options"
            f" that sound cautious (postpone, check, refer, patch test, ...); it has"
            f" {len(careful)}{' (' + ', '.join(careful) + ')' if careful else ''}"
        )


QUESTION_RULES = (
    all_or_none_of_the_above,
    cautious_distractors,
    negative_stem,
    absolute_words,
    duplicate_options,
    stem_words_only_in_correct,
)


def lint_question(q: Question) -> list[tuple[str, str]]:
    return [finding for rule in QUESTION_RULES for finding in rule(q)]


def longest_correct_bias(questions: Iterable[Question]) -> tuple[int, float, float] | None:
    """Across the bank, how often is the correct option the single longest one?

    Returns (questions counted, observed count, expected count by chance) when the
    observed count is far above chance (more than 3 standard deviations and over
    1.5 times the expectation), else None. True/false items are not counted.
    """
    counted = observed = 0
    expected = variance = 0.0
    for q in questions:
        if q.type != "single":
            continue
        lengths = sorted((len(o.text) for o in q.options), reverse=True)
        if len(lengths) > 1 and lengths[0] == lengths[1]:
            continue  # no single longest option
        counted += 1
        chance = 1 / len(q.options)
        expected += chance
        variance += chance * (1 - chance)
        longest = max(q.options, key=lambda o: len(o.text))
        observed += longest.correct
    if counted < 10:
        return None
    if observed > expected + 3 * math.sqrt(variance) and observed > 1.5 * expected:
        return counted, observed, expected
    return None
