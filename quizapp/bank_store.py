"""Move the bank between its files and the database.

Import is idempotent: an unchanged question touches nothing, a changed one gets a
new version (attempts keep pointing at the version they showed), and a question
gone from the files is retired, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from quizapp.bank.model import Bank
from quizapp.bank.model import Question as BankQuestion
from quizapp.extensions import db
from quizapp.models import Document, Exam, Fact, Question, QuestionVersion, Topic


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    status_changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # to another topic
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    exams: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.new_versions)} new version(s),"
            f" {len(self.status_changed)} status change(s), {len(self.moved)} moved topic,"
            f" {len(self.retired)} retired,"
            f" {self.unchanged} unchanged; {len(self.exams)} exam(s) updated"
        )


def import_bank(bank: Bank) -> ImportReport:
    """Load a checked bank into the database; the caller commits."""
    report = ImportReport()
    for document in bank.documents.values():
        _upsert(Document, document.id, title=document.title,
                short_title=document.short_title, sections=list(document.sections))
    for position, topic in enumerate(bank.topics.values()):
        _upsert(Topic, topic.id, name=topic.name, position=position)
    db.session.flush()

    stored = {q.id: q for q in db.session.scalars(select(Question))}
    for question in bank.questions.values():
        _import_question(question, stored.get(question.id), report)
    for qid, row in stored.items():
        if qid not in bank.questions and row.status != "retired":
            row.status = "retired"
            report.retired.append(qid)
    _import_facts(bank)

    for position, rules in enumerate(bank.exams):
        values = {"title": rules.title, "kind": rules.kind,
                  "rules_data": rules.to_dict(), "position": position}
        if _upsert(Exam, rules.id, **values):
            report.exams.append(rules.id)
    db.session.flush()
    return report


def _import_facts(bank: Bank) -> None:
    """Facts have no history of their own: the files' version replaces the stored one."""
    for position, fact in enumerate(bank.facts.values()):
        _upsert(Fact, fact.id, topic_id=fact.topic, document_id=fact.document,
                section=fact.section, text=fact.fact, risk=fact.risk,
                question_ids=list(fact.questions), position=position)
    for row in db.session.scalars(select(Fact)):
        if row.id not in bank.facts:
            db.session.delete(row)


def _upsert(model, key: str, **values) -> bool:
    """Insert or update one row by primary key; say whether anything changed."""
    row = db.session.get(model, key)
    if row is None:
        db.session.add(model(id=key, **values))
        return True
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _import_question(question: BankQuestion, row: Question | None, report: ImportReport):
    content_hash = question.content_hash()
    if row is None:
        row = Question(id=question.id, topic_id=question.topic, status=question.status,
                       current_version=1)
        row.versions.append(QuestionVersion(version=1, content=question.content(),
                                            content_hash=content_hash))
        db.session.add(row)
        report.added.append(question.id)
        return
    touched = False
    if row.latest.content_hash != content_hash:
        row.current_version += 1
        row.versions.append(QuestionVersion(version=row.current_version,
                                            content=question.content(),
                                            content_hash=content_hash))
        report.new_versions.append(question.id)
        touched = True
    if row.topic_id != question.topic:
        row.topic_id = question.topic
        report.moved.append(question.id)
        touched = True
    if row.status != question.status:
        row.status = question.status
        report.status_changed.append(question.id)
        touched = True
    if not touched:
        report.unchanged += 1


def stored_questions(include_retired: bool = False) -> list[tuple[BankQuestion, int]]:
    """Every question's latest version from the database, with its version number."""
    query = select(Question).order_by(Question.topic_id, Question.id)
    if not include_retired:
        query = query.where(Question.status != "retired")
    return [(row.latest.as_bank_question(), row.current_version)
            for row in db.session.scalars(query)]


def export_json() -> dict:
    """The whole bank as one JSON-ready document."""
    questions = []
    for question, version in stored_questions(include_retired=True):
        content = question.content()
        questions.append({
            "id": question.id,
            "version": version,
            "topic": question.topic,
            "type": content["type"],
            "stem": content["stem"],
            "options": content["options"],
            "explanation": content["explanation"],
            "difficulty": content["difficulty"],
            "safety_critical": content["safety_critical"],
            "scenario": content["scenario"],
            "risk": content["risk"],
            "practice_only": content["practice_only"],
            "enemies": content["enemies"],
            "status": question.status,
            "sources": content["sources"],
        })
    return {"questions": questions}
