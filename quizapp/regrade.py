"""Regrading finished attempts after a question's key was corrected.

A trainer publishes a version marked as a key correction (`QuestionVersion.key_correction`,
with the reason in `note`). Attempts keep the version they were shown; a regrade
re-marks their item for that question with the corrected key, recomputes the whole
attempt with `exam_rules.score` under the attempt's own rules, issues the certificates
now earned and flags (never revokes) the ones now unearned for a manager's decision.

An item can be regraded only if the version it showed has the corrected version's
options (same ids and texts, same type): the trainee's response is then an answer to
the corrected question too. Anything else is listed as "cannot regrade automatically".

What has been regraded is read from the marks themselves: an attempt is pending while
its item's stored mark differs from the mark under the corrected key. So a regrade
applied twice changes nothing the second time, and an attempt that was still in
progress when the key was corrected (and so graded with the old key when it finished)
shows up as pending afterwards. Earlier regrades of *other* questions on an attempt
are read from its audit trail, so recomputing the whole attempt keeps them.

Like the other services, nothing here reads the request or the current user.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from quizapp import attempts, audit, certs, exam_rules
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    AuditEvent,
    Certificate,
    Question,
    QuestionVersion,
    User,
)
from quizapp.question_types import QUESTION_TYPES

KIND = "regraded"

# What a regrade does to an attempt beyond its score (stored in the audit data).
ISSUE, FLAG, UNFLAG, NO_CHANGE = "issue", "flag", "unflag", "none"
OUTCOMES = {
    ISSUE: "certificate issued",
    FLAG: "flagged for a manager's decision",
    UNFLAG: "decision no longer needed (passes again)",
    NO_CHANGE: "no change",
}


class RegradeError(ServiceError):
    """A request the regrade cannot carry out; the message is for the manager."""


class NotFound(RegradeError):
    status = 404


class BadInput(RegradeError):
    status = 400


class StalePreview(RegradeError):
    """The attempts to regrade are not those the manager was shown."""

    status = 409


# --- Reading what a correction affects ------------------------------------------------


def _options(version: QuestionVersion) -> tuple:
    content = version.content
    return content["type"], sorted((o["id"], o["text"]) for o in content["options"])


def _key(version: QuestionVersion) -> frozenset[str]:
    return frozenset(o["id"] for o in version.content["options"] if o["correct"])


def _relevant_versions(corrected: QuestionVersion) -> tuple[list[int], list[int]]:
    """The ids of the older versions whose attempts may need regrading, split into
    those that can be matched to the corrected options and those that cannot.

    An older version matters if its key differs from the corrected one, or if a key
    correction came between them (its attempts may have been regraded to that key)."""
    older = [v for v in corrected.question.versions if v.version < corrected.version]
    new_key, options = _key(corrected), _options(corrected)
    matched, unmatched = [], []
    for version in older:
        corrected_since = any(v.key_correction and version.version < v.version
                              for v in older)
        if _key(version) == new_key and not corrected_since:
            continue
        (matched if _options(version) == options else unmatched).append(version.id)
    return matched, unmatched


def _shown_items(version_ids: list[int]):
    """(item, the attempt's partial-credit rule) for every finished attempt's item
    showing one of these versions, in one query."""
    if not version_ids:
        return []
    return db.session.execute(
        select(AttemptItem, Attempt.rules_data)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(AttemptItem.question_version_id.in_(version_ids), Attempt.state == "finished")
    ).all()


def _mark(item: AttemptItem, key: frozenset[str], rules_data: dict) -> float:
    question_type = QUESTION_TYPES[item.version.content["type"]]
    return question_type.score(tuple(item.response or ()), key,
                               bool(rules_data.get("partial_credit", False)))


def _pending(corrected: QuestionVersion, rows) -> list[AttemptItem]:
    """The items whose stored mark differs from their mark under the corrected key."""
    key = _key(corrected)
    return [item for item, rules_data in rows if item.mark != _mark(item, key, rules_data)]


def _applied(question_ids) -> dict[tuple[str, int], list[AuditEvent]]:
    """The regrades recorded on these questions, by (question id, corrected version)."""
    subjects = [audit.subject("question", qid) for qid in question_ids]
    if not subjects:
        return {}
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject.in_(subjects), AuditEvent.kind == KIND)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    found: dict[tuple[str, int], list[AuditEvent]] = defaultdict(list)
    for event in events:
        data = event.data or {}
        found[(data.get("question"), data.get("version"))].append(event)
    return found


def correction(question_id: str, version: int) -> QuestionVersion:
    """The key-correcting version; anything else is not found.

    :raise NotFound: no such version, or it corrects no key.
    """
    corrected = db.session.scalar(
        select(QuestionVersion).where(QuestionVersion.question_id == question_id,
                                      QuestionVersion.version == version)
    )
    if corrected is None or not corrected.key_correction:
        raise NotFound(f"Question {question_id} has no key correction in version {version}.")
    return corrected


@dataclass(frozen=True)
class Candidate:
    """A live key correction, for the managers' list."""

    question_id: str
    corrected: QuestionVersion
    applied_at: datetime | None  # when a regrade of it was last applied
    pending: int  # finished attempts it would regrade now
    unmatched: int  # finished attempts it cannot regrade automatically


def candidates() -> list[Candidate]:
    """Live key corrections with attempts still to regrade, or never applied (a
    correction nobody's attempt needed is listed until a manager records that)."""
    corrections = db.session.scalars(
        select(QuestionVersion)
        .join(Question, (Question.id == QuestionVersion.question_id)
              & (Question.current_version == QuestionVersion.version))
        .where(QuestionVersion.key_correction.is_(True))
        .order_by(QuestionVersion.question_id)
    ).all()
    relevant = {c.id: _relevant_versions(c) for c in corrections}
    rows = _shown_items([vid for matched, unmatched in relevant.values()
                         for vid in matched + unmatched])
    by_version = defaultdict(list)
    for item, rules_data in rows:
        by_version[item.question_version_id].append((item, rules_data))
    applied = _applied(c.question_id for c in corrections)
    listed = []
    for corrected in corrections:
        matched, unmatched = relevant[corrected.id]
        pending = _pending(corrected, [r for vid in matched for r in by_version[vid]])
        events = applied.get((corrected.question_id, corrected.version), [])
        if pending or not events:
            listed.append(Candidate(
                corrected.question_id, corrected, events[-1].at if events else None,
                len({item.attempt_id for item in pending}),
                len({item.attempt_id for vid in unmatched for item, _ in by_version[vid]}),
            ))
    return listed


@dataclass(frozen=True)
class Row:
    """One attempt as the regrade would change it."""

    attempt: Attempt
    item: AttemptItem  # the item showing the corrected question
    old_percent: float
    old_passed: bool
    result: exam_rules.Result  # the whole attempt recomputed
    outcome: str  # ISSUE, FLAG, UNFLAG or NO_CHANGE

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]

    @property
    def new_percent(self) -> float:
        return self.result.percent

    @property
    def new_passed(self) -> bool:
        return self.result.passed


@dataclass(frozen=True)
class Preview:
    question: Question
    corrected: QuestionVersion
    rows: list[Row]
    # Finished attempts showing a version whose options differ: (attempt, item).
    unmatched: list[tuple[Attempt, AttemptItem]]
    in_progress: int  # attempts still open on an older version, graded when they finish
    applied: list[AuditEvent] = field(default_factory=list)  # regrades recorded so far

    @property
    def attempt_ids(self) -> list[int]:
        return [row.attempt.id for row in self.rows]

    @property
    def reason(self) -> str:
        return self.corrected.note or ""

    @property
    def old_keys(self) -> list[tuple[QuestionVersion, list[str]]]:
        """Each older version's correct options, as text, where it differs."""
        new_key = _key(self.corrected)
        return [(v, _key_texts(v)) for v in self.question.versions
                if v.version < self.corrected.version and _key(v) != new_key]

    @property
    def new_key(self) -> list[str]:
        return _key_texts(self.corrected)


def _key_texts(version: QuestionVersion) -> list[str]:
    return [o["text"] for o in version.content["options"] if o["correct"]]


def _earlier_regrades(attempt_ids) -> dict[tuple[int, str], frozenset[str]]:
    """The key each attempt's items of other questions are graded with now, where an
    earlier regrade set it: (attempt id, question id) -> key."""
    subjects = [audit.subject("attempt", aid) for aid in attempt_ids]
    if not subjects:
        return {}
    keys = {}
    for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject.in_(subjects), AuditEvent.kind == KIND)
        .order_by(AuditEvent.at, AuditEvent.id)
    ):
        data = event.data or {}
        keys[(int(event.subject.split(":", 1)[1]), data["question"])] = frozenset(data["key"])
    return keys


def _outcome(attempt: Attempt, passed: bool) -> str:
    certificate = attempt.certificate
    if passed and attempt.rules.issues_certificate and certificate is None:
        return ISSUE
    if (not passed and certificate is not None and certificate.revoked_at is None
            and attempt.needs_decision is None):
        return FLAG
    if passed and attempt.needs_decision is not None:
        return UNFLAG
    return NO_CHANGE


def _recompute(attempt: Attempt, question_id: str, new_key: frozenset[str],
               earlier: dict) -> exam_rules.Result:
    scored = []
    for item in attempt.items:
        version = item.version
        if version.question_id == question_id:
            key = new_key
        else:
            key = earlier.get((attempt.id, version.question_id), version.correct_ids)
        scored.append(exam_rules.ScoredItem(
            question_type=version.content["type"],
            topic=version.question.topic_id,
            safety_critical=version.content["safety_critical"],
            selected=tuple(item.response or ()),
            correct=key,
        ))
    return exam_rules.score(scored, attempt.rules, attempt.pass_mark)


def preview(question_id: str, version: int) -> Preview:
    """What regrading with this key correction would do; changes nothing.

    A constant number of queries, whatever the number of attempts.

    :raise NotFound: no such version, or it corrects no key.
    """
    corrected = correction(question_id, version)
    matched, unmatched = _relevant_versions(corrected)
    rows = _shown_items(matched + unmatched)
    pending = {item.attempt_id: item for item in
               _pending(corrected, [r for r in rows if r[0].question_version_id in matched])}
    cannot = {item.attempt_id: item for item, _ in rows
              if item.question_version_id in unmatched}
    loaded = {}
    if pending or cannot:
        loaded = {a.id: a for a in db.session.scalars(
            select(Attempt).where(Attempt.id.in_(sorted(set(pending) | set(cannot))))
            .options(joinedload(Attempt.user), joinedload(Attempt.exam),
                     selectinload(Attempt.certificate), selectinload(Attempt.items))
            .order_by(Attempt.finished_at, Attempt.id)
        )}
    earlier = _earlier_regrades(pending)
    new_key = _key(corrected)
    listed = []
    for attempt in loaded.values():
        if attempt.id not in pending:
            continue
        result = _recompute(attempt, question_id, new_key, earlier)
        listed.append(Row(attempt, pending[attempt.id], attempt.score_percent,
                          bool(attempt.passed), result, _outcome(attempt, result.passed)))
    in_progress = db.session.scalar(
        select(func.count(func.distinct(Attempt.id)))
        .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
        .where(AttemptItem.question_version_id.in_(matched + unmatched),
               Attempt.state == "in_progress")
    ) if matched or unmatched else 0
    return Preview(
        question=corrected.question, corrected=corrected, rows=listed,
        unmatched=[(a, cannot[a.id]) for a in loaded.values() if a.id in cannot],
        in_progress=in_progress,
        applied=_applied([question_id]).get((question_id, version), []),
    )


# --- Applying it ----------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    regraded: int
    issued: int
    flagged: int
    changed: bool  # False: it had been applied already, nothing changed

    def __str__(self) -> str:
        if not self.changed:
            return "This regrade had already been applied; nothing changed."
        if not self.regraded:
            return "Recorded that no finished attempt needed this regrade."
        parts = [f"Regraded {self.regraded} attempt{'s' if self.regraded != 1 else ''}"]
        if self.issued:
            parts.append(f"{self.issued} certificate{'s' if self.issued != 1 else ''} issued")
        if self.flagged:
            parts.append(f"{self.flagged} flagged for your decision")
        return ", ".join(parts) + "."


def _pass_word(passed: bool) -> str:
    return "passed" if passed else "not passed"


def apply(question_id: str, version: int, manager: User, expected_ids, now: datetime) -> Summary:
    """Regrade exactly the attempts the manager's preview listed, in one transaction.

    `expected_ids` are the attempt ids the preview showed (None if the form was not
    readable). If the attempts to regrade are now others, nothing changes.

    :raise NotFound: no such key correction.
    :raise BadInput: no readable list of attempts.
    :raise StalePreview: the attempts to regrade changed since the preview.
    """
    correction(question_id, version)
    if expected_ids is None:
        raise BadInput("The list of attempts to regrade was missing or unreadable;"
                       " open the preview again.")
    # Two managers applying at once take turns (PostgreSQL; SQLite has one writer).
    db.session.scalar(select(Question.id).where(Question.id == question_id).with_for_update())
    shown = preview(question_id, version)
    expected = set(expected_ids)
    if set(shown.attempt_ids) != expected:
        done = {aid for event in shown.applied for aid in (event.data or {}).get("attempts", [])}
        if not shown.rows and shown.applied and expected <= done:
            db.session.rollback()
            return Summary(0, 0, 0, changed=False)
        db.session.rollback()
        raise StalePreview(
            "The attempts to regrade changed since the preview was shown (an attempt"
            " finished or was regraded meanwhile). Nothing was changed: check the new"
            " list and apply again."
        )
    if not shown.rows and shown.applied:
        db.session.rollback()
        return Summary(0, 0, 0, changed=False)
    corrected, reason = shown.corrected, shown.reason
    new_key = sorted(_key(corrected))
    issued, flagged = [], []
    for row in shown.rows:
        attempt, result = row.attempt, row.result
        for item, mark in zip(attempt.items, result.marks, strict=True):
            item.mark = mark
            if item.version.question_id == question_id:
                item.corrected_key = new_key
        attempt.score_percent = result.percent
        attempt.passed = result.passed
        attempt.fail_reasons = list(result.reasons)
        certificate_code = None
        if row.outcome == ISSUE:
            # Dated when the attempt was finished: the certificate is the one the
            # attempt should have earned then, valid for as long as it would have been.
            certificate_code = certs.issue(attempt, attempt.finished_at).code
            issued.append(attempt.id)
        elif row.outcome == FLAG:
            attempt.needs_decision = (
                f"A regrade of question {question_id} (key corrected in version {version})"
                f" turned this pass into a fail at {result.percent:.0f}%:"
                f" {' '.join(result.reasons)} Reason for the correction: {reason}"
            )
            flagged.append(attempt.id)
        elif row.outcome == UNFLAG:
            attempt.needs_decision = None
        audit.record(
            manager, audit.subject("attempt", attempt.id), KIND,
            f"Question {row.item.position} ({question_id}) regraded after its key was"
            f" corrected in version {version}: {row.old_percent:.0f}% → {result.percent:.0f}%,"
            f" {_pass_word(row.old_passed)} → {_pass_word(result.passed)}"
            f" ({OUTCOMES[row.outcome]}).",
            {
                "question": question_id, "position": row.item.position,
                "from_version": row.item.version.version, "to_version": version,
                "key": new_key, "old_score": row.old_percent, "new_score": result.percent,
                "old_passed": row.old_passed, "new_passed": result.passed,
                "outcome": row.outcome, "certificate": certificate_code, "reason": reason,
            },
        )
    attempts.record_topic_marks(shown.attempt_ids)
    audit.record(
        manager, audit.subject("question", question_id), KIND,
        f"Regraded {len(shown.rows)} attempt(s) after the key correction in version"
        f" {version}: {len(issued)} certificate(s) issued, {len(flagged)} flagged.",
        {"question": question_id, "version": version, "attempts": shown.attempt_ids,
         "issued": issued, "flagged": flagged, "reason": reason},
    )
    db.session.commit()
    return Summary(len(shown.rows), len(issued), len(flagged), changed=True)


# --- Decisions on flagged attempts ----------------------------------------------------


def awaiting_decision() -> list[Attempt]:
    """Attempts a regrade turned into a fail while they hold a certificate."""
    return list(db.session.scalars(
        select(Attempt).where(Attempt.needs_decision.is_not(None))
        .options(joinedload(Attempt.user), joinedload(Attempt.exam),
                 selectinload(Attempt.certificate))
        .order_by(Attempt.finished_at, Attempt.id)
    ))


def flagged_attempt(attempt_id: int) -> Attempt:
    """An attempt awaiting a manager's decision.

    :raise NotFound: no such attempt.
    :raise RegradeError: the attempt awaits no decision.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound("There is no such attempt.")
    if attempt.needs_decision is None:
        raise RegradeError("This attempt awaits no decision (it may have been decided"
                           " already).")
    return attempt


def decide(attempt_id: int, manager: User, revoke: bool, reason: str, now: datetime) -> Attempt:
    """Keep or revoke the certificate of an attempt flagged by a regrade.

    :raise NotFound: no such attempt.
    :raise RegradeError: the attempt awaits no decision.
    :raise BadInput: revoking without a reason.
    """
    attempt = flagged_attempt(attempt_id)
    reason = (reason or "").strip()
    certificate: Certificate | None = attempt.certificate
    about = audit.subject("attempt", attempt.id)
    if revoke:
        if not reason:
            raise BadInput("Give the reason for revoking the certificate.")
        audit.record(manager, about, "certificate_revoked",
                     f"Certificate revoked after a regrade: {reason}",
                     {"certificate": certificate.code if certificate else None,
                      "reason": reason, "flag": attempt.needs_decision})
        if certificate is not None and certificate.revoked_at is None:
            # The pass it records is no longer earned: issued in error, as the
            # verification page and the status then say.
            certs.revoke(certificate, manager, "issued_in_error", reason, now)
    else:
        audit.record(manager, about, "certificate_kept",
                     "Certificate kept after a regrade" + (f": {reason}" if reason else "."),
                     {"certificate": certificate.code if certificate else None,
                      "reason": reason, "flag": attempt.needs_decision})
    attempt.needs_decision = None
    db.session.commit()
    return attempt


def notes(attempt: Attempt) -> list[AuditEvent]:
    """The regrades recorded on one attempt, oldest first (for its result page)."""
    return [event for event in audit.trail(audit.subject("attempt", attempt.id))
            if event.kind == KIND]
