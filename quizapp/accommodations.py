"""Accommodations: extra time and extra attempts for one trainee at one exam, with the
reason, granted by a manager who sees that trainee, and kept in the audit trail.

The server applies them: `attempts.start` puts the extra time into the attempt's
deadline (which is what refuses late answers), and `attempts.eligibility` counts the
extra attempts. A change applies to attempts started after it; an attempt in progress
keeps the deadline it started with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from quizapp import audit
from quizapp.cohorts import visible_trainee_ids
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Accommodation, Exam, User

# Generous bounds that still catch a slip of the keyboard (500% for 50%).
MAX_EXTRA_PERCENT = 200
MAX_EXTRA_MINUTES = 600
MAX_EXTRA_ATTEMPTS = 10
REASON_LIMIT = 2000


class AccommodationError(ServiceError):
    """An accommodation that cannot be granted as asked; the message says why, and
    `field` names the part of the request it is about (a `Grant` field)."""

    status = 400

    def __init__(self, message: str, status: int | None = None, field: str | None = None):
        super().__init__(message, status)
        self.field = field


class NotFound(AccommodationError):
    status = 404


@dataclass(frozen=True)
class Grant:
    """What a manager asks for: extra time as a percentage of the time limit or as
    minutes (not both), extra attempts, and the reason."""

    exam_id: str
    extra_time_percent: int = 0
    extra_minutes: int = 0
    extra_attempts: int = 0
    reason: str = ""


def describe(row: Accommodation | Grant) -> str:
    """"25% extra time, 1 extra attempt", as people read it."""
    parts = []
    if row.extra_time_percent:
        parts.append(f"{row.extra_time_percent}% extra time")
    if row.extra_minutes:
        parts.append(f"{row.extra_minutes} extra minute{'' if row.extra_minutes == 1 else 's'}")
    if row.extra_attempts:
        parts.append(f"{row.extra_attempts} extra attempt"
                     f"{'' if row.extra_attempts == 1 else 's'}")
    return ", ".join(parts) or "nothing extra"


def trainee(viewer: User, user_id: int) -> User:
    """A trainee the viewer sees (an admin sees every trainee).

    :raise NotFound: anyone else, so a manager cannot tell who exists elsewhere."""
    found = db.session.scalar(select(User).where(
        User.id == user_id, User.id.in_(visible_trainee_ids(viewer))))
    if found is None:
        raise NotFound("There is no such trainee among yours.")
    return found


@dataclass(frozen=True)
class Row:
    accommodation: Accommodation
    trainee: User
    exam: Exam
    granted_by: str | None
    what: str


def _rows(*conditions) -> list[Row]:
    granter = aliased(User)
    found = db.session.execute(
        select(Accommodation, User, Exam, granter.name)
        .join(User, User.id == Accommodation.user_id)
        .join(Exam, Exam.id == Accommodation.exam_id)
        .outerjoin(granter, granter.id == Accommodation.granted_by_id)
        .where(*conditions)
        .order_by(User.name, User.id, Exam.position)
    )
    return [Row(a, u, e, by, describe(a)) for a, u, e, by in found]


def current(viewer: User) -> list[Row]:
    """The accommodations of every trainee the viewer sees: one query."""
    return _rows(Accommodation.user_id.in_(visible_trainee_ids(viewer)))


def of_trainee(viewer: User, user_id: int) -> tuple[User, list[Row]]:
    """One trainee's accommodations.

    :raise NotFound: a trainee the viewer does not see."""
    person = trainee(viewer, user_id)
    return person, _rows(Accommodation.user_id == person.id)


def _checked(grant: Grant) -> tuple[Exam, str]:
    exam = db.session.get(Exam, grant.exam_id)
    if exam is None:
        raise AccommodationError(f"There is no exam '{grant.exam_id}'.", field="exam_id")
    for name, limit, what in (
        ("extra_time_percent", MAX_EXTRA_PERCENT, "Extra time in percent"),
        ("extra_minutes", MAX_EXTRA_MINUTES, "Extra minutes"),
        ("extra_attempts", MAX_EXTRA_ATTEMPTS, "Extra attempts"),
    ):
        value = getattr(grant, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
            raise AccommodationError(f"{what} must be a whole number from 0 to {limit}.",
                                     field=name)
    if grant.extra_time_percent and grant.extra_minutes:
        raise AccommodationError("Give extra time as a percentage or as minutes, not both.",
                                 field="extra_minutes")
    if not (grant.extra_time_percent or grant.extra_minutes or grant.extra_attempts):
        raise AccommodationError("Grant extra time or extra attempts (or remove the"
                                 " accommodation).", field="extra_time_percent")
    rules = exam.rules
    if (grant.extra_time_percent or grant.extra_minutes) and rules.time_limit is None:
        raise AccommodationError(f"{exam.title} has no time limit: extra time would change"
                                 " nothing.", field="exam_id")
    if grant.extra_attempts and rules.attempts_allowed is None:
        raise AccommodationError(f"{exam.title} allows any number of attempts: extra"
                                 " attempts would change nothing.", field="extra_attempts")
    reason = " ".join(grant.reason.split())
    if not reason:
        raise AccommodationError("Give the reason for the accommodation.", field="reason")
    if len(reason) > REASON_LIMIT:
        raise AccommodationError(f"Keep the reason under {REASON_LIMIT} characters.",
                                 field="reason")
    return exam, reason


def grant(viewer: User, user_id: int, asked: Grant, now: datetime) -> Accommodation:
    """Grant an accommodation, or change the one this trainee has for this exam. The
    caller commits.

    :raise NotFound: a trainee the viewer does not see. :raise AccommodationError:
    values out of range, no reason, or extra time or attempts the exam cannot use."""
    person = trainee(viewer, user_id)
    exam, reason = _checked(asked)
    row = db.session.scalar(select(Accommodation).where(
        Accommodation.user_id == person.id, Accommodation.exam_id == exam.id))
    kind = "accommodation_changed" if row is not None else "accommodation_granted"
    if row is None:
        row = Accommodation(user_id=person.id, exam_id=exam.id)
        db.session.add(row)
    row.extra_time_percent = asked.extra_time_percent
    row.extra_minutes = asked.extra_minutes
    row.extra_attempts = asked.extra_attempts
    row.reason = reason
    row.granted_by_id = viewer.id
    row.granted_at = now
    what = describe(row)
    audit.record(viewer, audit.subject("user", person.id), kind,
                 f"{exam.title}: {what}. Reason: {reason}",
                 {"exam_id": exam.id, "extra_time_percent": row.extra_time_percent,
                  "extra_minutes": row.extra_minutes, "extra_attempts": row.extra_attempts})
    return row


def remove(viewer: User, user_id: int, exam_id: str) -> Exam:
    """Remove a trainee's accommodation for an exam (attempts already started keep
    their deadline). The caller commits.

    :raise NotFound: a trainee the viewer does not see, or no such accommodation."""
    person = trainee(viewer, user_id)
    found = db.session.execute(
        select(Accommodation, Exam).join(Exam, Exam.id == Accommodation.exam_id)
        .where(Accommodation.user_id == person.id, Accommodation.exam_id == exam_id)
    ).first()
    if found is None:
        raise NotFound("This trainee has no accommodation for that exam.")
    row, exam = found
    audit.record(viewer, audit.subject("user", person.id), "accommodation_removed",
                 f"{exam.title}: the accommodation ({describe(row)}) was removed.",
                 {"exam_id": exam.id})
    db.session.delete(row)
    return exam
