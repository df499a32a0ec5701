"""Attempts as stored: starting, answering, finishing, reviewing.

This module applies the rules of `quizapp.exam` to database rows. It never reads
the request, the session or the current user: callers pass the user, the time
and the input, and turn the errors raised here into messages and status codes.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from quizapp import angoff, certs, exam_rules, study
from quizapp.citations import citation_labels, document_titles
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    Accommodation,
    Attempt,
    AttemptItem,
    AttemptTopicMark,
    Exam,
    Fact,
    Question,
    QuestionVersion,
    User,
)
from quizapp.question_types import QUESTION_TYPES, InvalidResponse


class AttemptError(ServiceError):
    """A request the attempt's state does not allow; the message is for the trainee."""


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


class ExamLocked(AttemptError):
    """Refused while a certification attempt is open: nothing may give feedback on
    (or show the key of) a question that could be on the open form. 409: the request
    is fine; the state of the trainee's exams is what refuses it."""

    status = 409

    def __init__(self, open_attempt: Attempt):
        super().__init__(
            "Your certification exam is in progress. Practice, results and study notes"
            " open again once you submit it."
        )
        self.open_attempt = open_attempt


@dataclass(frozen=True)
class Answer:
    """One answer as a page posts it: option tokens, the page's sequence number, and
    whether the question is flagged for review."""

    tokens: tuple[str, ...]
    sequence: int
    flagged: bool = False


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


@dataclass(frozen=True)
class _DrawFacts:
    """What drawing needs from a question version's content."""

    safety_critical: bool
    option_ids: tuple[str, ...]
    ordered: bool
    risk: str | None
    practice_only: bool
    declared_enemies: tuple[str, ...]


# Per process, by (version id, content hash): a version's content never changes once
# written, so each is decoded once rather than at every start (10,000 questions took
# about a second to decode, twice). The hash keeps two databases apart (tests).
_DRAW_FACTS: dict[tuple[int, str], _DrawFacts] = {}
_DRAW_FACTS_LIMIT = 200_000


def _draw_facts(content: dict) -> _DrawFacts:
    return _DrawFacts(
        safety_critical=content["safety_critical"],
        option_ids=tuple(o["id"] for o in content["options"]),
        ordered=content.get("ordered", False) or QUESTION_TYPES[content["type"]].keeps_order,
        risk=content.get("risk"),
        practice_only=content.get("practice_only", False),
        declared_enemies=tuple(content.get("enemies", ())),
    )


def _published_versions() -> list[tuple[str, str, int, str, _DrawFacts]]:
    """(question id, topic, version id, content hash, draw facts) of the latest version
    of every published question, by question id. Two statements whatever is cached:
    the contents not yet decoded are read in the second (none: it finds nothing)."""
    rows = db.session.execute(
        select(Question.id, Question.topic_id, QuestionVersion.id, QuestionVersion.content_hash)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.version == Question.current_version))
        .where(Question.status == "published")
        .order_by(Question.id)
    ).all()
    # Looked up once into a dict of this call's own: another thread may clear the
    # shared one meanwhile.
    facts = {(version_id, digest): _DRAW_FACTS.get((version_id, digest))
             for _, _, version_id, digest in rows}
    missing = [version_id for (version_id, _), found in facts.items() if found is None]
    if len(_DRAW_FACTS) + len(missing) > _DRAW_FACTS_LIMIT:
        _DRAW_FACTS.clear()
    for version_id, digest, content in db.session.execute(
        select(QuestionVersion.id, QuestionVersion.content_hash, QuestionVersion.content)
        .where(QuestionVersion.id.in_(missing))
    ):
        facts[version_id, digest] = _DRAW_FACTS[version_id, digest] = _draw_facts(content)
    return [(question_id, topic_id, version_id, digest, facts[version_id, digest])
            for question_id, topic_id, version_id, digest in rows]


def _pool_items(published, fact_groups, topics) -> list[exam_rules.PoolItem]:
    declared = {question_id: facts.declared_enemies
                for question_id, _, _, _, facts in published if facts.declared_enemies}
    # Which questions never share a form: those testing one fact, and declared pairs.
    enemy_of = exam_rules.enemy_map(fact_groups, declared)
    topics = set(topics)
    return [
        exam_rules.PoolItem(
            key=version_id,
            question_id=question_id,
            topic=topic_id,
            safety_critical=facts.safety_critical,
            option_ids=facts.option_ids,
            ordered=facts.ordered,
            risk=facts.risk,
            practice_only=facts.practice_only,
            enemies=enemy_of.get(question_id, frozenset()),
        )
        for question_id, topic_id, version_id, _, facts in published
        if topic_id in topics
    ]


def published_pool(topics) -> list[exam_rules.PoolItem]:
    """The latest version of every published question in the given topics."""
    return _pool_items(_published_versions(),
                       db.session.scalars(select(Fact.question_ids)).all(), topics)


# Arranged pools per process, by everything they are made from (which questions and
# versions are published, and the fact groups that make enemies): the same state of
# the bank gives the same pool, and any change to it gives a new key. A few states are
# kept, for the exams drawn at the same time.
_POOLS: OrderedDict[tuple, exam_rules.DrawPool] = OrderedDict()
_POOLS_KEPT = 32  # the certification and a practice quiz per topic, with room to spare
_POOLS_LOCK = threading.Lock()  # the server's threads share the cache


def drawing_pool(rules: exam_rules.ExamRules) -> exam_rules.DrawPool:
    """What `rules` draws from, arranged for drawing (`exam_rules.DrawPool`), made
    once per state of the bank: a start then reads which versions are published
    rather than every question's content."""
    published = _published_versions()
    fact_groups = tuple(tuple(group) for group in
                        db.session.scalars(select(Fact.question_ids)))
    key = (rules.kind, tuple(sorted(rules.blueprint.topics)), fact_groups,
           tuple(row[:4] for row in published))
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is not None:
            _POOLS.move_to_end(key)
            return pool
    # Arranged outside the lock: two threads may both arrange one, and either is right.
    pool = exam_rules.pool_for(rules, _pool_items(published, fact_groups,
                                                  rules.blueprint.topics))
    with _POOLS_LOCK:
        _POOLS[key] = pool
        while len(_POOLS) > _POOLS_KEPT:
            _POOLS.popitem(last=False)
    return pool


def open_attempt(user: User, exam: Exam) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.user_id == user.id,
            Attempt.exam_id == exam.id,
            Attempt.state == "in_progress",
        )
    )


def open_certification(user: User, now: datetime, grace: timedelta) -> Attempt | None:
    """The trainee's certification attempt in progress, if any (closing it first if
    its time has run out)."""
    attempt = db.session.scalar(
        select(Attempt).join(Exam).where(
            Attempt.user_id == user.id,
            Attempt.state == "in_progress",
            Exam.kind == "certification",
        )
    )
    if attempt is not None and close_if_expired(attempt, now, grace):
        return None
    return attempt


def check_exam_lock(user: User, now: datetime, grace: timedelta,
                    allowed: Attempt | None = None) -> None:
    """Refuse anything but the open certification attempt itself while one is open."""
    locked_by = open_certification(user, now, grace)
    if locked_by is not None and (allowed is None or allowed.id != locked_by.id):
        raise ExamLocked(locked_by)


def own_attempt(user: User, attempt_id: int, now: datetime, grace: timedelta) -> Attempt | None:
    """The trainee's own attempt (anyone else's is not found), closed first if its
    time has run out; refused while another, certification, attempt is open."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        return None
    close_if_expired(attempt, now, grace)
    # An open certification attempt is the lock itself (`start` refuses a second one
    # while it is open), so only other attempts need to look for one.
    if not (attempt.state == "in_progress" and attempt.rules.kind == "certification"):
        check_exam_lock(user, now, grace, allowed=attempt)
    return attempt


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    opens_at: datetime | None = None  # None: now, or never when not allowed
    reason: str = ""
    attempts_left: int | None = None  # None: no limit
    remediation: exam_rules.Remediation | None = None
    failed_attempt: Attempt | None = None
    accommodation: Accommodation | None = None  # extra time and attempts granted


def time_allowed(rules: exam_rules.ExamRules,
                 granted: Accommodation | None) -> timedelta | None:
    """The time this trainee gets: the exam's, with an accommodation's extra time."""
    if granted is None:
        return rules.time_limit
    return exam_rules.extended_time_limit(rules.time_limit, granted.extra_time_percent,
                                          granted.extra_minutes)


@dataclass(frozen=True)
class History:
    """A trainee's open attempts, finished attempts (oldest first) and accommodations,
    by exam id, in two queries: what deciding eligibility needs, read once for every
    exam of the dashboard."""

    open: dict[str, Attempt]
    finished: dict[str, list[Attempt]]
    granted: dict[str, Accommodation]

    @classmethod
    def read(cls, user: User) -> History:
        open_, finished = {}, {}
        for attempt in db.session.scalars(
                select(Attempt).where(Attempt.user_id == user.id,
                                      Attempt.state.in_(("in_progress", "finished")))
                .order_by(Attempt.finished_at, Attempt.id)):
            if attempt.state == "in_progress":
                open_[attempt.exam_id] = attempt
            else:
                finished.setdefault(attempt.exam_id, []).append(attempt)
        granted = {a.exam_id: a for a in db.session.scalars(
            select(Accommodation).where(Accommodation.user_id == user.id))}
        return cls(open_, finished, granted)


def eligibility(user: User, exam: Exam, now: datetime,
                history: History | None = None) -> Eligibility:
    """Whether this trainee may start a new attempt now, else when and why not.
    `history`: the trainee's attempts and accommodations, when the caller has read them
    already (the dashboard, once for every exam)."""
    history = history or History.read(user)
    rules = exam.rules
    finished = history.finished.get(exam.id, [])
    if rules.issues_certificate:
        # Attempts count from the last pass: recertifying starts a fresh count.
        finished = certs.since_last_pass(finished)
    granted = history.granted.get(exam.id)
    extra_attempts = granted.extra_attempts if granted else 0
    limit = exam_rules.attempt_limit(rules, extra_attempts)
    left = None if limit is None else max(0, limit - len(finished))
    blocker = certs.renewal_blocker(user.id, exam.id, now) if rules.issues_certificate else None
    if blocker is not None:
        return Eligibility(False, blocker.opens_at, blocker.reason, left, accommodation=granted)
    allowed, opens_at, reason = exam_rules.next_attempt_opens(
        rules, [a.finished_at for a in finished], now, extra_attempts
    )
    last = finished[-1] if finished else None
    remediation = None
    if rules.require_remediation and last is not None and not last.passed and left != 0:
        remediation = study.remediation_for(user, last)
        if allowed and not remediation.done:
            allowed, reason = False, "Finish your study plan before the next attempt."
    return Eligibility(allowed, opens_at, reason, left, remediation,
                       last if last is not None and not last.passed else None, granted)


@dataclass(frozen=True)
class ExamStatus:
    """One exam as a trainee's dashboard shows it."""

    exam: Exam
    rules: exam_rules.ExamRules
    open: Attempt | None
    verdict: Eligibility
    plan: study.StudyPlan | None  # what is left of a failed attempt's study plan

    @property
    def time_limit(self) -> timedelta | None:
        """The time a new attempt would get, extra time included."""
        return time_allowed(self.rules, self.verdict.accommodation)


def exam_status(user: User, exam: Exam, now: datetime, grace: timedelta,
                history: History | None = None) -> ExamStatus:
    """The trainee's open attempt at this exam, whether a new one may start, and the
    study plan left after a fail."""
    history = history or History.read(user)
    current = history.open.get(exam.id)
    if current is not None and close_if_expired(current, now, grace):
        history = History.read(user)  # closing it graded it: it counts among the finished now
        current = None
    verdict = eligibility(user, exam, now, history)
    return ExamStatus(exam, exam.rules, current, verdict,
                      study.plan_view(verdict.remediation))


def dashboard(user: User, now: datetime, grace: timedelta) -> list[ExamStatus]:
    """Every exam in the bank's order, as `exam_status` sees it; the trainee's
    attempts and accommodations are read once for all of them."""
    exams = db.session.scalars(select(Exam).order_by(Exam.position)).all()
    history = History.read(user)
    return [exam_status(user, exam, now, grace, history) for exam in exams]


def _option_tokens(count: int) -> list[str]:
    # Fresh randomness, not the form's seed: the tokens must not be derivable.
    tokens: list[str] = []
    while len(tokens) < count:
        token = secrets.token_hex(4)
        if token not in tokens:
            tokens.append(token)
    return tokens


def form_pass_mark(rules: exam_rules.ExamRules, form: list[exam_rules.FormItem],
                   pool: exam_rules.DrawPool) -> tuple[float, str]:
    """The pass mark a drawn form is held to and how it was set (see
    `exam_rules.form_pass_mark`); the ratings are read, in one grouped query, only
    when the exam uses them."""
    if rules.pass_mark_method != "angoff":
        return exam_rules.form_pass_mark(rules, ())
    ids = [pool.by_key[item.key].question_id for item in form]
    rated = angoff.summaries(ids)
    return exam_rules.form_pass_mark(rules, [rated.get(qid) for qid in ids])


def start(user: User, exam: Exam, now: datetime, grace: timedelta = timedelta(0),
          seed: int | None = None) -> Attempt:
    """Resume the open attempt, or draw a new form and start one."""
    existing = open_attempt(user, exam)
    if existing is not None and not close_if_expired(existing, now, grace):
        check_exam_lock(user, now, grace, allowed=existing)
        return existing
    check_exam_lock(user, now, grace)
    verdict = eligibility(user, exam, now)
    if not verdict.allowed:
        raise NotAllowed(verdict.reason, verdict.opens_at)
    rules = exam.rules
    pool = drawing_pool(rules)
    practice = rules.kind == "practice"
    problems = exam_rules.blueprint_problems(rules, pool, practice_caps=practice)
    seed = secrets.randbits(63) if seed is None else seed
    try:
        if problems:
            raise exam_rules.DrawError(problems[0])
        form = exam_rules.draw_form(rules.blueprint, pool, random.Random(seed),
                              exposure_counts(user.id), fill=not practice)
    except exam_rules.DrawError as error:
        raise NotAllowed(f"This exam cannot be drawn from the bank right now: {error}") from error
    time_limit = time_allowed(rules, verdict.accommodation)
    pass_mark, method = form_pass_mark(rules, form, pool)
    earlier = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.user_id == user.id, Attempt.exam_id == exam.id))
    attempt = Attempt(
        user_id=user.id,
        exam_id=exam.id,
        seed=seed,
        rules_data=exam.rules_data,
        number=earlier + 1,
        exam_version=exam.version,
        pass_mark_percent=pass_mark,
        pass_mark_method=method,
        started_at=now,
        # The deadline is the server's: an accommodation's extra time is in it.
        deadline=exam_rules.deadline_for(now, time_limit),
    )
    db.session.add(attempt)
    try:
        db.session.flush()
        # The items in one executemany, not an INSERT each (nothing reads their ids
        # back); `attempt.items` loads them when next asked for.
        db.session.execute(insert(AttemptItem), [
            {"attempt_id": attempt.id, "position": n, "question_version_id": item.key,
             "option_order": list(item.option_order),
             "option_tokens": _option_tokens(len(item.option_order))}
            for n, item in enumerate(form, start=1)
        ])
        db.session.commit()
    except IntegrityError:
        # Another request started this exam a moment ago: resume that one.
        db.session.rollback()
        existing = open_attempt(user, exam)
        if existing is None:
            raise
        return existing
    return attempt


def close_if_expired(attempt: Attempt, now: datetime, grace: timedelta) -> bool:
    """Finish an attempt whose time ran out; say whether it is (now) finished."""
    if attempt.state == "in_progress" and not exam_rules.accepts_answers(
            now, attempt.deadline, grace):
        finish(attempt, now)
    return attempt.finished


def load_items(attempt: Attempt) -> list[AttemptItem]:
    """The attempt's items in order, in one query, without their question versions:
    a page that lists them (progress, navigation) shows one question at most, whose
    version `item.version` then loads alone."""
    if "items" not in attempt.__dict__:
        set_committed_value(attempt, "items", db.session.scalars(
            select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
            .order_by(AttemptItem.position).options(lazyload(AttemptItem.version))).all())
    return attempt.items


def item_at(attempt: Attempt, position: int) -> AttemptItem | None:
    """One item, with its question version: from the items already loaded, else
    alone (a save touches one item, not the attempt's thirty)."""
    if "items" in attempt.__dict__:
        items = attempt.items
        return items[position - 1] if 1 <= position <= len(items) else None
    return db.session.scalar(select(AttemptItem).where(
        AttemptItem.attempt_id == attempt.id, AttemptItem.position == position))


def item_count(attempt: Attempt) -> int:
    """How many questions the attempt has, without loading them."""
    if "items" in attempt.__dict__:
        return len(attempt.items)
    return db.session.scalar(select(func.count()).select_from(AttemptItem)
                             .where(AttemptItem.attempt_id == attempt.id))


def _in_progress(attempt: Attempt):
    return select(Attempt.id).where(Attempt.id == attempt.id, Attempt.state == "in_progress")


def mark_shown(attempt: Attempt, position: int, now: datetime) -> None:
    """Note that a question's page was shown now: the time until its next save is time
    spent on it. One UPDATE of that item, while the attempt is in progress."""
    db.session.execute(
        update(AttemptItem)
        .where(AttemptItem.attempt_id.in_(_in_progress(attempt)),
               AttemptItem.position == position)
        .values(shown_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _seconds_on(item: AttemptItem, attempt: Attempt, now: datetime) -> float:
    """The time since the question was last shown or saved, never negative and never
    more than the attempt has lasted (nothing before it started counts)."""
    if item.shown_at is None:
        return 0.0
    elapsed = (now - item.shown_at).total_seconds()
    return max(0.0, min(elapsed, (now - attempt.started_at).total_seconds()))


def save_answer(
    attempt: Attempt, position: int, answer: Answer, now: datetime, grace: timedelta,
    check: bool = False,
) -> AttemptItem:
    """Store one answer; return the item with its new sequence number.

    The update applies only while the attempt is still in progress and the item still
    carries the sequence number the page was built with, both checked in the one
    UPDATE: an answer acknowledged here is always in the grade, and a page that is
    stale cannot overwrite a newer answer. Posting the answer already stored is
    accepted as a harmless repeat. `check` (practice only) marks the answer and
    locks it, so the page can show feedback.
    """
    item = item_at(attempt, position)
    if item is None:
        raise LookupError(position)
    if close_if_expired(attempt, now, grace):
        raise AttemptClosed("Time is up: this attempt has been submitted.")
    if attempt.finished:
        raise AttemptClosed("This attempt has already been submitted.")
    rules = attempt.rules
    if check and not rules.immediate_feedback:
        raise BadAnswer("Answers are checked only in practice; this exam shows results"
                        " after you submit.")
    if item.locked:
        raise AttemptClosed("This answer was already checked and cannot be changed.")
    content = item.version.content
    by_token = dict(zip(item.option_tokens, item.option_order, strict=True))
    if any(token not in by_token for token in answer.tokens):
        raise BadAnswer("That answer is not one of this question's options.")
    question_type = QUESTION_TYPES[content["type"]]
    try:
        response = question_type.clean([by_token[t] for t in answer.tokens], item.option_order)
    except InvalidResponse as error:
        raise BadAnswer(str(error)) from error
    if check and not response:
        raise BadAnswer("Choose an answer before checking it.")
    response_list = sorted(response)
    if answer.sequence != item.sequence:
        if (sorted(item.response or []) == response_list and item.flagged == answer.flagged
                and not check):
            return item
        raise StaleAnswer(
            "This question was answered more recently in another window or tab. The page"
            " now shows the latest saved answer; check it and save again if needed."
        )
    values = {
        "response": response_list or None,
        "flagged": answer.flagged,
        "sequence": item.sequence + 1,
        "answered_at": now if response_list else None,
        # From the values loaded with the item: the sequence condition below makes
        # sure no other save added time since (a page shown since may have moved
        # `shown_at`; counting from the earlier showing is the lesser error).
        "seconds_spent": item.seconds_spent + _seconds_on(item, attempt, now),
        "shown_at": now,
    }
    if check:
        values["locked"] = True
        values["mark"] = question_type.score(
            response_list, item.version.correct_ids, rules.partial_credit
        )
    # FOR SHARE (PostgreSQL; SQLite serialises writers anyway): a finish that has
    # claimed the attempt makes this wait, then match nothing; a save holding the lock
    # makes the finish wait until the answer is committed, so grading sees it.
    still_open = _in_progress(attempt).with_for_update(read=True)
    changed = db.session.execute(
        update(AttemptItem)
        .where(AttemptItem.id == item.id, AttemptItem.sequence == answer.sequence,
               AttemptItem.attempt_id.in_(still_open))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        db.session.expire(attempt)
        if attempt.finished:
            raise AttemptClosed("This attempt has already been submitted.")
        raise StaleAnswer("This answer changed in another window a moment ago; reload the page.")
    db.session.commit()
    # The row now holds these values: record them as loaded, not as changes, so no
    # later flush writes them again over a newer save.
    for name, value in values.items():
        set_committed_value(item, name, value)
    return item


def finish(attempt: Attempt, now: datetime) -> Attempt:
    """Grade and close an attempt exactly once.

    The state change is a single conditional update: of two submits racing, one
    changes the row and grades; the other changes nothing and gets that result. The
    items are read after the claim, inside the same transaction, so every answer
    saved before it is graded and none can be saved after it.
    """
    attempt_id = attempt.id
    finished_at = exam_rules.finish_time(now, attempt.deadline)
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.state == "in_progress")
        .values(state="finished", finished_at=finished_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        db.session.expire_all()
        return db.session.get(Attempt, attempt_id)
    db.session.expire(attempt)
    items = db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
        .execution_options(populate_existing=True)
    ).all()
    rules = attempt.rules
    scored = []
    for item in items:
        content = item.version.content
        scored.append(exam_rules.ScoredItem(
            question_type=content["type"],
            topic=item.version.question.topic_id,
            safety_critical=content["safety_critical"],
            selected=tuple(item.response or ()),
            correct=item.version.correct_ids,
        ))
    result = exam_rules.score(scored, rules, attempt.pass_mark)
    for item, mark in zip(items, result.marks, strict=True):
        item.mark = mark
    attempt.score_percent = result.percent
    attempt.passed = result.passed
    attempt.fail_reasons = list(result.reasons)
    record_topic_marks([attempt_id])
    if result.passed and rules.issues_certificate:
        certs.issue(attempt, finished_at)
    db.session.commit()
    return attempt


def record_topic_marks(attempt_ids) -> None:
    """(Re)write the per-topic sums of the given attempts' item marks (a list of ids or
    a SELECT of them), from the marks as they now stand: called wherever marks are
    set, in the same transaction, so the summary never disagrees with the items."""
    db.session.flush()  # the marks just set are what the INSERT reads
    db.session.execute(delete(AttemptTopicMark)
                       .where(AttemptTopicMark.attempt_id.in_(attempt_ids)))
    db.session.execute(insert(AttemptTopicMark).from_select(
        ["attempt_id", "topic_id", "marks", "items"],
        select(AttemptItem.attempt_id, Question.topic_id, func.sum(AttemptItem.mark),
               func.count())
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(AttemptItem.attempt_id.in_(attempt_ids), AttemptItem.mark.is_not(None))
        .group_by(AttemptItem.attempt_id, Question.topic_id)))


def close_expired(now: datetime, grace: timedelta) -> int:
    """Finish every attempt whose deadline and grace have passed; return how many."""
    expired = db.session.scalars(
        select(Attempt).where(Attempt.state == "in_progress", Attempt.deadline.is_not(None))
    ).all()
    closed = 0
    for attempt in expired:
        if not exam_rules.accepts_answers(now, attempt.deadline, grace):
            finish(attempt, now)
            closed += 1
    return closed


# --- Reading an attempt back ------------------------------------------------------


@dataclass(frozen=True)
class ShownOption:
    id: str  # the attempt's token for the option, never the bank's option id
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
    revealed: bool  # whether the key, the marks and the rationales may be shown


def shown_item(
    item: AttemptItem, reveal: bool, explain: bool, titles: dict[str, str] | None = None
) -> ShownItem:
    """An item as a page may show it: correctness and rationale only if revealed."""
    content = item.version.content
    by_id = {o["id"]: o for o in content["options"]}
    chosen = set(item.response or ())
    key = item.key
    options = tuple(
        ShownOption(
            id=token,
            text=by_id[oid]["text"],
            selected=oid in chosen,
            correct=(oid in key) if reveal else None,
            rationale=(by_id[oid].get("rationale") or None) if reveal else None,
        )
        for oid, token in zip(item.option_order, item.option_tokens, strict=True)
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
        revealed=reveal,
    )


def review_items(attempt: Attempt) -> list[ShownItem]:
    """The attempt's questions as its review policy allows them to be shown; none at
    all while the review is closed (a failed certification shows study notes
    instead, never the questions' options or key)."""
    rules = attempt.rules
    reveal = rules.review.shows("correct_answers", attempt.finished, bool(attempt.passed))
    explain = rules.review.shows("explanations", attempt.finished, bool(attempt.passed))
    if not (reveal or explain):
        return []
    titles = document_titles()
    return [shown_item(item, reveal, explain, titles) for item in attempt.items]
