"""The exam rules: definitions and blueprints, drawing a form, time, scoring.

No Flask and no database here: every function takes values (a pool of questions,
a `random.Random`, the current time) and returns values, so each rule can be
tested, reproduced and benchmarked on its own.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from quizapp.question_types import QUESTION_TYPES

REVIEW_MOMENTS = ("after_finish", "after_pass", "never")


class ExamDefinitionError(ValueError):
    """An exam definition that cannot be used as written."""


@dataclass(frozen=True)
class Blueprint:
    topics: Mapping[str, int]
    min_safety_critical: int = 0

    @property
    def size(self) -> int:
        return sum(self.topics.values())


@dataclass(frozen=True)
class ReviewPolicy:
    correct_answers: str = "after_finish"
    explanations: str = "after_finish"

    def shows(self, what: str, finished: bool, passed: bool) -> bool:
        moment = getattr(self, what)
        if not finished or moment == "never":
            return False
        return moment == "after_finish" or passed


@dataclass(frozen=True)
class ExamDefinition:
    id: str
    title: str
    kind: str  # "certification" or "practice"
    blueprint: Blueprint
    description: str = ""
    time_limit: timedelta | None = None
    pass_mark_percent: int = 80
    require_all_safety_critical: bool = False
    partial_credit: bool = False
    attempts_allowed: int | None = None
    retake_wait: timedelta = timedelta(0)
    certificate_validity_months: int | None = None
    review: ReviewPolicy = field(default_factory=ReviewPolicy)

    @property
    def immediate_feedback(self) -> bool:
        return self.kind == "practice"

    @property
    def issues_certificate(self) -> bool:
        return self.kind == "certification"

    def to_dict(self) -> dict:
        """The definition as stored with the exam in the database."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "description": self.description,
            "time_limit_minutes": _minutes(self.time_limit),
            "pass_mark_percent": self.pass_mark_percent,
            "require_all_safety_critical": self.require_all_safety_critical,
            "partial_credit": self.partial_credit,
            "attempts_allowed": self.attempts_allowed,
            "retake_wait_minutes": _minutes(self.retake_wait),
            "certificate_validity_months": self.certificate_validity_months,
            "review": {
                "correct_answers": self.review.correct_answers,
                "explanations": self.review.explanations,
            },
            "blueprint": {
                "min_safety_critical": self.blueprint.min_safety_critical,
                "topics": dict(self.blueprint.topics),
            },
        }


def _minutes(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


def parse_exam(raw: Mapping, topic_ids: Sequence[str], kind: str = "certification"):
    """Build an ExamDefinition from its file form, or raise ExamDefinitionError."""
    if not isinstance(raw, Mapping):
        raise ExamDefinitionError("an exam must be a mapping of settings")
    known = {
        "id", "title", "kind", "description", "time_limit_minutes", "pass_mark_percent",
        "require_all_safety_critical", "partial_credit", "attempts_allowed",
        "retake_wait_minutes", "certificate_validity_months", "review", "blueprint",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ExamDefinitionError(f"unknown setting(s): {', '.join(unknown)}")
    for key in ("id", "title", "blueprint"):
        if key not in raw:
            raise ExamDefinitionError(f"missing '{key}'")
    if raw.get("kind", kind) not in ("certification", "practice"):
        raise ExamDefinitionError("'kind' must be certification or practice")
    blueprint_raw = raw["blueprint"]
    if not isinstance(blueprint_raw, Mapping) or not isinstance(
        blueprint_raw.get("topics"), Mapping
    ):
        raise ExamDefinitionError("'blueprint' needs 'topics': a mapping of topic to count")
    counts = dict(blueprint_raw["topics"])
    for topic, count in counts.items():
        if topic not in topic_ids:
            raise ExamDefinitionError(f"blueprint names unknown topic '{topic}'")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ExamDefinitionError(f"blueprint count for '{topic}' must be a whole number ≥ 1")
    blueprint = Blueprint(counts, _whole(blueprint_raw, "min_safety_critical", 0, low=0))
    review_raw = raw.get("review") or {}
    review = ReviewPolicy(
        correct_answers=review_raw.get("correct_answers", "after_finish"),
        explanations=review_raw.get("explanations", "after_finish"),
    )
    for moment in (review.correct_answers, review.explanations):
        if moment not in REVIEW_MOMENTS:
            raise ExamDefinitionError(
                f"review moment '{moment}' is not one of {', '.join(REVIEW_MOMENTS)}"
            )
    time_limit = raw.get("time_limit_minutes")
    attempts = raw.get("attempts_allowed")
    validity = raw.get("certificate_validity_months")
    return ExamDefinition(
        id=str(raw["id"]),
        title=str(raw["title"]),
        kind=str(raw.get("kind", kind)),
        description=str(raw.get("description", "")).strip(),
        blueprint=blueprint,
        time_limit=None if time_limit is None else timedelta(
            minutes=_whole(raw, "time_limit_minutes", None, low=1)),
        pass_mark_percent=_whole(raw, "pass_mark_percent", 80, low=0, high=100),
        require_all_safety_critical=bool(raw.get("require_all_safety_critical", False)),
        partial_credit=bool(raw.get("partial_credit", False)),
        attempts_allowed=None if attempts is None else _whole(raw, "attempts_allowed", 1, low=1),
        retake_wait=timedelta(minutes=_whole(raw, "retake_wait_minutes", 0, low=0)),
        certificate_validity_months=None if validity is None else _whole(
            raw, "certificate_validity_months", 12, low=1),
        review=review,
    )


def definition_from_dict(stored: Mapping) -> ExamDefinition:
    """Rebuild a definition saved with `ExamDefinition.to_dict` (already checked)."""
    return parse_exam(stored, list(stored["blueprint"]["topics"]))


def _whole(raw: Mapping, key: str, default, low: int, high: int | None = None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (
        high is not None and value > high
    ):
        bounds = f"from {low} to {high}" if high is not None else f"≥ {low}"
        raise ExamDefinitionError(f"'{key}' must be a whole number {bounds}")
    return value


def practice_exams(raw: Mapping, topics: Mapping[str, str]) -> list[ExamDefinition]:
    """One untimed practice exam per topic (`topics` maps id to name)."""
    size = _whole(raw, "questions", 10, low=1)
    pass_mark = _whole(raw, "pass_mark_percent", 80, low=0, high=100)
    return [
        ExamDefinition(
            id=f"practice-{topic_id}",
            title=f"Practice: {name}",
            kind="practice",
            description=f"Practise {name.lower()} with feedback after each question.",
            blueprint=Blueprint({topic_id: size}),
            pass_mark_percent=pass_mark,
            review=ReviewPolicy("after_finish", "after_finish"),
        )
        for topic_id, name in topics.items()
    ]


# --- Drawing a form -----------------------------------------------------------------


@dataclass(frozen=True)
class PoolItem:
    """A published question as the drawing sees it."""

    key: int  # the question version id
    question_id: str
    topic: str
    safety_critical: bool
    option_ids: tuple[str, ...]
    ordered: bool = False


@dataclass(frozen=True)
class FormItem:
    key: int
    option_order: tuple[str, ...]


def blueprint_problems(
    definition: ExamDefinition, pool: Sequence[PoolItem], practice_caps: bool = False
) -> list[str]:
    """Say why the pool cannot fill the blueprint; an empty list means it can.

    A practice exam takes whatever its topic has (`practice_caps`), so only an empty
    topic is a problem there.
    """
    problems = []
    by_topic = Counter(item.topic for item in pool)
    reachable_safety = 0
    for topic, wanted in definition.blueprint.topics.items():
        have = by_topic[topic]
        if have == 0 or (have < wanted and not practice_caps):
            problems.append(
                f"exam '{definition.id}' needs {wanted} question(s) on topic '{topic}'"
                f" but the bank has {have} published"
            )
        safety_here = sum(1 for i in pool if i.topic == topic and i.safety_critical)
        reachable_safety += min(wanted, safety_here)
    if reachable_safety < definition.blueprint.min_safety_critical:
        problems.append(
            f"exam '{definition.id}' needs {definition.blueprint.min_safety_critical}"
            f" safety-critical question(s) but its topics can supply only {reachable_safety}"
        )
    return problems


def draw_form(
    blueprint: Blueprint,
    pool: Sequence[PoolItem],
    rng: random.Random,
    exposure: Mapping[str, int] | None = None,
) -> list[FormItem]:
    """Draw one exam form: the blueprint's count per topic, no question twice.

    Within a topic the questions this trainee has seen least (`exposure` counts by
    question id) come first; ties are broken by `rng`, so the same seed and the
    same pool give the same form. If the draw holds fewer safety-critical
    questions than the blueprint's minimum, the most-seen other questions are
    swapped for unseen safety-critical ones in the same topic.
    """
    exposure = exposure or {}
    chosen: dict[str, list[PoolItem]] = {}
    spare: dict[str, list[PoolItem]] = {}
    for topic in sorted(blueprint.topics):
        candidates = sorted((i for i in pool if i.topic == topic), key=lambda i: i.key)
        rng.shuffle(candidates)
        # A stable sort keeps the shuffled order among equally seen questions.
        candidates.sort(key=lambda i: exposure.get(i.question_id, 0))
        wanted = min(blueprint.topics[topic], len(candidates))
        chosen[topic], spare[topic] = candidates[:wanted], candidates[wanted:]

    missing = blueprint.min_safety_critical - sum(
        i.safety_critical for items in chosen.values() for i in items
    )
    for topic in sorted(chosen):
        if missing <= 0:
            break
        extra_safety = [i for i in spare[topic] if i.safety_critical]
        for position in range(len(chosen[topic]) - 1, -1, -1):
            if missing <= 0 or not extra_safety:
                break
            if not chosen[topic][position].safety_critical:
                chosen[topic][position] = extra_safety.pop(0)
                missing -= 1

    drawn = [item for topic in sorted(chosen) for item in chosen[topic]]
    rng.shuffle(drawn)
    form = []
    for item in drawn:
        order = list(item.option_ids)
        if not item.ordered:
            rng.shuffle(order)
        form.append(FormItem(item.key, tuple(order)))
    return form


# --- Time ---------------------------------------------------------------------------


def deadline_for(started_at: datetime, time_limit: timedelta | None) -> datetime | None:
    return None if time_limit is None else started_at + time_limit


def accepts_answers(now: datetime, deadline: datetime | None, grace: timedelta) -> bool:
    """Answers are taken until the deadline plus a grace for requests in flight."""
    return deadline is None or now <= deadline + grace


def finish_time(now: datetime, deadline: datetime | None) -> datetime:
    """An attempt closed late is recorded as finished at its deadline."""
    return now if deadline is None or now <= deadline else deadline


def next_attempt_opens(
    definition: ExamDefinition, finished_times: Sequence[datetime], now: datetime
) -> tuple[bool, datetime | None, str]:
    """Say whether a new attempt may start now, and if not, when and why.

    Returns (allowed, opens_at, reason); `opens_at` is None when it never opens.
    """
    if definition.attempts_allowed is not None and len(finished_times) >= (
        definition.attempts_allowed
    ):
        return False, None, f"All {definition.attempts_allowed} attempts have been used."
    if finished_times and definition.retake_wait:
        opens_at = max(finished_times) + definition.retake_wait
        if now < opens_at:
            return False, opens_at, "The wait between attempts has not passed yet."
    return True, None, ""


# --- Scoring ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredItem:
    question_type: str
    topic: str
    safety_critical: bool
    selected: tuple[str, ...]
    correct: frozenset[str]


@dataclass(frozen=True)
class Result:
    marks: tuple[float, ...]
    percent: float
    passed: bool
    reasons: tuple[str, ...]
    by_topic: dict[str, tuple[float, int]]  # topic -> (marks earned, questions)


def score(items: Sequence[ScoredItem], definition: ExamDefinition) -> Result:
    """Mark every item and decide pass or fail, with the reasons for a fail."""
    marks = tuple(
        QUESTION_TYPES[i.question_type].score(i.selected, i.correct, definition.partial_credit)
        for i in items
    )
    earned = sum(Fraction(m).limit_denominator(1000) for m in marks)
    total = len(items)
    percent = float(earned * 100 / total) if total else 0.0
    reasons = []
    # Compare exact fractions so 24/30 is exactly 80% and passes an 80% mark.
    if total == 0 or earned * 100 < definition.pass_mark_percent * total:
        reasons.append(
            f"The score of {percent:.0f}% is below the pass mark of"
            f" {definition.pass_mark_percent}%."
        )
    missed_safety = sum(
        1 for item, mark in zip(items, marks, strict=True) if item.safety_critical and mark < 1
    )
    if definition.require_all_safety_critical and missed_safety:
        subject = ("1 safety-critical question was" if missed_safety == 1
                   else f"{missed_safety} safety-critical questions were")
        reasons.append(f"{subject} not answered correctly; every one must be.")
    by_topic: dict[str, tuple[float, int]] = {}
    for item, mark in zip(items, marks, strict=True):
        got, count = by_topic.get(item.topic, (0.0, 0))
        by_topic[item.topic] = (got + mark, count + 1)
    return Result(marks, percent, not reasons, tuple(reasons), by_topic)
