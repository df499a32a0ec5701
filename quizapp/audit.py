"""The audit trail: who changed what, when. One table for questions, attempts, people
and certificates; `subject` names the thing ("question:mech-001", "attempt:12").
Append-only: `record` adds an event, and the session refuses to change or delete one
(`AppendOnly`), so nothing in the app can edit the trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event as orm_events
from sqlalchemy import func, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, joinedload

from quizapp.extensions import db
from quizapp.models import AuditEvent, User, utcnow
from quizapp.paging import pages_of

PAGE_SIZE = 50


def subject(kind: str, key) -> str:
    return f"{kind}:{key}"


class AppendOnly(RuntimeError):
    """Something tried to change or delete an event of the trail."""


@orm_events.listens_for(Session, "before_flush")
def _no_edits(session: Session, _context, _instances) -> None:
    """The trail is append-only: a changed or deleted event is never written."""
    for event in session.deleted:
        if isinstance(event, AuditEvent):
            raise AppendOnly("Audit events cannot be deleted.")
    for event in session.dirty:
        if isinstance(event, AuditEvent) and session.is_modified(event):
            raise AppendOnly("Audit events cannot be changed.")


@orm_events.listens_for(Session, "do_orm_execute")
def _no_bulk_edits(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEvent:
        raise AppendOnly("Audit events cannot be changed or deleted.")


def record(actor: User | None, about: str, kind: str, message: str = "",
           data: dict | None = None) -> AuditEvent:
    """Add one event to the trail (the caller commits, with the change it records)."""
    event = AuditEvent(at=utcnow(), actor_id=actor.id if actor else None, subject=about,
                       kind=kind, message=message, data=data)
    db.session.add(event)
    return event


def trail(about: str) -> list[AuditEvent]:
    """Everything recorded about one subject, oldest first."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject == about).order_by(AuditEvent.at,
                                                                        AuditEvent.id)
    ))


# --- Reading the trail (the admin's audit page; nothing here writes) -------------------


@dataclass(frozen=True)
class TrailQuery:
    """What the admin filters on: `kind` exactly; `actor` within the name or email of who
    did it ("nobody" for events without one: the system, a failed sign-in); `subject`
    exactly ("user:12"), or every subject of a kind when it ends with ":" ("attempt:");
    days from `since` to `until`, both included (UTC)."""

    kind: str = ""
    actor: str = ""
    subject: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class TrailPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    kinds: list[str]


def _day(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def search(query: TrailQuery, page: int = 1) -> TrailPage:
    """One page (`PAGE_SIZE`) of the events the query matches, newest first, and every
    kind in the trail (for the filter). Three queries however long the trail: kinds,
    count, page (with who did each)."""
    statement = select(AuditEvent)
    if query.kind:
        statement = statement.where(AuditEvent.kind == query.kind)
    if query.subject.endswith(":"):
        statement = statement.where(AuditEvent.subject.startswith(query.subject,
                                                                  autoescape=True))
    elif query.subject:
        statement = statement.where(AuditEvent.subject == query.subject)
    actor = query.actor.strip().lower()
    if actor == "nobody":
        statement = statement.where(AuditEvent.actor_id.is_(None))
    elif actor:
        statement = statement.where(AuditEvent.actor_id.in_(
            select(User.id).where(or_(func.lower(User.name).contains(actor, autoescape=True),
                                      User.email.contains(actor, autoescape=True)))))
    if query.since:
        statement = statement.where(AuditEvent.at >= _day(query.since))
    if query.until:
        statement = statement.where(AuditEvent.at < _day(query.until) + timedelta(days=1))
    kinds = list(db.session.scalars(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages, page = pages_of(total, page, PAGE_SIZE)
    events = db.session.scalars(
        statement.options(joinedload(AuditEvent.actor).lazyload(User.role_rows))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return TrailPage(events=list(events), total=total, page=page, pages=pages, kinds=kinds)
