"""Move the bank between its files and the database.

Import is idempotent: an unchanged question touches nothing, a changed one gets a
new version (attempts keep pointing at the version they showed), and a question
gone from the files is retired, never deleted.

Once trainers edit in the app, the database holds the live bank and the files are
the shipped starting content: import never silently overwrites an edit made in the
app since the last import. A question was edited in the app when its newest
version was saved there (`QuestionVersion.author_id`) and is not what import last
wrote or confirmed (`Question.imported_hash`), or when a trainer changed its status,
topic or facts since import last touched it (the audit trail says when: see
`APP_CHANGES`). If the files differ from such a question (its facts included),
import reports it in `ImportReport.kept_app_edits` and leaves it as it is, unless
told to overwrite; if they hold exactly what the app holds, import confirms it.
Questions made in the app and never in the files are left alone, and so are their
places in the facts' question lists, and documents uploaded in the app.

Exams follow the same rule. Their settings are versioned (`ExamVersion`): import adds
a version when the files change an exam, unless a manager changed its settings in the
app (its current version has an author, see `quizapp.exam_settings`); then the app's
settings are kept and reported in `kept_exam_settings`, unless told to overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from quizapp import audit, exam_settings
from quizapp.bank.model import Bank
from quizapp.bank.model import Question as BankQuestion
from quizapp.exam_rules import ExamRules
from quizapp.extensions import db
from quizapp.models import (
    AuditEvent,
    Document,
    Exam,
    ExamVersion,
    Fact,
    Question,
    QuestionVersion,
    Topic,
    User,
    utcnow,
)

# Audit kinds by which a trainer changes a question's content, status or topic. Their
# comments, flags and regrades change none of these, so they do not count.
APP_CHANGES = ("created", "edited", "submitted", "approved", "returned", "retired",
               "key_corrected")
IMPORTED = "imported"  # the kind of every event import records (actor None)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    status_changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # to another topic
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    exams: list[str] = field(default_factory=list)
    # Edited in the app since the last import, and the files differ: left as the app
    # has it. (An upload in the studio: edited by another trainer.)
    kept_app_edits: list[str] = field(default_factory=list)
    # Those replaced by the files all the same (overwrite=True).
    overwritten_app_edits: list[str] = field(default_factory=list)
    # Uploaded in the app; the files hold a document of the same id, which is ignored.
    kept_documents: list[str] = field(default_factory=list)
    # Made in the app and never in the files: not the files' business.
    app_only: int = 0
    # An upload in the studio: new versions of published questions, awaiting approval.
    pending: list[str] = field(default_factory=list)
    # An upload in the studio: status changes the review workflow does not allow.
    refused: list[str] = field(default_factory=list)
    # Exams whose settings a manager changed in the app and the files differ: kept.
    kept_exam_settings: list[str] = field(default_factory=list)
    # Those replaced by the files all the same (overwrite=True).
    overwritten_exam_settings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.new_versions)} new version(s),"
            f" {len(self.status_changed)} status change(s), {len(self.moved)} moved topic,"
            f" {len(self.retired)} retired,"
            f" {self.unchanged} unchanged; {len(self.exams)} exam(s) updated"
        )
        for items, what in (
            (self.kept_app_edits, "edited in the app and kept (the files differ)"),
            (self.overwritten_app_edits, "edited in the app and replaced by the files"),
            (self.pending, "new version(s) awaiting a second trainer's approval"),
            (self.kept_documents, "uploaded document(s) kept as the app has them"),
            (self.kept_exam_settings,
             "exam(s) whose settings were changed in the app, kept (the files differ)"),
            (self.overwritten_exam_settings,
             "exam(s) whose settings were changed in the app, replaced by the files"),
        ):
            if items:
                text += f"; {len(items)} {what}: {', '.join(items)}"
        text += "".join(f"; {message}" for message in self.refused)
        if self.app_only:
            text += f"; {self.app_only} question(s) made in the app left as they are"
        return text


def import_bank(bank: Bank, overwrite: bool = False, *, only: set[str] | None = None,
                author: User | None = None, source: str = "") -> ImportReport:
    """Load a checked bank into the database; the caller commits.

    Without `author` this is an import of bank files (`bank import`): versions come
    from the files and go live at once, and an edit made in the app since the last
    import is kept unless `overwrite` (the replaced version stays in the history).

    With `author` it is an upload by that trainer in the studio (`source` names the
    file): each change is saved as that trainer's edit, under the review workflow. A
    new question waits in review (or stays a draft), a published question's new
    version waits for a second trainer's approval, and a question whose newest version
    another trainer saved in the app is kept unless `overwrite`. Topics and exams are
    not changed by an upload.

    `only` limits the questions looked at (the others are neither changed nor
    retired): a CSV file's, or those of the uploaded topic files."""
    report = ImportReport()
    for document in bank.documents.values():
        row = db.session.get(Document, document.id)
        if row is not None and row.texts is not None:
            if (row.title, row.short_title, list(row.sections)) != (
                    document.title, document.short_title, list(document.sections)):
                report.kept_documents.append(document.id)
            continue
        _upsert(Document, document.id, title=document.title,
                short_title=document.short_title, sections=list(document.sections))
    if author is None:
        for position, topic in enumerate(bank.topics.values()):
            _upsert(Topic, topic.id, name=topic.name, position=position)
    db.session.flush()

    owned = _import_questions(bank, only, overwrite, report, author, source)
    _import_facts(bank, owned)

    if author is None:
        for position, rules in enumerate(bank.exams):
            _import_exam(rules, position, overwrite, report)
    db.session.flush()
    return report


def _import_exam(rules: ExamRules, position: int, overwrite: bool, report: ImportReport) -> None:
    """One exam of the files: added as version 1, or changed as a new version (attempts
    keep the settings they started with), unless a manager's settings are kept."""
    data = rules.to_dict()
    row = db.session.get(Exam, rules.id)
    if row is None:
        row = Exam(id=rules.id, title=rules.title, kind=rules.kind, rules_data=data,
                   position=position)
        db.session.add(row)
        exam_settings.first_version(row, utcnow())
        report.exams.append(rules.id)
        return
    if row.position != position:
        row.position = position  # where the exam is listed is the files' business
    if row.rules == rules and row.kind == rules.kind:
        return
    current_author = db.session.scalar(select(ExamVersion.author_id).where(
        ExamVersion.exam_id == row.id, ExamVersion.version == row.version))
    if current_author is not None:
        if not overwrite:
            report.kept_exam_settings.append(rules.id)
            return
        report.overwritten_exam_settings.append(rules.id)
    row.kind = rules.kind
    exam_settings.add_version(row, data, None, "From the bank files.", utcnow())
    report.exams.append(rules.id)


def import_questions(bank: Bank, only: set[str], overwrite: bool = False, *,
                     author: User | None = None, source: str = "") -> ImportReport:
    """Import only the questions `only` names from `bank` (the live bank with a CSV
    file's questions in it), as `import_bank` does; documents, topics, facts and exams
    are left as they are. The caller commits."""
    report = ImportReport()
    _import_questions(bank, only, overwrite, report, author, source)
    db.session.flush()
    return report


def _import_questions(bank: Bank, only: set[str] | None, overwrite: bool,
                      report: ImportReport, author: User | None, source: str) -> set[str]:
    """The questions, from files or from an upload; return those the app keeps."""
    stored = {q.id: q for q in db.session.scalars(select(Question))}
    looked_at = only if only is not None else set(bank.questions) | set(stored)
    if author is None:
        return _from_files(bank, stored, looked_at, overwrite, report)
    return _from_upload(bank, stored, looked_at, overwrite, report, author, source)


def _from_files(bank: Bank, stored: dict[str, Question], looked_at: set[str],
                overwrite: bool, report: ImportReport) -> set[str]:
    """The questions of bank files; return those the app keeps (made or kept there)."""
    edited = _edited_in_app(stored.values())
    # The facts' question lists are edited in the app too ("facts tested").
    in_app = _listed_under((f.id, f.question_ids) for f in db.session.scalars(select(Fact)))
    in_files = _listed_under((f.id, f.questions) for f in bank.facts.values())
    owned: set[str] = set()
    for question in bank.questions.values():
        if question.id not in looked_at:
            continue
        row = stored.get(question.id)
        if row is not None and row.id in edited:
            if _same(question, row) and in_app.get(row.id) == in_files.get(row.id):
                _confirm(row, question.content_hash())
                report.unchanged += 1
                continue
            if not overwrite:
                report.kept_app_edits.append(question.id)
                owned.add(question.id)
                continue
            report.overwritten_app_edits.append(question.id)
        _import_question(question, row, report)
    for qid, row in sorted(stored.items()):
        if qid in bank.questions or qid not in looked_at:
            continue
        if _made_in_app(row):
            report.app_only += 1
            owned.add(qid)
        elif qid in edited and not overwrite:
            report.kept_app_edits.append(qid)
            owned.add(qid)
        elif row.status != "retired":
            if qid in edited:
                report.overwritten_app_edits.append(qid)
            row.status = "retired"
            _record(row, "Retired: no longer in the bank files.")
            report.retired.append(qid)
    return owned


def _from_upload(bank: Bank, stored: dict[str, Question], looked_at: set[str],
                 overwrite: bool, report: ImportReport, author: User,
                 source: str) -> set[str]:
    """The questions of a studio upload, saved as the author's edits; return those
    kept as another trainer left them."""
    owned: set[str] = set()
    note = f"Uploaded in {source}." if source else "Uploaded in the studio."

    def someone_elses(row: Question) -> bool:
        return row.newest.author_id not in (None, author.id)

    for question in bank.questions.values():
        if question.id not in looked_at:
            continue
        row = stored.get(question.id)
        if row is None:
            _add_uploaded(question, author, note, report)
            continue
        if _same(question, row):
            report.unchanged += 1
            continue
        if someone_elses(row):
            if not overwrite:
                report.kept_app_edits.append(question.id)
                owned.add(question.id)
                continue
            report.overwritten_app_edits.append(question.id)
        _save_uploaded(question, row, author, note, report)
    for qid, row in sorted(stored.items()):
        if qid in bank.questions or qid not in looked_at or row.status == "retired":
            continue
        if someone_elses(row) and not overwrite:
            report.kept_app_edits.append(qid)
            owned.add(qid)
            continue
        row.status = "retired"
        audit.record(author, audit.subject("question", qid), "retired",
                     f"Not in the uploaded topic file. {note}")
        report.retired.append(qid)
    return owned


def _add_uploaded(question: BankQuestion, author: User, note: str,
                  report: ImportReport) -> None:
    """A new question from an upload: a draft, or in review when the file calls it
    published (publishing needs a second trainer)."""
    status = "review" if question.status == "published" else question.status
    row = Question(id=question.id, topic_id=question.topic, status=status,
                   current_version=1)
    row.versions.append(QuestionVersion(
        version=1, content=question.content(), content_hash=question.content_hash(),
        author_id=author.id, note=note))
    db.session.add(row)
    about = audit.subject("question", question.id)
    audit.record(author, about, "created", note, {"version": 1})
    if status == "review":
        audit.record(author, about, "submitted", "Version 1 submitted for review.",
                     {"version": 1})
    report.added.append(question.id)


# The statuses an upload may set, from each status (the workflow's arrows; publishing
# is never one of them: a file saying "published" puts a draft in review).
UPLOAD_MOVES = {
    ("draft", "review"): "submitted", ("draft", "published"): "submitted",
    ("review", "draft"): "returned",
    ("draft", "retired"): "retired", ("review", "retired"): "retired",
    ("published", "retired"): "retired",
}


def _save_uploaded(question: BankQuestion, row: Question, author: User, note: str,
                   report: ImportReport) -> None:
    if row.status == "retired":
        report.refused.append(f"{row.id} stays retired: a retired question is kept as it"
                              " was")
        return
    about = audit.subject("question", row.id)
    content_hash = question.content_hash()
    if row.newest.content_hash != content_hash:
        number = row.newest.version + 1
        row.versions.append(QuestionVersion(
            version=number, content=question.content(), content_hash=content_hash,
            author_id=author.id, note=note))
        pending = row.status == "published"
        if pending:
            report.pending.append(row.id)
        else:
            row.current_version = number
        audit.record(author, about, "edited", note, {"version": number, "pending": pending})
        report.new_versions.append(row.id)
    if row.topic_id != question.topic:
        audit.record(author, about, "edited",
                     f"Moved from {row.topic_id} to {question.topic}. {note}")
        row.topic_id = question.topic
        report.moved.append(row.id)
    wanted = question.status
    if row.status == wanted or (row.status == "review" and wanted == "published"):
        return  # in review it stays, until a second trainer approves it
    kind = UPLOAD_MOVES.get((row.status, wanted))
    if kind is None:
        report.refused.append(f"{row.id} stays {row.status}: an upload cannot make it"
                              f" {wanted}")
        return
    status = "review" if wanted == "published" else wanted
    audit.record(author, about, kind, f"{row.status} -> {status}. {note}")
    row.status = status
    report.status_changed.append(row.id)


def _listed_under(facts) -> dict[str, set[str]]:
    """Question id -> the ids of the facts listing it, from (fact id, question ids)."""
    listed: dict[str, set[str]] = {}
    for fact_id, question_ids in facts:
        for qid in question_ids:
            listed.setdefault(qid, set()).add(fact_id)
    return listed


def _made_in_app(row: Question) -> bool:
    """Created in the app (its first version has an author) and never imported."""
    return row.versions[0].author_id is not None and row.imported_hash is None


def _edited_in_app(rows) -> set[str]:
    """The questions edited in the app since import last wrote or confirmed them."""
    rows = list(rows)
    last_import = _last_events(AuditEvent.kind == IMPORTED)
    last_change = _last_events(AuditEvent.actor_id.is_not(None),
                               AuditEvent.kind.in_(APP_CHANGES))
    edited = set()
    for row in rows:
        newest = row.newest
        about = audit.subject("question", row.id)
        changed_at = last_change.get(about)
        if (newest.author_id is not None and newest.content_hash != row.imported_hash) or (
                changed_at is not None and changed_at > last_import.get(about, 0)):
            edited.add(row.id)
    return edited


def _last_events(*conditions) -> dict[str, int]:
    """Subject -> the id of its latest audit event meeting the conditions (ids grow
    with time, and unlike timestamps never tie)."""
    return dict(db.session.execute(
        select(AuditEvent.subject, func.max(AuditEvent.id))
        .where(AuditEvent.subject.like("question:%"), *conditions)
        .group_by(AuditEvent.subject)
    ).all())


def _same(question: BankQuestion, row: Question) -> bool:
    """The files hold exactly what the app holds: content, status and topic."""
    return (row.newest.content_hash == question.content_hash()
            and row.status == question.status and row.topic_id == question.topic)


def _confirm(row: Question, content_hash: str) -> None:
    row.imported_hash = content_hash
    _record(row, "The bank files now hold this question as the app has it.")


def _record(row: Question, message: str) -> None:
    audit.record(None, audit.subject("question", row.id), IMPORTED, message,
                 {"version": row.newest.version, "status": row.status})


def _import_facts(bank: Bank, app_owned: set[str]) -> None:
    """Facts have no history of their own: the files' version replaces the stored one,
    except for the places of questions the app owns (made or kept in the app), which
    stay as the app has them; a fact gone from the files stays while it lists one."""
    stored = {row.id: row for row in db.session.scalars(select(Fact))}
    for position, fact in enumerate(bank.facts.values()):
        kept = [q for q in stored[fact.id].question_ids if q in app_owned] \
            if fact.id in stored else []
        questions = [q for q in fact.questions if q not in app_owned]
        _upsert(Fact, fact.id, topic_id=fact.topic, document_id=fact.document,
                section=fact.section, text=fact.fact, risk=fact.risk,
                question_ids=questions + [q for q in kept if q not in questions],
                position=position)
    for fact_id, row in stored.items():
        if fact_id not in bank.facts and not set(row.question_ids) & app_owned:
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
                       current_version=1, imported_hash=content_hash)
        row.versions.append(QuestionVersion(version=1, content=question.content(),
                                            content_hash=content_hash))
        db.session.add(row)
        report.added.append(question.id)
        _record(row, "Added from the bank files.")
        return
    changes = []
    # Compared with the newest version: an edit awaiting approval that the files hold
    # too is not written twice (and stays awaiting approval).
    if row.newest.content_hash != content_hash:
        version = row.newest.version + 1
        row.versions.append(QuestionVersion(version=version, content=question.content(),
                                            content_hash=content_hash))
        row.current_version = version
        report.new_versions.append(question.id)
        changes.append(f"version {version}")
    if row.topic_id != question.topic:
        row.topic_id = question.topic
        report.moved.append(question.id)
        changes.append(f"moved to {question.topic}")
    if row.status != question.status:
        row.status = question.status
        report.status_changed.append(question.id)
        changes.append(f"now {question.status}")
    if row.imported_hash != content_hash:
        row.imported_hash = content_hash
    if changes:
        _record(row, f"Imported from the bank files: {', '.join(changes)}.")
    else:
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
