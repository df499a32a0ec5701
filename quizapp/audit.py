"""The audit trail: who changed what, when. One table for questions, attempts, people
and certificates; `subject` names the thing ("question:mech-001", "attempt:12")."""

from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AuditEvent, User, utcnow


def subject(kind: str, key) -> str:
    return f"{kind}:{key}"


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
