"""The kinds of question: how each takes a response and how it is scored.

Plain Python, no Flask: the views ask a type for its input kind and hand the
trainee's selection to `clean` and `score`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class InvalidResponse(ValueError):
    """A response that the question cannot accept (unknown option, two for one)."""


@dataclass(frozen=True)
class QuestionType:
    name: str
    label: str
    input: str  # "radio" or "checkbox": how the page asks for an answer
    instruction: str
    # The options every question of this type has, in this order (True, False).
    fixed_options: tuple[str, ...] | None = None
    # Guessed right half the time: good for practice, worth little in certification.
    practice_only: bool = False

    @property
    def keeps_order(self) -> bool:
        """Options shown as written, never shuffled (True before False)."""
        return self.fixed_options is not None

    def key_problem(self, correct: int, options: int) -> str | None:
        """Why this many correct options out of `options` cannot make a question of
        this type, or None when they can."""
        if self.input == "radio" and correct != 1:
            return f"a '{self.name}' question needs exactly one correct option"
        if self.input == "checkbox" and not 1 <= correct < options:
            return f"a '{self.name}' question needs at least one correct and one wrong option"
        return None

    def options_problem(self, texts: Iterable[str]) -> str | None:
        if self.fixed_options is not None and tuple(texts) != self.fixed_options:
            quoted = " then ".join(f"'{t}'" for t in self.fixed_options)
            return f"a '{self.name}' question has exactly the options {quoted}"
        return None

    def clean(self, selected: Iterable[str], option_ids: Iterable[str]) -> tuple[str, ...]:
        """Return the selection as a tuple of option ids, or raise InvalidResponse.

        An empty selection is allowed: it clears the answer.
        """
        chosen = list(dict.fromkeys(selected))
        unknown = set(chosen) - set(option_ids)
        if unknown:
            raise InvalidResponse("That answer is not one of this question's options.")
        if self.input == "radio" and len(chosen) > 1:
            raise InvalidResponse("Choose one answer only.")
        return tuple(chosen)

    def score(
        self, selected: Iterable[str], correct: Iterable[str], partial_credit: bool = False
    ) -> float:
        """Return the mark between 0 and 1."""
        chosen, right = set(selected), set(correct)
        if chosen == right:
            return 1.0
        if self.input == "checkbox" and partial_credit and right:
            # Each right pick earns a share, each wrong pick takes one away.
            hits = len(chosen & right)
            misses = len(chosen - right)
            return max(0.0, (hits - misses) / len(right))
        return 0.0


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        QuestionType("single", "Single best answer", "radio", "Choose the one best answer."),
        QuestionType(
            "multiple", "Multiple response", "checkbox", "Choose every answer that applies."
        ),
        QuestionType("true_false", "True or false", "radio", "Choose True or False.",
                     fixed_options=("True", "False"), practice_only=True),
    )
}
