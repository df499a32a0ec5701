"""Study notes and remediation: the bank's facts as a trainee reads them, and what a
failed certification attempt asks the trainee to do before the next one.

The rule itself (`exam_rules.remediation_left`) is plain Python; this module gathers what
it needs from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from quizapp import exam_rules
from quizapp.extensions import db
from quizapp.models import Attempt, Document, Exam, Fact, StudyView, Topic, User


def missed_facts(attempt: Attempt, safety_only: bool = False) -> list[Fact]:
    """The facts behind the questions an attempt got wrong, in the bank's order."""
    missed = {
        item.version.question_id for item in attempt.items
        if (item.mark or 0) < 1 and (item.version.content["safety_critical"] or not safety_only)
    }
    facts = db.session.scalars(select(Fact).order_by(Fact.position)).all()
    return [fact for fact in facts if missed & set(fact.question_ids)]


def remediation_for(user: User, failed: Attempt) -> exam_rules.Remediation:
    """What is left of the study plan set by a failed attempt."""
    by_topic = exam_rules.topic_breakdown(
        (item.version.question.topic_id, item.mark or 0.0) for item in failed.items
    )
    studied = db.session.scalars(
        select(StudyView.fact_id).where(StudyView.user_id == user.id,
                                        StudyView.viewed_at >= failed.finished_at)
    ).all()
    practised = db.session.scalars(
        select(Exam.rules_data).join(Attempt, Attempt.exam_id == Exam.id).where(
            Attempt.user_id == user.id, Attempt.state == "finished", Attempt.passed.is_(True),
            Exam.kind == "practice", Attempt.finished_at >= failed.finished_at,
        )
    ).all()
    practised_topics = {topic for rules in practised
                        for topic in rules["blueprint"]["topics"]}
    return exam_rules.remediation_left(
        (fact.id for fact in missed_facts(failed, safety_only=True)),
        exam_rules.weak_topics(by_topic, failed.pass_mark),
        studied,
        practised_topics,
    )


def record_study(user: User, fact_ids, now: datetime) -> None:
    """Note that the trainee opened these study notes now (the caller commits)."""
    fact_ids = list(dict.fromkeys(fact_ids))
    seen = {view.fact_id: view for view in db.session.scalars(
        select(StudyView).where(StudyView.user_id == user.id, StudyView.fact_id.in_(fact_ids))
    )}
    for fact_id in fact_ids:
        if fact_id in seen:
            seen[fact_id].viewed_at = now
        else:
            db.session.add(StudyView(user_id=user.id, fact_id=fact_id, viewed_at=now))


@dataclass(frozen=True)
class StudyPlan:
    """A remediation made readable: the notes to open and the quizzes to pass."""

    notes: list[tuple[Topic, int]]  # topics in the bank's order, with notes left to open
    topics: list[tuple[Topic, str]]  # topics to practise, with their practice exam id


def plan_view(remediation: exam_rules.Remediation | None) -> StudyPlan | None:
    """The plan left to do, or None when there is none (no fail, or all done)."""
    if remediation is None or remediation.done:
        return None
    topics = db.session.scalars(select(Topic).order_by(Topic.position)).all()
    weak = set(remediation.topics_to_practise)
    return StudyPlan(
        notes=notes_by_topic(remediation.facts_to_study, topics),
        topics=[(topic, f"practice-{topic.id}") for topic in topics if topic.id in weak],
    )


def notes_by_topic(fact_ids, topics: list[Topic] | None = None) -> list[tuple[Topic, int]]:
    """How many of these facts each topic holds, in the bank's topic order. Asked
    even for no facts, so a result page issues the same statements whatever was
    drawn (the query-count guards compare pages)."""
    fact_ids = list(fact_ids)
    counts = dict(db.session.execute(
        select(Fact.topic_id, func.count()).where(Fact.id.in_(fact_ids)).group_by(Fact.topic_id)
    ).all())
    if topics is None:
        topics = db.session.scalars(select(Topic).order_by(Topic.position)).all()
    return [(topic, counts[topic.id]) for topic in topics if topic.id in counts]


def study_topics() -> list[tuple[Topic, int]]:
    """Every topic, in the bank's order, with how many study notes it has."""
    return db.session.execute(
        select(Topic, func.count(Fact.id)).outerjoin(Fact, Fact.topic_id == Topic.id)
        .group_by(Topic.id).order_by(Topic.position)
    ).all()


def study_notes(topic_id: str) -> list[tuple[Fact, str]]:
    """A topic's facts with their source as 'Document title — section'."""
    rows = db.session.execute(
        select(Fact, Document.title).join(Document, Document.id == Fact.document_id)
        .where(Fact.topic_id == topic_id).order_by(Fact.position)
    ).all()
    return [(fact, f"{title} — {fact.section}") for fact, title in rows]
