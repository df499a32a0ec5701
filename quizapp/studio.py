"""The trainer studio: the live bank, browsing it, editing questions in versions, and
the review workflow (draft -> review -> published -> retired).

The database holds the live bank. `live_bank` gives it as `quizapp.bank` values, so
the editor checks a question with the same `parse_question` and `check_question` as
`bank check` does the files. What the files hold and the database does not (topic
minimums, risk categories, recorded conflicts, the scenario share) is read from the
bank folder once per process (`file_settings`).

Saving always adds a version. While a question is a draft or in review its newest
version is also its live one (nothing draws it). A published question's new version
is pending: the live one is still drawn until a trainer other than the pending
version's author approves it. Every step is written to the audit trail.

Like the other services, nothing here reads the request or the current user: the
views pass the trainer, and turn a `StudioError` into a message and its status.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from quizapp import audit
from quizapp.attempts import ShownItem, ShownOption
from quizapp.bank import check, guess, similar
from quizapp.bank import model as values
from quizapp.bank.files import _Collector, load_bank, parse_question
from quizapp.citations import citation_labels
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    AuditEvent,
    Document,
    Exam,
    Fact,
    Question,
    QuestionVersion,
    Topic,
    User,
    utcnow,
)
from quizapp.paging import pages_of
from quizapp.question_types import QUESTION_TYPES

# Which status may follow which. "published" -> "published" is the approval of a
# pending edit; the others are the arrows of the workflow.
TRANSITIONS = {
    "draft": ("review", "retired"),
    "review": ("published", "draft", "retired"),
    "published": ("published", "retired"),
    "retired": (),
}
PAGE_SIZE = 25
MAX_OPTIONS = 6
MAX_CITATIONS = 4
OPTION_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class StudioError(ServiceError):
    """A request the studio cannot carry out; the message is for the trainer."""

    def __init__(self, message: str, question_id: str | None = None):
        super().__init__(message)
        self.question_id = question_id


class NotFound(StudioError):
    status = 404


class BadInput(StudioError):
    status = 400


class SelfApproval(StudioError):
    status = 403


@dataclass(frozen=True)
class Finding:
    """One thing the checks say about a question being edited. `field` names the form
    field it belongs beside ("stem", "options-2-rationale", "citations-0-section",
    "facts", ...), or is "" when it belongs to the question as a whole."""

    level: str  # "error" or "warning"
    field: str
    message: str


class Rejected(StudioError):
    """The question has errors; nothing was saved."""

    status = 400

    def __init__(self, findings: Sequence[Finding], question_id: str | None = None):
        errors = [f for f in findings if f.level == "error"]
        super().__init__(f"{len(errors)} problem(s) to fix before it can be saved.",
                         question_id)
        self.findings = tuple(findings)


# --- What the files hold and the database does not -----------------------------------


@dataclass(frozen=True)
class FileSettings:
    root_name: str
    minimums: dict[str, int]
    risk_categories: dict[str, str]
    conflicts: dict[str, values.Conflict]
    minimum_scenario_share: float


_file_settings: dict[tuple, FileSettings] = {}


def file_settings() -> FileSettings:
    """Topic minimums, risk categories, conflicts and the scenario share, read from the
    bank folder (QUESTION_BANK_PATH) once per process and read again only when
    topics.yaml or conflicts.yaml changes."""
    root = Path(current_app.config["QUESTION_BANK_PATH"])
    stamps = tuple(
        path.stat().st_mtime_ns if path.exists() else None
        for path in (root / "topics.yaml", root / "conflicts.yaml")
    )
    key = (str(root.resolve()), stamps)
    if key not in _file_settings:
        bank, _problems = load_bank(root)
        _file_settings.clear()
        _file_settings[key] = FileSettings(
            root_name=bank.root_name,
            minimums={t.id: t.minimum for t in bank.topics.values()},
            risk_categories=dict(bank.risk_categories),
            conflicts=dict(bank.conflicts),
            minimum_scenario_share=bank.minimum_scenario_share,
        )
    return _file_settings[key]


# --- The live bank -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One question as the bank browser lists it (its newest version)."""

    id: str
    topic: str
    topic_name: str
    status: str
    version: int  # the newest
    live_version: int
    pending_edit: bool
    needs_review: bool
    review_reason: str | None
    type: str
    difficulty: str
    safety_critical: bool
    risk: str | None
    practice_only: bool
    stem: str
    searched: str  # id, stem and options, folded for search
    updated_at: datetime
    author: str | None
    findings: tuple[values.Problem, ...]
    position: int  # in bank order: topics in their order, then ids

    @property
    def errors(self) -> int:
        return sum(p.level == "error" for p in self.findings)

    @property
    def warnings(self) -> int:
        return sum(p.level == "warning" for p in self.findings)


@dataclass(frozen=True)
class Snapshot:
    """The live bank at one state of the database, with each question's findings.

    Made once per state and kept per process (see `snapshot`): the browser filters,
    sorts and pages these rows, so its pages cost one query whatever the bank's size.
    """

    key: tuple
    bank: values.Bank
    rows: tuple[Row, ...]
    guessability: tuple[guess.SetReport, ...]

    @property
    def guess_summary(self) -> str:
        return guess.summary_line(self.guessability)

    @property
    def too_guessable(self) -> bool:
        return any(report.too_guessable for report in self.guessability)

    def row(self, question_id: str) -> Row | None:
        return next((r for r in self.rows if r.id == question_id), None)


def _fingerprint() -> tuple:
    """What changes whenever anything the snapshot shows changes, in one query.

    Every change made in the app writes an audit event (transitions, comments, saves,
    edited sections and the flags they raise) or a version; `bank import` writes
    versions and statuses, which the counts catch even without a new version. One change
    goes unseen until the next: an import that only rewrites a fact's list of
    questions (facts have no history of their own)."""
    def scalar(column):
        return select(column).scalar_subquery()

    return tuple(db.session.execute(select(
        scalar(func.max(QuestionVersion.id)),
        scalar(func.max(AuditEvent.id)),
        scalar(func.count(Question.id)),
        scalar(func.sum(Question.current_version)),
        select(func.count(Question.id)).where(Question.status == "published")
        .scalar_subquery(),
        select(func.count(Question.id)).where(Question.status == "retired")
        .scalar_subquery(),
        select(func.count(Question.id)).where(Question.needs_review.is_(True))
        .scalar_subquery(),
        scalar(func.count(Fact.id)),
        scalar(func.count(Document.id)),
    )).one())


def snapshot() -> Snapshot:
    """The live bank and its findings, rebuilt only when the database changed.

    Kept per app (in `app.extensions`), keyed by `_fingerprint()`: checking every
    question takes a tenth of a second, too slow for each page of the browser, and the
    bank changes far less often than it is read. Several workers each keep their own,
    checked against the database on every call (see `_fingerprint` for what it sees)."""
    key = _fingerprint()
    store = current_app.extensions.setdefault("studio", {})
    kept = store.get("snapshot")
    if kept is not None and kept.key == key:
        return kept
    made = _build_snapshot(key)
    store["snapshot"] = made
    return made


def live_bank() -> values.Bank:
    """The live bank as values: documents, topics with minimums, risk categories,
    conflicts, facts, every question's newest version with its status, the exams.
    A fresh copy each call, so a caller may change it freely."""
    bank = snapshot().bank
    return dataclasses.replace(
        bank, documents=dict(bank.documents), topics=dict(bank.topics),
        questions=dict(bank.questions), facts=dict(bank.facts),
        conflicts=dict(bank.conflicts), exams=list(bank.exams),
        risk_categories=dict(bank.risk_categories), origin=dict(bank.origin),
    )


def _build_snapshot(key: tuple) -> Snapshot:
    settings = file_settings()
    root = settings.root_name
    bank = values.Bank(
        risk_categories=dict(settings.risk_categories), conflicts=dict(settings.conflicts),
        minimum_scenario_share=settings.minimum_scenario_share, root_name=root,
    )
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        bank.documents[document.id] = values.Document(
            document.id, document.title, document.short_title, tuple(document.sections))
    topics = db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)).all()
    order = {t.id: n for n, t in enumerate(topics)}
    for topic in topics:
        bank.topics[topic.id] = values.Topic(topic.id, topic.name,
                                             settings.minimums.get(topic.id, 0))
    questions = sorted(
        db.session.scalars(select(Question).options(
            selectinload(Question.versions).selectinload(QuestionVersion.author))),
        key=lambda q: (order.get(q.topic_id, len(order)), q.id),
    )
    for row in questions:
        bank.questions[row.id] = row.newest.as_bank_question()
        bank.origin[row.id] = f"{root}/questions/{row.topic_id}.yaml"
    facts = sorted(db.session.scalars(select(Fact)),
                   key=lambda f: (order.get(f.topic_id, len(order)), f.position, f.id))
    for fact in facts:
        bank.facts[fact.id] = values.Fact(
            fact.id, fact.topic_id, fact.document_id, fact.section, fact.text,
            tuple(fact.question_ids), fact.risk)
        bank.origin["fact:" + fact.id] = f"{root}/facts/{fact.topic_id}.yaml"
    bank.exams = [exam.rules for exam in
                  db.session.scalars(select(Exam).order_by(Exam.position, Exam.id))]

    nearby = _NearDuplicates(bank)
    rows = []
    for position, row in enumerate(questions):
        question = bank.questions[row.id]
        findings: tuple[values.Problem, ...] = ()
        if row.status != "retired":
            findings = tuple(check.check_question(question, bank)) + tuple(
                values.Problem("error", bank.origin[row.id], row.id, message)
                for message in nearby.messages(question))
        newest = row.newest
        rows.append(Row(
            id=row.id, topic=row.topic_id,
            topic_name=bank.topics[row.topic_id].name if row.topic_id in bank.topics
            else row.topic_id,
            status=row.status, version=newest.version, live_version=row.current_version,
            pending_edit=row.pending_edit, needs_review=row.needs_review,
            review_reason=row.review_reason, type=question.type,
            difficulty=question.difficulty, safety_critical=question.safety_critical,
            risk=question.risk, practice_only=question.practice_only, stem=question.stem,
            searched=" ".join([row.id, question.stem, *(o.text for o in question.options)])
            .casefold(),
            updated_at=newest.created_at, author=newest.author.name if newest.author else None,
            findings=findings, position=position,
        ))
    return Snapshot(key, bank, tuple(rows), guess.guessability(bank.questions.values()))


class _NearDuplicates:
    """The near-duplicate check of `bank check` (quizapp.bank.similar), for one question
    against the published others, with each question's words worked out once."""

    def __init__(self, bank: values.Bank):
        self.bank = bank
        self.titles = [name for d in bank.documents.values()
                       for name in (d.short_title, d.title)]
        self.enemies = bank.enemy_map()
        self.words = {q.id: similar.question_words(q, self.titles) for q in bank.published()}

    def messages(self, question: values.Question) -> list[str]:
        mine = similar.question_words(question, self.titles)
        enemies = self.enemies.get(question.id, frozenset()) | set(question.enemies)
        found = []
        for other, words in self.words.items():
            if other == question.id or other in enemies:
                continue
            similarity = similar.jaccard(mine, words)
            if similarity >= similar.NEAR_DUPLICATE_THRESHOLD:
                shared = ", ".join(sorted(mine & words))
                found.append(
                    f"near-duplicate of {other}: {similarity:.0%} of the words of their"
                    f" stems and keys are shared ({shared}; the limit is"
                    f" {similar.NEAR_DUPLICATE_THRESHOLD:.0%}); rewrite one, or declare"
                    " them enemies")
        return found


# --- The bank browser ----------------------------------------------------------------

STATUS_FILTERS = {
    "": "Any but retired",
    "draft": "Draft",
    "review": "In review",
    "published": "Published",
    "pending": "Pending edit",
    "needs_review": "Needs review (a cited section changed)",
    "retired": "Retired",
    "all": "Any, retired too",
}
LINT_FILTERS = {
    "": "Any",
    "flagged": "Flagged (errors or advice)",
    "errors": "With errors",
    "clean": "Nothing flagged",
}
SORTS = {
    "id": "Id",
    "topic": "Topic",
    "updated": "Last saved, newest first",
    "status": "Status",
    "findings": "Most flagged first",
}
STATUS_ORDER = {"review": 0, "draft": 1, "published": 2, "retired": 3}


@dataclass(frozen=True)
class BrowseQuery:
    topic: str = ""
    type: str = ""
    status: str = ""
    difficulty: str = ""
    safety: str = ""  # "yes", "no" or ""
    risk: str = ""
    lint: str = ""
    text: str = ""
    sort: str = "id"
    page: int = 1


@dataclass(frozen=True)
class TopicCount:
    id: str
    name: str
    minimum: int
    published: int
    in_progress: int  # drafts and questions in review
    pending: int  # published with an edit awaiting approval

    @property
    def short(self) -> int:
        return max(0, self.minimum - self.published)


@dataclass(frozen=True)
class BrowsePage:
    rows: tuple[Row, ...]
    total: int  # rows matching the filters
    page: int
    pages: int
    topics: tuple[TopicCount, ...]
    query: BrowseQuery
    guess_summary: str
    too_guessable: bool
    awaiting_review: int


def _matches(row: Row, query: BrowseQuery) -> bool:
    status = query.status
    if status == "pending":
        wanted = row.pending_edit
    elif status == "needs_review":
        wanted = row.needs_review
    elif status == "all":
        wanted = True
    elif status:
        wanted = row.status == status
    else:
        wanted = row.status != "retired"
    lint = query.lint
    return (
        wanted
        and (not query.topic or row.topic == query.topic)
        and (not query.type or row.type == query.type)
        and (not query.difficulty or row.difficulty == query.difficulty)
        and (not query.safety or row.safety_critical == (query.safety == "yes"))
        and (not query.risk or row.risk == query.risk)
        and (lint != "flagged" or bool(row.findings))
        and (lint != "errors" or row.errors > 0)
        and (lint != "clean" or not row.findings)
        and (not query.text or query.text.casefold() in row.searched)
    )


def _sort_key(sort: str):
    if sort == "topic":
        return lambda r: (r.position,)
    if sort == "updated":
        return lambda r: (-r.updated_at.timestamp(), r.id)
    if sort == "status":
        return lambda r: (STATUS_ORDER.get(r.status, 9), not r.pending_edit, r.id)
    if sort == "findings":
        return lambda r: (-r.errors, -r.warnings, r.id)
    return lambda r: (r.id,)


def browse(query: BrowseQuery) -> BrowsePage:
    """One page of the bank: filtered, searched and sorted, with counts per topic
    against the topics' minimums. Reads only the snapshot (see `snapshot`)."""
    if query.sort not in SORTS:
        raise BadInput(f"Unknown sort '{query.sort}'.")
    if query.status not in STATUS_FILTERS or query.lint not in LINT_FILTERS:
        raise BadInput("Unknown filter.")
    shot = snapshot()
    found = sorted((r for r in shot.rows if _matches(r, query)), key=_sort_key(query.sort))
    pages, page = pages_of(len(found), query.page, PAGE_SIZE)
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in shot.rows:
        tally = counts[row.topic]
        tally[row.status] += 1
        tally["pending"] += row.pending_edit
    topics = tuple(
        TopicCount(t.id, t.name, t.minimum, counts[t.id]["published"],
                   counts[t.id]["draft"] + counts[t.id]["review"], counts[t.id]["pending"])
        for t in shot.bank.topics.values()
    )
    awaiting = sum(r.status == "review" or r.pending_edit for r in shot.rows)
    return BrowsePage(
        rows=tuple(found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]), total=len(found),
        page=page, pages=pages, topics=topics, query=dataclasses.replace(query, page=page),
        guess_summary=shot.guess_summary, too_guessable=shot.too_guessable,
        awaiting_review=awaiting,
    )


# --- Reading one question ------------------------------------------------------------


def get_question(question_id: str) -> Question:
    """The question with its versions and their authors.

    :raise NotFound: no question has this id."""
    row = db.session.scalar(
        select(Question).where(Question.id == question_id).options(
            selectinload(Question.versions).selectinload(QuestionVersion.author)))
    if row is None:
        raise NotFound(f"There is no question '{question_id}'.")
    return row


def editable(question_id: str) -> Question:
    """The question, if it may be edited: a retired question is kept as it was.

    :raise NotFound: no such question. :raise StudioError: it is retired."""
    row = get_question(question_id)
    if row.status == "retired":
        raise StudioError(f"{row.id} is retired: it is kept as it was, not edited.", row.id)
    return row


def facts_of(question_id: str, bank: values.Bank | None = None) -> list[values.Fact]:
    """The facts that list the question (those it tests)."""
    bank = bank or snapshot().bank
    return [f for f in bank.facts.values() if question_id in f.questions]


@dataclass(frozen=True)
class QuestionView:
    question: Question
    live: QuestionVersion
    newest: QuestionVersion
    citations: tuple[str, ...]
    facts: tuple[values.Fact, ...]
    findings: tuple[values.Problem, ...]
    trail: tuple[AuditEvent, ...]
    may_approve: bool
    awaiting_approval: bool


def question_view(question_id: str, viewer: User) -> QuestionView:
    """What the question's page shows: the live and newest versions, what the checks
    say of the newest, its facts, its recent history, and what the viewer may do."""
    row = get_question(question_id)
    shot = snapshot()
    titles = {d.id: d.title for d in shot.bank.documents.values()}
    listed = shot.row(row.id)
    awaiting = awaiting_approval(row)
    return QuestionView(
        question=row, live=row.latest, newest=row.newest,
        citations=citation_labels(row.newest.content, titles),
        facts=tuple(facts_of(row.id, shot.bank)),
        findings=listed.findings if listed else (),
        trail=tuple(trail(row.id)),
        may_approve=awaiting and row.newest.author_id != viewer.id,
        awaiting_approval=awaiting,
    )


def awaiting_approval(row: Question) -> bool:
    return row.status == "review" or (row.status == "published" and row.pending_edit)


def trail(question_id: str) -> list[AuditEvent]:
    """The question's audit trail, oldest first, with each event's actor loaded."""
    return list(db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor))
        .where(AuditEvent.subject == audit.subject("question", question_id))
        .order_by(AuditEvent.at, AuditEvent.id)))


# --- The editor ----------------------------------------------------------------------


@dataclass(frozen=True)
class OptionInput:
    letter: str  # the option's id; "" for a new option
    text: str
    correct: bool
    rationale: str

    @property
    def blank(self) -> bool:
        return not (self.text.strip() or self.rationale.strip() or self.correct)


@dataclass(frozen=True)
class CitationInput:
    document: str
    section: str
    fact: str

    @property
    def blank(self) -> bool:
        return not (self.document or self.section or self.fact.strip())


@dataclass(frozen=True)
class QuestionInput:
    """What the editor sends, as plain values. Options and citations keep the form's
    rows, blank ones too, so a finding can name the row it belongs to."""

    topic: str
    type: str
    stem: str
    options: tuple[OptionInput, ...]
    explanation: str
    difficulty: str
    safety_critical: bool = False
    risk: str = ""
    scenario: bool = False
    ordered: bool = False
    practice_only: bool = False
    enemies: str = ""  # ids, separated by commas or spaces
    facts: tuple[str, ...] = ()
    citations: tuple[CitationInput, ...] = ()
    note: str = ""
    key_correction: bool = False
    reason: str = ""


def editor_input(row: Question, bank: values.Bank | None = None) -> QuestionInput:
    """The question's newest version as the editor shows it."""
    content = row.newest.content
    bank = bank or snapshot().bank
    return QuestionInput(
        topic=row.topic_id, type=content["type"], stem=content["stem"],
        options=tuple(OptionInput(o["id"], o["text"], o["correct"], o.get("rationale", ""))
                      for o in content["options"]),
        explanation=content["explanation"], difficulty=content["difficulty"],
        safety_critical=content["safety_critical"], risk=content.get("risk") or "",
        scenario=content.get("scenario", False), ordered=content.get("ordered", False),
        practice_only=content.get("practice_only", False),
        enemies=", ".join(content.get("enemies", [])),
        facts=tuple(f.id for f in facts_of(row.id, bank)),
        citations=tuple(CitationInput(s["document"], s["section"], s["fact"])
                        for s in content["sources"]),
        # A pending key correction stays one when it is edited again.
        key_correction=row.pending_edit and row.newest.key_correction,
        reason=(row.newest.note or "") if row.pending_edit and row.newest.key_correction
        else "",
    )


@dataclass(frozen=True)
class EditorChoices:
    topics: tuple[tuple[str, str], ...]
    risk_categories: tuple[tuple[str, str], ...]
    documents: tuple[tuple[str, str], ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # per document title
    facts: tuple[tuple[str, str], ...]
    guess_summary: str
    too_guessable: bool


def editor_choices(topic_id: str | None, question_id: str | None = None) -> EditorChoices:
    """What the editor's selects offer: topics, risk categories, documents and their
    sections, and the facts of the topic (plus any other fact listing the question)."""
    shot = snapshot()
    bank = shot.bank
    facts = [f for f in bank.facts.values()
             if f.topic == topic_id or (question_id and question_id in f.questions)]
    short = {d.id: d.short_title for d in bank.documents.values()}
    return EditorChoices(
        topics=tuple((t.id, t.name) for t in bank.topics.values()),
        risk_categories=tuple(bank.risk_categories.items()),
        documents=tuple((d.id, d.title) for d in bank.documents.values()),
        sections=tuple((d.title, d.sections) for d in bank.documents.values()),
        facts=tuple((f.id, f"{f.fact} ({short.get(f.document, f.document)}, {f.section})")
                    for f in facts),
        guess_summary=shot.guess_summary, too_guessable=shot.too_guessable,
    )


def next_question_id(topic_id: str) -> str:
    """The next free id with the topic's prefix ("day-017"): the prefix most of the
    topic's ids carry (a document's drafts, "doc-101-001", do not count), else the
    topic's id."""
    ids = set(db.session.scalars(select(Question.id)))
    in_topic = db.session.scalars(select(Question.id).where(Question.topic_id == topic_id))
    documents = set(db.session.scalars(select(Document.id)))
    shape = re.compile(r"^(.+)-(\d+)$")
    prefixes = Counter(
        m.group(1) for qid in in_topic
        if (m := shape.match(qid)) and m.group(1) not in documents
    )
    prefix = prefixes.most_common(1)[0][0] if prefixes else topic_id
    numbered = [m.group(2) for qid in ids if (m := shape.match(qid)) and m.group(1) == prefix]
    width = max([3, *(len(n) for n in numbered)])
    number = max([0, *(int(n) for n in numbered)]) + 1
    while f"{prefix}-{number:0{width}d}" in ids:
        number += 1
    return f"{prefix}-{number:0{width}d}"


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


@dataclass
class _Candidate:
    """A question built from the editor's input, with the maps from the checker's
    numbering back to the form's rows."""

    question: values.Question | None
    option_rows: list[int] = field(default_factory=list)  # checker's option n -> form row
    letter_rows: dict[str, int] = field(default_factory=dict)  # option id -> form row
    citation_rows: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def place(self, message: str) -> str:
        """The form field a checker's message belongs beside, or "" for the top."""
        if m := re.match(r"^option (\d+)\b", message):
            row = self._row(self.option_rows, m.group(1))
            part = ("rationale" if "rationale" in message
                    else "correct" if "'correct'" in message else "text")
            return f"options-{row}-{part}" if row is not None else "options"
        if m := re.match(r"^(?:the fact of )?source (\d+)\b", message):
            row = self._row(self.citation_rows, m.group(1))
            part = ("document" if "unknown document" in message
                    else "section" if "is not a section" in message else "fact")
            return f"citations-{row}-{part}" if row is not None else "citations"
        if m := re.match(r"^the rationale of option ([a-z])\b", message):
            row = self.letter_rows.get(m.group(1))
            return f"options-{row}-rationale" if row is not None else "options"
        if m := re.match(r"^options? ([a-z])(?: and ([a-z]))?\b", message):
            row = self.letter_rows.get(m.group(2) or m.group(1))
            return f"options-{row}-text" if row is not None else "options"
        if m := re.match(r"^'(\w+)'", message):
            name = {"sources": "citations"}.get(m.group(1), m.group(1))
            if name in FIELD_NAMES:
                return name
        return next((name for phrase, name in PLACES if phrase in message), "")

    @staticmethod
    def _row(rows: list[int], number: str) -> int | None:
        index = int(number) - 1
        return rows[index] if 0 <= index < len(rows) else None


FIELD_NAMES = {"type", "stem", "explanation", "difficulty", "safety_critical", "risk",
               "scenario", "ordered", "practice_only", "enemies", "citations", "options"}
# For the messages that name no field at their start: a phrase, and where it belongs.
PLACES = (
    ("near-duplicate of", "stem"),
    ("stem names a source", "practice_only"),
    ("for practice only", "practice_only"),
    ("'risk'", "risk"),
    ("risk category", "risk"),
    ("'enemies'", "enemies"),
    ("stem", "stem"),
    ("the explanation", "explanation"),
    ("option ids", "options"),
    ("correct option", "options"),
    ("one correct and one wrong", "options"),
    ("wrong options", "options"),
    ("has exactly the options", "options"),
    ("one source's figure", "stem"),
    ("fact", "facts"),
)


def _letters(data: QuestionInput, used_before: set[str]) -> list[str]:
    """Each row's option id: a row keeps its id; a new row takes a letter no version
    of the question has used, so an old answer never lands on a new option."""
    taken = {o.letter for o in data.options if o.letter} | used_before
    free = (letter for letter in OPTION_LETTERS if letter not in taken)
    return ["" if o.blank else o.letter or next(free, "") for o in data.options]


def _candidate(data: QuestionInput, question_id: str, status: str, bank: values.Bank,
               used_letters: set[str]) -> _Candidate:
    """Parse the input with `files.parse_question`, as `bank check` reads a file."""
    letters = _letters(data, used_letters)
    option_rows = [n for n, o in enumerate(data.options) if not o.blank]
    citation_rows = [n for n, c in enumerate(data.citations) if not c.blank]
    raw = {
        "id": question_id, "type": data.type, "stem": data.stem,
        "options": [{"id": letters[n], "text": data.options[n].text,
                     "correct": data.options[n].correct,
                     "rationale": data.options[n].rationale} for n in option_rows],
        "explanation": data.explanation, "difficulty": data.difficulty,
        "safety_critical": data.safety_critical,
        "sources": [{"document": data.citations[n].document,
                     "section": data.citations[n].section,
                     "fact": data.citations[n].fact} for n in citation_rows],
        "scenario": data.scenario, "ordered": data.ordered, "status": status,
        "practice_only": data.practice_only, "enemies": _split_ids(data.enemies),
    }
    if data.risk:
        raw["risk"] = data.risk
    out = _Collector("editor")
    question = parse_question(raw, data.topic, out, bank.documents)
    made = _Candidate(question, option_rows, {letters[n]: n for n in option_rows},
                      citation_rows)
    made.findings = [Finding(p.level, made.place(p.message), p.message) for p in out.problems]
    return made


def _with(bank: values.Bank, question: values.Question,
          facts: Iterable[str]) -> values.Bank:
    """The bank with this question in it, listed under exactly `facts`."""
    chosen = set(facts)
    replaced = {}
    for fact in bank.facts.values():
        listed = question.id in fact.questions
        if listed != (fact.id in chosen):
            kept = tuple(q for q in fact.questions if q != question.id)
            fact = dataclasses.replace(
                fact, questions=kept + ((question.id,) if fact.id in chosen else ()))
        replaced[fact.id] = fact
    origin = dict(bank.origin)
    origin.setdefault(question.id, f"{bank.root_name}/questions/{question.topic}.yaml")
    return dataclasses.replace(bank, questions={**bank.questions, question.id: question},
                               facts=replaced, origin=origin)


def _examine(question: values.Question, facts: Sequence[str], bank: values.Bank,
             publishing: bool) -> list[tuple[str, str]]:
    """What `bank check` would say of this question in the live bank, as (level,
    message): `check_question`, the near-duplicate check, and the facts' rules (each
    fact listing it is cited by it; a published question is listed under a fact)."""
    found = []
    unknown = [f for f in facts if f not in bank.facts]
    found += [("error", f"fact '{f}' is not in the bank") for f in unknown]
    candidate_bank = _with(bank, question, [f for f in facts if f in bank.facts])
    found += [(p.level, p.message) for p in check.check_question(question, candidate_bank)]
    published = dataclasses.replace(question, status="published")
    found += [("error", m) for m in
              _NearDuplicates(_with(candidate_bank, published, facts)).messages(published)]
    for fact_id in facts:
        fact = bank.facts.get(fact_id)
        if fact is not None and not any(
            c.document == fact.document and c.section == fact.section
            for c in question.sources
        ):
            found.append(("error", f"fact '{fact.id}' is on {fact.document} / {fact.section},"
                                   " which the question does not cite: cite it, or untick"
                                   " the fact"))
    if not facts:
        found.append(("error" if publishing else "warning",
                      "a published question must be listed under a fact it tests: tick one"
                      " under 'Facts tested'"))
    return found


def examine(question_id: str) -> list[Finding]:
    """What the checks say of a question's newest version, placed on the editor's
    fields: what the editor shows when it opens."""
    row = get_question(question_id)
    return _check(editor_input(row), row)[1]


def check_input(data: QuestionInput, question_id: str | None = None) -> list[Finding]:
    """What the checks say of the editor's input, for a new question or a new version
    of `question_id` (nothing is saved)."""
    return _check(data, get_question(question_id) if question_id else None)[1]


def _check(data: QuestionInput, row: Question | None) -> tuple[_Candidate, list[Finding]]:
    bank = snapshot().bank
    if data.topic not in bank.topics:
        return _Candidate(None), [Finding("error", "topic", "Choose one of the bank's topics.")]
    qid = row.id if row else next_question_id(data.topic)
    used = {o["id"] for v in row.versions for o in v.content["options"]} if row else set()
    made = _candidate(data, qid, row.status if row else "draft", bank, used)
    findings = list(made.findings)
    if made.question is not None:
        publishing = row is not None and row.status == "published"
        findings += [Finding(level, made.place(message), message) for level, message in
                     _examine(made.question, data.facts, bank, publishing)]
    findings += _key_findings(data, made, row)
    return made, findings


def _key_findings(data: QuestionInput, made: _Candidate,
                  row: Question | None) -> list[Finding]:
    """A key correction is an edit of a published question that changes its key."""
    published = row is not None and row.status == "published"
    new_key = made.question.correct_ids if made.question else None
    old_key = row.latest.correct_ids if published else None
    found = []
    if data.key_correction:
        if not published:
            found.append(Finding("error", "key_correction",
                                 "Only an edit of a published question can correct its key."))
        elif new_key is not None and new_key == old_key:
            found.append(Finding("error", "key_correction",
                                 "The key is the same as the live version's: change which"
                                 " option is correct, or untick this."))
        if not data.reason.strip():
            found.append(Finding("error", "reason",
                                 "Say why the old key was wrong: it is shown with the"
                                 " regrade."))
    elif published and new_key is not None and new_key != old_key:
        found.append(Finding(
            "warning", "key_correction",
            f"The key changes from {', '.join(sorted(old_key))} to"
            f" {', '.join(sorted(new_key))}. If the old key was wrong, tick 'This corrects"
            " a wrong key' so finished attempts can be regraded."))
    return found


@dataclass(frozen=True)
class Saved:
    question: Question
    version: QuestionVersion | None  # None when nothing in the content changed
    findings: tuple[Finding, ...]  # the advice (warnings) given with the save
    pending: bool  # the version awaits approval (an edit of a published question)


def save_question(author: User, data: QuestionInput, question_id: str | None = None,
                  now: datetime | None = None) -> Saved:
    """Create a question (question_id None) or save a new version of one, after the
    checks of `bank check`; its facts are updated to `data.facts`. The caller commits.

    :raise Rejected: the checks found errors (nothing is changed).
    :raise NotFound: no such question. :raise StudioError: it is retired."""
    now = now or utcnow()
    row = editable(question_id) if question_id else None
    if row is not None:
        data = dataclasses.replace(data, topic=row.topic_id)  # a question keeps its topic
    made, findings = _check(data, row)
    question = made.question
    content_hash = question.content_hash() if question else ""
    changed = row is None or row.newest.content_hash != content_hash
    if changed and row is not None and not (data.note.strip() or data.key_correction):
        findings.append(Finding("error", "note", "Say what changed, for the history."))
    if question is None or any(f.level == "error" for f in findings):
        raise Rejected(findings, question_id)
    warnings = tuple(f for f in findings if f.level == "warning")
    facts_changed = _set_facts(question.id, data.facts)
    if not changed:
        if facts_changed:
            audit.record(author, audit.subject("question", row.id), "edited",
                         "Facts tested changed.", {"facts": list(data.facts)})
        return Saved(row, None, warnings, row.pending_edit)
    note = data.reason.strip() if data.key_correction else data.note.strip()
    if row is None:
        row = Question(id=question.id, topic_id=data.topic, status="draft", current_version=1)
        db.session.add(row)
        number = 1
    else:
        number = row.newest.version + 1
    version = QuestionVersion(
        version=number, content=question.content(), content_hash=content_hash,
        created_at=now, author_id=author.id, note=note or "Created in the studio.",
        key_correction=data.key_correction,
    )
    row.versions.append(version)
    pending = row.status == "published"
    if not pending:
        row.current_version = number
    about = audit.subject("question", row.id)
    if number == 1:
        audit.record(author, about, "created", version.note, {"version": 1})
    else:
        audit.record(author, about, "edited", data.note.strip() or note,
                     {"version": number, "pending": pending,
                      "key_correction": data.key_correction,
                      "facts": list(data.facts)})
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise StudioError("Another trainer saved this question (or took its id) a moment"
                          " ago. Open it again and repeat your change.",
                          question_id) from error
    return Saved(row, version, warnings, pending)


def _set_facts(question_id: str, chosen: Iterable[str]) -> bool:
    """List the question under exactly the `chosen` facts; say whether that changed."""
    chosen = set(chosen)
    changed = False
    for fact in db.session.scalars(select(Fact)):
        listed = question_id in fact.question_ids
        if listed and fact.id not in chosen:
            fact.question_ids = [q for q in fact.question_ids if q != question_id]
            changed = True
        elif not listed and fact.id in chosen:
            fact.question_ids = [*fact.question_ids, question_id]
            changed = True
    return changed


# --- The review workflow -------------------------------------------------------------


def _move(row: Question, to: str) -> None:
    if to not in TRANSITIONS[row.status]:
        raise StudioError(f"{row.id} is {row.status}; it cannot become {to}.", row.id)
    row.status = to


def publish_problems(row: Question) -> list[str]:
    """The errors that keep the newest version from being published."""
    bank = snapshot().bank
    question = row.newest.as_bank_question()
    facts = [f.id for f in facts_of(row.id, bank)]
    return [message for level, message in _examine(question, facts, bank, publishing=True)
            if level == "error"]


def _refuse_if_unfit(row: Question, doing: str) -> None:
    problems = publish_problems(row)
    if problems:
        raise StudioError(f"{row.id} cannot be {doing} yet: " + "; ".join(problems)
                          + ". Edit it first.", row.id)


def submit(actor: User, question_id: str) -> Question:
    """Draft -> in review, when the checks find no error. The caller commits."""
    row = get_question(question_id)
    if row.status != "draft":
        raise StudioError(f"{row.id} is {row.status}: only a draft is submitted for"
                          " review.", row.id)
    _refuse_if_unfit(row, "submitted")
    _move(row, "review")
    audit.record(actor, audit.subject("question", row.id), "submitted",
                 f"Version {row.newest.version} submitted for review.",
                 {"version": row.newest.version})
    return row


def approve(reviewer: User, question_id: str) -> Question:
    """Publish the newest version: a question in review, or a published question's
    pending edit. The reviewer must not be the newest version's author.

    :raise SelfApproval: the reviewer wrote the version (403)."""
    row = get_question(question_id)
    if not awaiting_approval(row):
        raise StudioError(f"Nothing of {row.id} awaits approval ({row.status}"
                          f"{', no pending edit' if row.status == 'published' else ''}).",
                          row.id)
    newest = row.newest
    if newest.author_id == reviewer.id:
        raise SelfApproval(
            f"You wrote version {newest.version} of {row.id}, so you cannot approve it:"
            " publishing needs a second trainer. Ask another trainer to review it.", row.id)
    _refuse_if_unfit(row, "published")
    previous = row.latest
    _move(row, "published")
    row.current_version = newest.version
    row.needs_review = False
    row.review_reason = None
    about = audit.subject("question", row.id)
    audit.record(reviewer, about, "approved",
                 f"Version {newest.version} approved and published.",
                 {"version": newest.version, "previous": previous.version,
                  "author_id": newest.author_id})
    if newest.key_correction and previous.version != newest.version:
        audit.record(reviewer, about, "key_corrected", newest.note or "",
                     {"version": newest.version, "previous": previous.version,
                      "old_key": sorted(previous.correct_ids),
                      "new_key": sorted(newest.correct_ids)})
    return row


def send_back(actor: User, question_id: str, comment: str) -> Question:
    """Return a question in review to draft, or a pending edit to its author, with a
    comment saying what to change."""
    row = get_question(question_id)
    comment = comment.strip()
    if not comment:
        raise BadInput("Say what should change.", row.id)
    if not awaiting_approval(row):
        raise StudioError(f"Nothing of {row.id} awaits review.", row.id)
    if row.status == "review":
        _move(row, "draft")
    audit.record(actor, audit.subject("question", row.id), "returned", comment,
                 {"version": row.newest.version})
    return row


def retire(actor: User, question_id: str, reason: str) -> Question:
    """Retire a question (never delete it: attempts keep pointing at its versions).
    Refused when it would leave its topic below the topic's minimum."""
    row = get_question(question_id)
    reason = reason.strip()
    if not reason:
        raise BadInput("Say why it is retired.", row.id)
    if row.status == "retired":
        raise StudioError(f"{row.id} is already retired.", row.id)
    if row.status == "published":
        topic = snapshot().bank.topics.get(row.topic_id)
        published = db.session.scalar(select(func.count(Question.id)).where(
            Question.topic_id == row.topic_id, Question.status == "published"))
        if topic is not None and published - 1 < topic.minimum:
            raise StudioError(
                f"Retiring {row.id} would leave '{topic.name}' with {published - 1}"
                f" published questions, below its minimum of {topic.minimum}. Publish"
                " another question on the topic first.", row.id)
    was = row.status
    _move(row, "retired")
    audit.record(actor, audit.subject("question", row.id), "retired", reason,
                 {"from": was})
    return row


def comment(actor: User, question_id: str, text: str) -> AuditEvent:
    row = get_question(question_id)
    text = text.strip()
    if not text:
        raise BadInput("Write the comment first.", row.id)
    return audit.record(actor, audit.subject("question", row.id), "commented", text,
                        {"version": row.newest.version})


@dataclass(frozen=True)
class QueueEntry:
    question: Question
    reason: str  # "review", "pending", "needs_review", "draft"
    last_returned: AuditEvent | None
    may_approve: bool


@dataclass(frozen=True)
class Queue:
    review: tuple[QueueEntry, ...]
    pending: tuple[QueueEntry, ...]
    needs_review: tuple[QueueEntry, ...]
    drafts: tuple[QueueEntry, ...]


def review_queue(viewer: User) -> Queue:
    """Questions in review, published questions' pending edits, questions flagged
    because a cited section changed, and drafts (a document's drafts among them)."""
    newest = (select(func.max(QuestionVersion.version))
              .where(QuestionVersion.question_id == Question.id).scalar_subquery())
    rows = db.session.scalars(
        select(Question).options(
            selectinload(Question.versions).selectinload(QuestionVersion.author))
        .where(or_(Question.status.in_(("review", "draft")), Question.needs_review.is_(True),
                   (Question.status == "published") & (newest > Question.current_version)))
        .order_by(Question.id)).all()
    subjects = [audit.subject("question", r.id) for r in rows]
    returned = {}
    if subjects:
        for event in db.session.scalars(
            select(AuditEvent).options(selectinload(AuditEvent.actor))
            .where(AuditEvent.subject.in_(subjects), AuditEvent.kind == "returned")
            .order_by(AuditEvent.at, AuditEvent.id)
        ):
            returned[event.subject] = event

    def entry(row: Question, reason: str) -> QueueEntry:
        last = returned.get(audit.subject("question", row.id))
        if last is not None and (last.data or {}).get("version") != row.newest.version:
            last = None  # returned before; a newer version answers it
        return QueueEntry(row, reason, last,
                          awaiting_approval(row) and row.newest.author_id != viewer.id)

    return Queue(
        review=tuple(entry(r, "review") for r in rows if r.status == "review"),
        pending=tuple(entry(r, "pending") for r in rows
                      if r.status == "published" and r.pending_edit),
        needs_review=tuple(entry(r, "needs_review") for r in rows
                           if r.needs_review and r.status != "retired"),
        drafts=tuple(entry(r, "draft") for r in rows if r.status == "draft"),
    )


# --- Preview and history -------------------------------------------------------------

PREVIEW_MODES = ("exam", "practice")


@dataclass(frozen=True)
class Preview:
    question: Question
    version: QuestionVersion
    mode: str
    shown: ShownItem


def preview(question_id: str, mode: str = "exam", version: int | None = None) -> Preview:
    """A version as a trainee sees it: in an exam (no key), or in practice after
    checking the right answer (key, rationales, explanation and sources).

    :raise BadInput: unknown mode. :raise NotFound: no such question or version."""
    if mode not in PREVIEW_MODES:
        raise BadInput(f"Preview mode is 'exam' or 'practice', not '{mode}'.", question_id)
    row = get_question(question_id)
    chosen = row.newest if version is None else next(
        (v for v in row.versions if v.version == version), None)
    if chosen is None:
        raise NotFound(f"{row.id} has no version {version}.", row.id)
    content = chosen.content
    reveal = mode == "practice"
    titles = {d.id: d.title for d in snapshot().bank.documents.values()}
    options = tuple(
        ShownOption(id=f"preview-{o['id']}", text=o["text"], selected=reveal and o["correct"],
                    correct=o["correct"] if reveal else None,
                    rationale=(o.get("rationale") or None) if reveal else None)
        for o in content["options"]
    )
    shown = ShownItem(
        position=1, question_id=row.id, version=chosen.version, topic=row.topic_id,
        type=content["type"], stem=content["stem"], options=options, answered=reveal,
        flagged=False, mark=1.0 if reveal else None,
        explanation=content["explanation"] if reveal else None,
        citations=citation_labels(content, titles) if reveal else (),
        safety_critical=content["safety_critical"], revealed=reveal,
    )
    return Preview(row, chosen, mode, shown)


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # "same", "removed" or "added"


@dataclass(frozen=True)
class FieldDiff:
    label: str
    old: tuple[Segment, ...]
    new: tuple[Segment, ...]

    @property
    def changed(self) -> bool:
        return any(s.kind != "same" for s in (*self.old, *self.new))


def _fields(content: dict | None, titles: dict[str, str]) -> dict[str, str]:
    """A version's content as labelled lines of text, in reading order."""
    if content is None:
        return {}
    yes = {True: "yes", False: "no"}
    lines = {
        "Type": QUESTION_TYPES[content["type"]].label if content["type"] in QUESTION_TYPES
        else content["type"],
        "Stem": content["stem"],
    }
    for option in content["options"]:
        mark = " (correct)" if option["correct"] else ""
        lines[f"Option {option['id']}"] = option["text"] + mark
        lines[f"Option {option['id']}: rationale"] = option.get("rationale", "")
    lines.update({
        "Explanation": content["explanation"],
        "Difficulty": content["difficulty"],
        "Safety-critical": yes[bool(content["safety_critical"])],
        "Risk category": content.get("risk") or "",
        "Client scenario": yes[bool(content.get("scenario"))],
        "Options kept in order": yes[bool(content.get("ordered"))],
        "Practice only": yes[bool(content.get("practice_only"))],
        "Enemies": ", ".join(content.get("enemies", [])),
    })
    for number, source in enumerate(content["sources"], start=1):
        title = titles.get(source["document"], source["document"])
        lines[f"Source {number}"] = f"{title} — {source['section']}: {source['fact']}"
    return lines


def _words_diff(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b,
                                                       autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2]), "same"))
            right.append(Segment("".join(b[j1:j2]), "same"))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), "removed"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), "added"))
    return tuple(left), tuple(right)


def diff(old: dict | None, new: dict | None, titles: dict[str, str]) -> list[FieldDiff]:
    """Field by field, the words removed from `old` and added in `new`."""
    before, after = _fields(old, titles), _fields(new, titles)
    labels = list(before) + [label for label in after if label not in before]
    return [FieldDiff(label, *_words_diff(before.get(label, ""), after.get(label, "")))
            for label in labels]


@dataclass(frozen=True)
class History:
    question: Question
    versions: tuple[QuestionVersion, ...]
    a: QuestionVersion | None
    b: QuestionVersion | None
    diff: tuple[FieldDiff, ...]
    trail: tuple[AuditEvent, ...]


def history(question_id: str, a: int | None = None, b: int | None = None) -> History:
    """Every version with its author, date, note and key-correction mark; two versions
    side by side (the newest and the one before, unless `a` and `b` say which); the
    question's audit trail.

    :raise NotFound: no such question or version."""
    row = get_question(question_id)
    by_number = {v.version: v for v in row.versions}
    newest = row.newest.version
    if b is None:
        b = newest
    if a is None:
        a = b - 1 if b - 1 in by_number else b
    if a not in by_number or b not in by_number:
        missing = a if a not in by_number else b
        raise NotFound(f"{row.id} has no version {missing}.", row.id)
    titles = {d.id: d.title for d in snapshot().bank.documents.values()}
    return History(
        question=row, versions=tuple(reversed(row.versions)), a=by_number[a],
        b=by_number[b],
        diff=tuple(diff(by_number[a].content, by_number[b].content, titles)),
        trail=tuple(trail(row.id)),
    )
