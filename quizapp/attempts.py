"""Attempts as stored: starting, answering, finishing, reviewing.

This module applies the rules of `quizapp.exam` to database rows. It never reads
the request, the session or the current user: callers pass the user, the time
and the input, and turn the errors raised here into messages and status codes.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from quizapp import certs, exam
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Document,
    Exam,
    Question,
    QuestionVersion,
    User,
)
from quizapp.question_types import QUESTION_TYPES, InvalidResponse


class AttemptError(Exception):
    """A request the attempt's state does not allow; the message is for the trainee."""

    status = 409


class NotAllowed(AttemptError):
    status = 403

    def __init__(self, message: str, opens_at: datetime | None = None):
        super().__init__(message)
        self.opens_at = opens_at


class AttemptClosed(AttemptError):
    pass


class StaleAnswer(AttemptError):
    pass


class BadAnswer(AttemptError):
    status = 400


def exposure_counts(user_id: int) -> dict[str, int]:
    """How many times this trainee has been shown each question, in any attempt."""
    rows = db.session.execute(
        select(QuestionVersion.question_id, func.count())
        .join(AttemptItem, AttemptItem.question_version_id == QuestionVersion.id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.user_id == user_id)
        .group_by(QuestionVersion.question_id)
    )
    return dict(rows.all())


def published_pool(topics) -> list[exam.PoolItem]:
    """The latest version of every published question in the given topics."""
    rows = db.session.execute(
        select(Question, QuestionVersion)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.version == Question.current_version))
        .where(Question.status == "published", Question.topic_id.in_(list(topics)))
        .order_by(Question.id)
    )
    return [
        exam.PoolItem(
            key=version.id,
            question_id=question.id,
            topic=question.topic_id,
            safety_critical=version.content["safety_critical"],
            option_ids=tuple(o["id"] for o in version.content["options"]),
            ordered=version.content.get("ordered", False)
            or version.content["type"] == "true_false",
        )
        for question, version in rows
    ]


def open_attempt(user: User, exam_row: Exam) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.user_id == user.id,
            Attempt.exam_id == exam_row.id,
            Attempt.state == "in_progress",
        )
    )


def eligibility(user: User, exam_row: Exam, now: datetime) -> tuple[bool, datetime | None, str]:
    """Whether this trainee may start a new attempt now, else when and why not."""
    rules = exam_row.rules
    if rules.issues_certificate and certs.valid_certificate(user.id, exam_row.id, now):
        return False, None, "You already hold a valid certificate for this exam."
    finished = db.session.scalars(
        select(Attempt.finished_at).where(
            Attempt.user_id == user.id,
            Attempt.exam_id == exam_row.id,
            Attempt.state == "finished",
        )
    ).all()
    return exam.next_attempt_opens(rules, finished, now)


def start(user: User, exam_row: Exam, now: datetime, seed: int | None = None) -> Attempt:
    """Resume the open attempt, or draw a new form and start one."""
    existing = open_attempt(user, exam_row)
    if existing is not None:
        return existing
    allowed, opens_at, reason = eligibility(user, exam_row, now)
    if not allowed:
        raise NotAllowed(reason, opens_at)
    rules = exam_row.rules
    pool = published_pool(rules.blueprint.topics)
    problems = exam.blueprint_problems(rules, pool, practice_caps=rules.kind == "practice")
    if problems:
        raise NotAllowed("This exam cannot be drawn from the bank right now: " + problems[0])
    seed = secrets.randbits(63) if seed is None else seed
    form = exam.draw_form(rules.blueprint, pool, random.Random(seed), exposure_counts(user.id))
    attempt = Attempt(
        user_id=user.id,
        exam_id=exam_row.id,
        seed=seed,
        rules_snapshot=exam_row.definition,
        started_at=now,
        deadline=exam.deadline_for(now, rules.time_limit),
    )
    attempt.items = [
        AttemptItem(position=n, question_version_id=item.key, option_order=list(item.option_order))
        for n, item in enumerate(form, start=1)
    ]
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request started this exam a moment ago: resume that one.
        db.session.rollback()
        existing = open_attempt(user, exam_row)
        if existing is None:
            raise
        return existing
    return attempt


def close_if_expired(attempt: Attempt, now: datetime, grace: timedelta) -> bool:
    """Finish an attempt whose time ran out; say whether it is (now) finished."""
    if attempt.state == "in_progress" and not exam.accepts_answers(now, attempt.deadline, grace):
        finish(attempt, now)
    return attempt.finished


def item_at(attempt: Attempt, position: int) -> AttemptItem | None:
    if 1 <= position <= len(attempt.items):
        return attempt.items[position - 1]
    return None


def save_answer(
    attempt: Attempt,
    item: AttemptItem,
    selected: list[str],
    sequence: int,
    flagged: bool,
    now: datetime,
    grace: timedelta,
    lock: bool = False,
) -> int:
    """Store one answer; return the item's new sequence number.

    The update only applies if the item still carries the sequence number the
    page was built with, so a stale page cannot overwrite a newer answer. Posting
    the answer already stored is accepted as a harmless repeat.
    """
    if close_if_expired(attempt, now, grace):
        raise AttemptClosed("Time is up: this attempt has been submitted.")
    if attempt.finished:
        raise AttemptClosed("This attempt has already been submitted.")
    if item.locked:
        raise AttemptClosed("This answer was already checked and cannot be changed.")
    content = item.version.content
    try:
        response = QUESTION_TYPES[content["type"]].clean(selected, item.option_order)
    except InvalidResponse as error:
        raise BadAnswer(str(error)) from error
    if lock and not response:
        raise BadAnswer("Choose an answer before checking it.")
    response_list = sorted(response)
    if sequence != item.sequence:
        if sorted(item.response or []) == response_list and item.flagged == flagged and not lock:
            return item.sequence
        raise StaleAnswer(
            "This question was answered more recently in another window or tab. The page"
            " now shows the latest saved answer; check it and save again if needed."
        )
    values = {
        "response": response_list or None,
        "flagged": flagged,
        "sequence": item.sequence + 1,
        "answered_at": now if response_list else None,
    }
    if lock:
        values["locked"] = True
        values["mark"] = QUESTION_TYPES[content["type"]].score(
            response_list, _correct(content), attempt.rules.partial_credit
        )
    changed = db.session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == item.id, AttemptItem.sequence == sequence)
        .values(**values)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise StaleAnswer("This answer changed in another window a moment ago; reload the page.")
    db.session.commit()
    db.session.refresh(item)
    return item.sequence


def _correct(content: dict) -> frozenset[str]:
    return frozenset(o["id"] for o in content["options"] if o["correct"])


def finish(attempt: Attempt, now: datetime) -> Attempt:
    """Grade and close an attempt exactly once.

    The state change is a single conditional update: of two submits racing, one
    changes the row and grades; the other changes nothing and gets that result.
    """
    attempt_id = attempt.id
    finished_at = exam.finish_time(now, attempt.deadline)
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.state == "in_progress")
        .values(state="finished", finished_at=finished_at)
    ).rowcount
    if not claimed:
        db.session.rollback()
        db.session.expire_all()
        return db.session.get(Attempt, attempt_id)
    db.session.expire(attempt)
    rules = attempt.rules
    items = attempt.items
    scored = []
    for item in items:
        content = item.version.content
        scored.append(exam.ScoredItem(
            question_type=content["type"],
            topic=item.version.question.topic_id,
            safety_critical=content["safety_critical"],
            selected=tuple(item.response or ()),
            correct=_correct(content),
        ))
    result = exam.score(scored, rules)
    for item, mark in zip(items, result.marks, strict=True):
        item.mark = mark
    attempt.score_percent = result.percent
    attempt.passed = result.passed
    attempt.fail_reasons = list(result.reasons)
    if result.passed and rules.issues_certificate:
        certs.issue(attempt, finished_at)
    db.session.commit()
    return attempt


def close_expired(now: datetime, grace: timedelta) -> int:
    """Finish every attempt whose deadline and grace have passed; return how many."""
    expired = db.session.scalars(
        select(Attempt).where(Attempt.state == "in_progress", Attempt.deadline.is_not(None))
    ).all()
    closed = 0
    for attempt in expired:
        if not exam.accepts_answers(now, attempt.deadline, grace):
            finish(attempt, now)
            closed += 1
    return closed


# --- Reading an attempt back ------------------------------------------------------


@dataclass(frozen=True)
class ShownOption:
    id: str
    text: str
    selected: bool
    correct: bool | None  # None while the review policy hides it
    rationale: str | None


@dataclass(frozen=True)
class ShownItem:
    position: int
    question_id: str
    version: int
    topic: str
    type: str
    stem: str
    options: tuple[ShownOption, ...]
    answered: bool
    flagged: bool
    mark: float | None
    explanation: str | None
    citations: tuple[str, ...]
    safety_critical: bool


def document_titles() -> dict[str, str]:
    return {d.id: d.title for d in db.session.scalars(select(Document))}


def citation_labels(content: dict, titles: dict[str, str] | None = None) -> tuple[str, ...]:
    """Each source as 'Document title — section' for the trainee."""
    titles = document_titles() if titles is None else titles
    return tuple(
        f"{titles.get(s['document'], s['document'])} — {s['section']}" for s in content["sources"]
    )


def shown_item(
    item: AttemptItem, reveal: bool, explain: bool, titles: dict[str, str] | None = None
) -> ShownItem:
    """An item as a page may show it: correctness and rationale only if revealed."""
    content = item.version.content
    by_id = {o["id"]: o for o in content["options"]}
    chosen = set(item.response or ())
    options = tuple(
        ShownOption(
            id=oid,
            text=by_id[oid]["text"],
            selected=oid in chosen,
            correct=by_id[oid]["correct"] if reveal else None,
            rationale=(by_id[oid].get("rationale") or None) if reveal else None,
        )
        for oid in item.option_order
    )
    return ShownItem(
        position=item.position,
        question_id=item.version.question_id,
        version=item.version.version,
        topic=item.version.question.topic_id,
        type=content["type"],
        stem=content["stem"],
        options=options,
        answered=item.answered,
        flagged=item.flagged,
        mark=item.mark if reveal else None,
        explanation=content["explanation"] if explain else None,
        citations=citation_labels(content, titles) if explain else (),
        safety_critical=content["safety_critical"],
    )


def review_items(attempt: Attempt) -> list[ShownItem]:
    rules = attempt.rules
    reveal = rules.review.shows("correct_answers", attempt.finished, bool(attempt.passed))
    explain = rules.review.shows("explanations", attempt.finished, bool(attempt.passed))
    titles = document_titles()
    return [shown_item(item, reveal, explain, titles) for item in attempt.items]
