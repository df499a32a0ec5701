"""The exam rules: settings and blueprints, drawing a form, time, scoring, study plans.

No Flask and no database here: every function takes values (a pool of questions,
a `random.Random`, the current time) and returns values, so each rule can be
tested, reproduced and benchmarked on its own.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from functools import lru_cache

from quizapp.question_types import QUESTION_TYPES

REVIEW_MOMENTS = ("after_finish", "after_pass", "never")
# "fixed": every form is held to `pass_mark_percent`. "angoff": each form's pass mark is
# set from its questions' Angoff ratings (`form_pass_mark`), the fixed mark standing in
# while any of them has fewer than `angoff_min_ratings` ratings.
PASS_MARK_METHODS = ("fixed", "angoff")
# The certificate prints the scope under the title, above the dates and the QR code.
SCOPE_LIMIT = 400


class ExamRulesError(ValueError):
    """Exam rules that cannot be used as written."""


@dataclass(frozen=True)
class Blueprint:
    topics: Mapping[str, int]
    min_safety_critical: int = 0
    # Distinct kinds of risk (medication, infection, ...) among the safety-critical
    # questions, so a form cannot pass someone who knows only one kind.
    min_risk_categories: int = 0

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
class ExamRules:
    id: str
    title: str
    kind: str  # "certification" or "practice"
    blueprint: Blueprint
    description: str = ""
    time_limit: timedelta | None = None
    pass_mark_percent: int = 80
    pass_mark_method: str = "fixed"
    angoff_min_ratings: int = 3
    require_all_safety_critical: bool = False
    partial_credit: bool = False
    attempts_allowed: int | None = None
    retake_wait: timedelta = timedelta(0)
    certificate_validity_months: int | None = None
    # What the certificate says its holder is certified to do (printed on it), and
    # how many days before expiry the holder may recertify.
    certificate_scope: str = ""
    recertify_window_days: int = 90
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    # After a failed attempt, the next one waits for study and practice (see
    # `remediation_left`), not only for the clock.
    require_remediation: bool = False

    @property
    def immediate_feedback(self) -> bool:
        return self.kind == "practice"

    @property
    def issues_certificate(self) -> bool:
        return self.kind == "certification"

    def to_dict(self) -> dict:
        """The rules as stored with the exam (and with each attempt) in the database."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "description": self.description,
            "time_limit_minutes": _minutes(self.time_limit),
            "pass_mark_percent": self.pass_mark_percent,
            "pass_mark_method": self.pass_mark_method,
            "angoff_min_ratings": self.angoff_min_ratings,
            "require_all_safety_critical": self.require_all_safety_critical,
            "partial_credit": self.partial_credit,
            "attempts_allowed": self.attempts_allowed,
            "retake_wait_minutes": _minutes(self.retake_wait),
            "certificate_validity_months": self.certificate_validity_months,
            "certificate_scope": self.certificate_scope,
            "recertify_window_days": self.recertify_window_days,
            "require_remediation": self.require_remediation,
            "review": {
                "correct_answers": self.review.correct_answers,
                "explanations": self.review.explanations,
            },
            "blueprint": {
                "min_safety_critical": self.blueprint.min_safety_critical,
                "min_risk_categories": self.blueprint.min_risk_categories,
                "topics": dict(self.blueprint.topics),
            },
        }


def _minutes(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds() // 60)


def parse_exam(raw: Mapping, topic_ids: Sequence[str], kind: str = "certification"):
    """Build an ExamRules from its file form, or raise ExamRulesError."""
    if not isinstance(raw, Mapping):
        raise ExamRulesError("an exam must be a mapping of settings")
    known = {
        "id", "title", "kind", "description", "time_limit_minutes", "pass_mark_percent",
        "require_all_safety_critical", "partial_credit", "attempts_allowed",
        "retake_wait_minutes", "certificate_validity_months", "review", "blueprint",
        "require_remediation", "pass_mark_method", "angoff_min_ratings",
        "certificate_scope", "recertify_window_days",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ExamRulesError(f"unknown setting(s): {', '.join(unknown)}")
    for key in ("id", "title", "blueprint"):
        if key not in raw:
            raise ExamRulesError(f"missing '{key}'")
    if raw.get("kind", kind) not in ("certification", "practice"):
        raise ExamRulesError("'kind' must be certification or practice")
    blueprint_raw = raw["blueprint"]
    if not isinstance(blueprint_raw, Mapping) or not isinstance(
        blueprint_raw.get("topics"), Mapping
    ):
        raise ExamRulesError("'blueprint' needs 'topics': a mapping of topic to count")
    counts = dict(blueprint_raw["topics"])
    for topic, count in counts.items():
        if topic not in topic_ids:
            raise ExamRulesError(f"blueprint names unknown topic '{topic}'")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ExamRulesError(f"blueprint count for '{topic}' must be a whole number ≥ 1")
    unknown = sorted(set(blueprint_raw) - {"topics", "min_safety_critical", "min_risk_categories"})
    if unknown:
        raise ExamRulesError(f"unknown blueprint setting(s): {', '.join(unknown)}")
    blueprint = Blueprint(
        counts,
        _whole(blueprint_raw, "min_safety_critical", 0, low=0),
        _whole(blueprint_raw, "min_risk_categories", 0, low=0),
    )
    review_raw = raw.get("review") or {}
    review = ReviewPolicy(
        correct_answers=review_raw.get("correct_answers", "after_finish"),
        explanations=review_raw.get("explanations", "after_finish"),
    )
    for moment in (review.correct_answers, review.explanations):
        if moment not in REVIEW_MOMENTS:
            raise ExamRulesError(
                f"review moment '{moment}' is not one of {', '.join(REVIEW_MOMENTS)}"
            )
    if raw.get("pass_mark_method", "fixed") not in PASS_MARK_METHODS:
        raise ExamRulesError(f"'pass_mark_method' must be {' or '.join(PASS_MARK_METHODS)}")
    if len(" ".join(str(raw.get("certificate_scope") or "").split())) > SCOPE_LIMIT:
        raise ExamRulesError(f"'certificate_scope' must be at most {SCOPE_LIMIT} characters")
    time_limit = raw.get("time_limit_minutes")
    attempts = raw.get("attempts_allowed")
    validity = raw.get("certificate_validity_months")
    return ExamRules(
        id=str(raw["id"]),
        title=str(raw["title"]),
        kind=str(raw.get("kind", kind)),
        description=str(raw.get("description", "")).strip(),
        blueprint=blueprint,
        time_limit=None if time_limit is None else timedelta(
            minutes=_whole(raw, "time_limit_minutes", None, low=1)),
        pass_mark_percent=_whole(raw, "pass_mark_percent", 80, low=0, high=100),
        pass_mark_method=str(raw.get("pass_mark_method", "fixed")),
        angoff_min_ratings=_whole(raw, "angoff_min_ratings", 3, low=1),
        require_all_safety_critical=bool(raw.get("require_all_safety_critical", False)),
        partial_credit=bool(raw.get("partial_credit", False)),
        attempts_allowed=None if attempts is None else _whole(raw, "attempts_allowed", 1, low=1),
        retake_wait=timedelta(minutes=_whole(raw, "retake_wait_minutes", 0, low=0)),
        certificate_validity_months=None if validity is None else _whole(
            raw, "certificate_validity_months", 12, low=1),
        certificate_scope=" ".join(str(raw.get("certificate_scope") or "").split()),
        recertify_window_days=_whole(raw, "recertify_window_days", 90, low=0),
        review=review,
        require_remediation=bool(raw.get("require_remediation", False)),
    )


def rules_from_dict(stored: Mapping) -> ExamRules:
    """Rebuild rules saved with `ExamRules.to_dict` (already checked).

    Every attempt page reads its attempt's stored rules, and a class's attempts store
    the same few: each distinct text is parsed once per process (the rules are
    frozen, so sharing them is safe)."""
    return _parsed_rules(json.dumps(stored, default=str))


@lru_cache(maxsize=256)
def _parsed_rules(text: str) -> ExamRules:
    stored = json.loads(text)
    return parse_exam(stored, list(stored["blueprint"]["topics"]))


def _whole(raw: Mapping, key: str, default, low: int, high: int | None = None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (
        high is not None and value > high
    ):
        bounds = f"from {low} to {high}" if high is not None else f"≥ {low}"
        raise ExamRulesError(f"'{key}' must be a whole number {bounds}")
    return value


def practice_exams(raw: Mapping, topics: Mapping[str, str]) -> list[ExamRules]:
    """One untimed practice exam per topic (`topics` maps id to name)."""
    size = _whole(raw, "questions", 10, low=1)
    pass_mark = _whole(raw, "pass_mark_percent", 80, low=0, high=100)
    return [
        ExamRules(
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
    risk: str | None = None  # the kind of risk a safety-critical question guards against
    practice_only: bool = False
    enemies: frozenset[str] = frozenset()  # question ids never to share a form with


@dataclass(frozen=True)
class FormItem:
    key: int
    option_order: tuple[str, ...]


class DrawError(ValueError):
    """The pool cannot give a form that meets the blueprint."""


class DrawPool:
    """A pool arranged once for drawing: in key order, by topic, the safety-critical
    questions and their kinds of risk by topic, and by question id.

    Arranging is one pass over the pool; drawing from an arranged pool costs about the
    same for 100 questions or 10,000 (`attempts.drawing_pool` keeps one per state of
    the bank). Iterating it gives the items in key order, so it serves wherever a
    plain sequence of items does.
    """

    def __init__(self, items: Iterable[PoolItem]):
        self.items = tuple(sorted(items, key=lambda i: i.key))
        by_topic: dict[str, list[PoolItem]] = {}
        by_question: dict[str, list[PoolItem]] = {}
        for item in self.items:
            by_topic.setdefault(item.topic, []).append(item)
            by_question.setdefault(item.question_id, []).append(item)
        self.by_topic = {topic: tuple(items) for topic, items in by_topic.items()}
        self.by_question = by_question
        self.by_key = {item.key: item for item in self.items}
        self.safety_by_topic = {
            topic: tuple(i for i in items if i.safety_critical)
            for topic, items in by_topic.items()}
        self.risks_by_topic = {
            topic: frozenset(i.risk for i in items if i.risk)
            for topic, items in self.safety_by_topic.items()}
        self.practice_only = any(item.practice_only for item in self.items)
        self._safety_in: dict[frozenset[str], tuple[PoolItem, ...]] = {}

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def topic(self, topic: str) -> tuple[PoolItem, ...]:
        return self.by_topic.get(topic, ())

    def safety_in(self, topics: Iterable[str]) -> tuple[PoolItem, ...]:
        """The safety-critical questions of these topics, in key order (kept, as every
        draw of one exam asks for the same topics)."""
        wanted = frozenset(topics)
        if wanted not in self._safety_in:
            self._safety_in[wanted] = tuple(sorted(
                (i for topic in wanted for i in self.safety_by_topic.get(topic, ())),
                key=lambda i: i.key))
        return self._safety_in[wanted]


def arranged(pool: Sequence[PoolItem] | DrawPool) -> DrawPool:
    return pool if isinstance(pool, DrawPool) else DrawPool(pool)


def enemy_map(
    fact_groups: Iterable[Iterable[str]], declared: Mapping[str, Iterable[str]]
) -> dict[str, frozenset[str]]:
    """Which questions must never share a form with each question.

    Two questions that test the same fact give each other away, and so do pairs a
    trainer declared enemies; both relations are symmetric.
    """
    enemies: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        if a != b:
            enemies.setdefault(a, set()).add(b)
            enemies.setdefault(b, set()).add(a)

    for group in fact_groups:
        members = list(dict.fromkeys(group))
        for n, a in enumerate(members):
            for b in members[n + 1:]:
                link(a, b)
    for question_id, others in declared.items():
        for other in others:
            link(question_id, other)
    return {qid: frozenset(found) for qid, found in enemies.items()}


def pool_for(rules: ExamRules, pool: Sequence[PoolItem] | DrawPool) -> DrawPool:
    """The part of the pool an exam may draw from: certification never draws the
    practice-only questions (true/false, "which article said ...")."""
    pool = arranged(pool)
    if rules.kind == "certification" and pool.practice_only:
        return DrawPool(item for item in pool if not item.practice_only)
    return pool


def blueprint_problems(
    rules: ExamRules, pool: Sequence[PoolItem] | DrawPool, practice_caps: bool = False
) -> list[str]:
    """Say why the pool cannot fill the blueprint; an empty list means it can.

    A practice exam takes whatever its topic has (`practice_caps`), so only an empty
    topic is a problem there.
    """
    pool = pool_for(rules, pool)
    blueprint = rules.blueprint
    problems = []
    reachable_safety = 0
    reachable_risks: set[str] = set()
    for topic, wanted in blueprint.topics.items():
        have = len(pool.topic(topic))
        if have == 0 or (have < wanted and not practice_caps):
            problems.append(
                f"exam '{rules.id}' needs {wanted} question(s) on topic '{topic}'"
                f" but the bank has {have} published"
            )
        reachable_safety += min(wanted, len(pool.safety_by_topic.get(topic, ())))
        reachable_risks |= pool.risks_by_topic.get(topic, frozenset())
    if reachable_safety < blueprint.min_safety_critical:
        problems.append(
            f"exam '{rules.id}' needs {blueprint.min_safety_critical}"
            f" safety-critical question(s) but its topics can supply only {reachable_safety}"
        )
    if len(reachable_risks) < blueprint.min_risk_categories:
        problems.append(
            f"exam '{rules.id}' needs safety-critical questions of"
            f" {blueprint.min_risk_categories} risk categories but its topics cover only"
            f" {len(reachable_risks)}"
        )
    if not problems and not practice_caps:
        # Enemies can make a blueprint unfillable even when the counts add up.
        try:
            draw_form(blueprint, pool, random.Random(0))
        except DrawError as error:
            problems.append(f"exam '{rules.id}': {error}")
    return problems


DRAW_TRIES = 50


def draw_form(
    blueprint: Blueprint,
    pool: Sequence[PoolItem] | DrawPool,
    rng: random.Random,
    exposure: Mapping[str, int] | None = None,
    fill: bool = True,
) -> list[FormItem]:
    """Draw one exam form: the blueprint's count per topic, no question twice, no
    two enemies, and the safety-critical minimums met.

    The questions this trainee has seen least (`exposure` counts by question id) come
    first; ties are broken by `rng`, so the same seed and the same pool give the same
    form. Safety-critical questions are placed first (one of each kind of risk until
    the category minimum is met, then more until the count is), then each topic is
    filled. A greedy pass can paint itself into a corner through enemies, so it is
    tried again with a new shuffle; `fill=False` (practice) accepts a short form
    instead.
    """
    exposure = exposure or {}
    pool = arranged(pool)
    for _ in range(DRAW_TRIES):
        chosen = _draw_once(blueprint, pool, rng, exposure)
        if not fill or _meets(blueprint, pool, chosen):
            break
    else:
        raise DrawError(
            "no form meets the blueprint without putting enemy questions together;"
            " add questions or remove enemy links"
        )
    drawn = [item for topic in sorted(chosen) for item in chosen[topic]]
    rng.shuffle(drawn)
    form = []
    for item in drawn:
        order = list(item.option_ids)
        if not item.ordered:
            rng.shuffle(order)
        form.append(FormItem(item.key, tuple(order)))
    return form


class _Replayable:
    """A lazy sequence that can be walked again from the start: what it has produced
    so far is kept, and the rest is produced only when asked for."""

    def __init__(self, produce: Iterator[PoolItem]):
        self._produce, self._made = produce, []

    def __iter__(self) -> Iterator[PoolItem]:
        yield from self._made
        for item in self._produce:
            self._made.append(item)
            yield item


def _least_seen_first(items: Sequence[PoolItem], seen: list[PoolItem],
                      rng: random.Random, exposure: Mapping[str, int]) -> Iterator[PoolItem]:
    """`items` (in key order) with those never seen in a random order first, then
    `seen` (the ones among them the trainee has seen) from least to most seen, ties in a
    random order. Lazy: a Fisher-Yates shuffle done one step per item taken, with the
    swaps kept in a dict, so taking a few of 10,000 costs a few steps."""
    swapped: dict[int, int] = {}
    for last in range(len(items) - 1, -1, -1):
        pick = rng.randint(0, last)
        index = swapped.get(pick, pick)
        swapped[pick] = swapped.get(last, last)
        if not exposure.get(items[index].question_id):
            yield items[index]
    seen = sorted(seen, key=lambda i: i.key)
    rng.shuffle(seen)
    # A stable sort keeps the shuffled order among equally seen questions.
    seen.sort(key=lambda i: exposure[i.question_id])
    yield from seen


def _draw_once(
    blueprint: Blueprint, pool: DrawPool, rng: random.Random,
    exposure: Mapping[str, int],
) -> dict[str, list[PoolItem]]:
    topics = sorted(blueprint.topics)
    # What this trainee has seen, found through their history rather than the pool.
    seen = [item for question_id, times in exposure.items() if times
            for item in pool.by_question.get(question_id, ()) if item.topic in blueprint.topics]

    def ordered(items: Sequence[PoolItem], belongs) -> _Replayable:
        return _Replayable(_least_seen_first(items, [i for i in seen if belongs(i)], rng,
                                             exposure))

    candidates = {topic: ordered(pool.topic(topic), lambda i, t=topic: i.topic == t)
                  for topic in topics}
    capacity = {topic: blueprint.topics[topic] for topic in topics}
    chosen: dict[str, list[PoolItem]] = {topic: [] for topic in topics}
    blocked: set[str] = set()

    def place(item: PoolItem) -> bool:
        if len(chosen[item.topic]) >= capacity[item.topic] or item.question_id in blocked:
            return False
        chosen[item.topic].append(item)
        blocked.add(item.question_id)
        blocked.update(item.enemies)
        return True

    safety = ordered(pool.safety_in(topics), lambda i: i.safety_critical)
    risks: set[str] = set()
    for item in safety:
        if len(risks) >= blueprint.min_risk_categories:
            break
        if item.risk is not None and item.risk not in risks and place(item):
            risks.add(item.risk)
    placed_safety = len(risks)
    for item in safety:
        if placed_safety >= blueprint.min_safety_critical:
            break
        if place(item):
            placed_safety += 1
    for topic, items in candidates.items():
        for item in items:
            if len(chosen[topic]) >= capacity[topic]:
                break
            place(item)
    return chosen


def _meets(blueprint: Blueprint, pool: DrawPool, chosen) -> bool:
    available = {topic: len(pool.topic(topic)) for topic in blueprint.topics}
    safety = [i for items in chosen.values() for i in items if i.safety_critical]
    return (
        all(len(chosen[t]) == min(n, available[t]) for t, n in blueprint.topics.items())
        and len(safety) >= blueprint.min_safety_critical
        and len({i.risk for i in safety if i.risk}) >= blueprint.min_risk_categories
    )


# --- Time ---------------------------------------------------------------------------


def deadline_for(started_at: datetime, time_limit: timedelta | None) -> datetime | None:
    return None if time_limit is None else started_at + time_limit


def extended_time_limit(time_limit: timedelta | None, extra_percent: int = 0,
                        extra_minutes: int = 0) -> timedelta | None:
    """The time limit with an accommodation's extra time (an untimed exam stays so)."""
    if time_limit is None:
        return None
    return time_limit * (100 + extra_percent) / 100 + timedelta(minutes=extra_minutes)


def spoken_duration(length: timedelta) -> str:
    """A time limit as the pages say it: "45 minutes", "67 minutes 30 seconds" (50%
    extra on 45 minutes is not 67 minutes; the trainee is told every second they have)."""
    minutes, seconds = divmod(int(length.total_seconds()), 60)
    parts = [f"{count} {unit}{'' if count == 1 else 's'}"
             for count, unit in ((minutes, "minute"), (seconds, "second")) if count]
    return " ".join(parts) or "0 minutes"


def accepts_answers(now: datetime, deadline: datetime | None, grace: timedelta) -> bool:
    """Answers are taken until the deadline plus a grace for requests in flight."""
    return deadline is None or now <= deadline + grace


def finish_time(now: datetime, deadline: datetime | None) -> datetime:
    """An attempt closed late is recorded as finished at its deadline."""
    return now if deadline is None or now <= deadline else deadline


def attempt_limit(rules: ExamRules, extra_attempts: int = 0) -> int | None:
    """How many attempts a trainee may make (None: no limit), with any extra attempts
    an accommodation grants."""
    return None if rules.attempts_allowed is None else rules.attempts_allowed + extra_attempts


def next_attempt_opens(
    rules: ExamRules, finished_times: Sequence[datetime], now: datetime,
    extra_attempts: int = 0,
) -> tuple[bool, datetime | None, str]:
    """Say whether a new attempt may start now, and if not, when and why.

    Returns (allowed, opens_at, reason); `opens_at` is None when it never opens.
    """
    limit = attempt_limit(rules, extra_attempts)
    if limit is not None and len(finished_times) >= limit:
        return False, None, f"All {limit} attempts have been used."
    if finished_times and rules.retake_wait:
        opens_at = max(finished_times) + rules.retake_wait
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


def score(items: Sequence[ScoredItem], rules: ExamRules,
          pass_mark: float | None = None) -> Result:
    """Mark every item and decide pass or fail, with the reasons for a fail.

    `pass_mark` is the mark this form was held to when it was drawn (see
    `form_pass_mark`); None, for attempts older than that record, means the rules' mark.
    """
    if pass_mark is None:
        pass_mark = rules.pass_mark_percent
    marks = tuple(
        QUESTION_TYPES[i.question_type].score(i.selected, i.correct, rules.partial_credit)
        for i in items
    )
    earned = sum(Fraction(m).limit_denominator(1000) for m in marks)
    total = len(items)
    percent = float(earned * 100 / total) if total else 0.0
    reasons = []
    # Compare exact fractions so 24/30 is exactly 80% and passes an 80% mark.
    if total == 0 or earned * 100 < Fraction(pass_mark) * total:
        reasons.append(
            f"The score of {percent:.0f}% is below the pass mark of"
            f" {percent_text(pass_mark)}%."
        )
    missed_safety = sum(
        1 for item, mark in zip(items, marks, strict=True) if item.safety_critical and mark < 1
    )
    if rules.require_all_safety_critical and missed_safety:
        subject = ("1 safety-critical question was" if missed_safety == 1
                   else f"{missed_safety} safety-critical questions were")
        reasons.append(f"{subject} not answered correctly; every one must be.")
    by_topic = topic_breakdown(
        (item.topic, mark) for item, mark in zip(items, marks, strict=True)
    )
    return Result(marks, percent, not reasons, tuple(reasons), by_topic)


def percent_text(value: float) -> str:
    """A pass mark as people read it: 80, or 73.33 for a form's Angoff mark."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def angoff_pass_mark(mean_ratings: Sequence[float]) -> float:
    """The modified Angoff cut of a form, in percent: the sum of its questions' mean
    ratings (each the judged chance, 0 to 1, that a minimally competent practitioner
    answers it correctly) over the number of questions."""
    if not mean_ratings:
        raise ValueError("a form without questions has no Angoff pass mark")
    # Rounded to a hundredth of a percent, so the mark stored, shown and compared is
    # one number and float noise (72.99999...) cannot decide a pass.
    return round(sum(mean_ratings) * 100 / len(mean_ratings), 2)


def form_pass_mark(
    rules: ExamRules, ratings: Sequence[tuple[float, int] | None]
) -> tuple[float, str]:
    """The pass mark a drawn form is held to, and how it was set ("angoff" or "fixed").

    `ratings` has one entry per question on the form: (mean rating, number of
    ratings), or None for a question nobody rated. The Angoff mark is used only when
    every question has at least `angoff_min_ratings`; otherwise the fixed mark.
    """
    if rules.pass_mark_method == "angoff" and ratings and all(
        rated is not None and rated[1] >= rules.angoff_min_ratings for rated in ratings
    ):
        return angoff_pass_mark([rated[0] for rated in ratings]), "angoff"
    return float(rules.pass_mark_percent), "fixed"


def topic_breakdown(marks: Iterable[tuple[str, float]]) -> dict[str, tuple[float, int]]:
    """Marks earned and questions asked per topic, from (topic, mark) pairs."""
    by_topic: dict[str, tuple[float, int]] = {}
    for topic, mark in marks:
        got, count = by_topic.get(topic, (0.0, 0))
        by_topic[topic] = (got + mark, count + 1)
    return by_topic


def weak_topics(by_topic: Mapping[str, tuple[float, int]],
                pass_mark_percent: float) -> list[str]:
    """The topics of an attempt scored below the exam's pass mark."""
    return [topic for topic, (earned, count) in by_topic.items()
            if count and earned * 100 < pass_mark_percent * count]


# --- Remediation --------------------------------------------------------------------


@dataclass(frozen=True)
class Remediation:
    """What a trainee still has to do, after a failed attempt, before the next one."""

    facts_to_study: frozenset[str] = frozenset()
    topics_to_practise: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return not self.facts_to_study and not self.topics_to_practise


def remediation_left(
    missed_safety_facts: Iterable[str],
    weak: Iterable[str],
    studied_facts: Iterable[str],
    practised_topics: Iterable[str],
) -> Remediation:
    """After a fail: open the study note of every fact behind a missed safety-critical
    question, and pass a practice quiz on every topic scored below the pass mark.
    Only what was done after the failed attempt counts (the caller filters by time)."""
    practised = set(practised_topics)
    return Remediation(
        facts_to_study=frozenset(missed_safety_facts) - set(studied_facts),
        topics_to_practise=tuple(t for t in dict.fromkeys(weak) if t not in practised),
    )
