"""Training documents in the app: upload one, edit its sections, draft questions from it.

An uploaded document is stored as a `Document` with its sections' headings (what a
citation names, as for the shipped articles) and their texts, each with a
fingerprint. Editing a section whose words change flags every question whose newest
version cites that section, so a trainer checks it against the new text. Drafting
proposes questions with `bank.drafting` and saves the ones the trainer keeps as new
questions in status "draft": never drawn, and refused by the checker until the
trainer has rewritten every "DRAFT:" placeholder, the proposed fact included (it is
kept as the draft's citation's `fact`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from quizapp import audit
from quizapp.bank import documents as reading
from quizapp.bank import drafting
from quizapp.bank.check import RISK_REQUIRED_FACT_TOPICS
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Document, Fact, Question, QuestionVersion, Topic, User

FIRST_UPLOADED_NUMBER = 101  # doc-101 on: clear of the shipped articles' doc-000 ...
ID_SHAPE = re.compile(r"^doc-(\d+)$")
TITLE_LIMIT = 200  # Document.short_title's length
SECTION_TEXT_LIMIT = 20_000  # characters; a section is a page or two, not a book


class SourceError(ServiceError):
    """A request the sources cannot carry out; the message says why, for the trainer."""

    status = 400


@dataclass(frozen=True)
class CitingQuestion:
    id: str
    status: str
    needs_review: bool


@dataclass(frozen=True)
class SectionView:
    number: int  # 1-based, as the pages name it
    heading: str
    text: str | None  # None for the shipped articles, whose text is not stored
    citing: tuple[CitingQuestion, ...]
    facts: tuple[Fact, ...]  # the bank's facts on this section


# --- Reading ------------------------------------------------------------------------


def documents() -> list[Document]:
    """Every document, the shipped articles first, then uploads in the order made."""
    rows = db.session.scalars(select(Document)).all()
    return sorted(rows, key=lambda d: (d.texts is not None, _number(d.id), d.id))


def _number(document_id: str) -> int:
    match = ID_SHAPE.match(document_id)
    return int(match.group(1)) if match else -1


def citing_questions() -> dict[tuple[str, str], list[CitingQuestion]]:
    """(document, section) -> the questions whose newest version cites it, not retired."""
    rows = db.session.scalars(
        select(Question).where(Question.status != "retired").order_by(Question.id)
        .options(selectinload(Question.versions))
    ).all()
    found: dict[tuple[str, str], list[CitingQuestion]] = {}
    for row in rows:
        cited = {(s["document"], s["section"]) for s in row.newest.content["sources"]}
        for key in cited:
            found.setdefault(key, []).append(
                CitingQuestion(row.id, row.status, row.needs_review))
    return found


def sections(document: Document) -> list[SectionView]:
    """A document's sections with their text (uploads) and the questions citing each."""
    citing = citing_questions()
    texts = {t["heading"]: t["text"] for t in document.texts or ()}
    facts: dict[str, list[Fact]] = {}
    for fact in db.session.scalars(select(Fact).where(Fact.document_id == document.id)
                                   .order_by(Fact.position, Fact.id)):
        facts.setdefault(fact.section, []).append(fact)
    return [
        SectionView(number, heading, texts.get(heading) if document.texts else None,
                    tuple(citing.get((document.id, heading), ())),
                    tuple(facts.get(heading, ())))
        for number, heading in enumerate(document.sections, start=1)
    ]


def parsed(document: Document) -> reading.ParsedDocument:
    """An uploaded document as `bank.documents` reads it, for drafting."""
    if document.texts is None:
        raise SourceError(
            f"The text of {document.title} is not stored (only uploaded documents keep"
            " theirs), so nothing can be drafted from it.")
    return reading.ParsedDocument(
        title=document.title, kind="text",
        sections=tuple(reading.Section(t["heading"], t["text"]) for t in document.texts),
    )


def texts_fingerprint(document: Document) -> str:
    """One hash of all the document's section texts: a page of proposals made from
    one state of the document is refused once the document has changed."""
    joined = "\x1f".join(t["fingerprint"] for t in document.texts or ())
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


# --- Uploading ----------------------------------------------------------------------


def upload(filename: str, data: bytes, uploader: User, now: datetime,
           title: str = "") -> Document:
    """Store an uploaded document (text, Markdown or PDF) with its sections; the
    caller commits. Raise SourceError with the reason when it cannot be read."""
    try:
        document = reading.read_document(filename or "", data)
    except reading.DocumentError as error:
        raise SourceError(str(error)) from error
    title = " ".join((title or document.title).split())[:TITLE_LIMIT].strip()
    if not title:
        raise SourceError("The document needs a title.")
    row = Document(
        id=_next_id(), title=title, short_title=title,
        sections=list(document.headings),
        texts=[{"heading": s.heading, "text": s.text, "fingerprint": s.fingerprint}
               for s in document.sections],
        uploaded_by_id=uploader.id, uploaded_at=now,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(uploader, audit.subject("document", row.id), "created",
                 f"Uploaded {filename} ({document.kind}) as {row.id}, with"
                 f" {len(document.sections)} section(s).",
                 {"sections": list(document.headings)})
    return row


def _next_id() -> str:
    numbers = [_number(d) for d in db.session.scalars(select(Document.id))]
    return f"doc-{max([FIRST_UPLOADED_NUMBER - 1, *numbers]) + 1}"


# --- Editing a section --------------------------------------------------------------


def section_number(document: Document, number: int) -> str:
    """The heading of an uploaded document's section by its number, or SourceError 404."""
    if document.texts is None:
        raise SourceError(f"{document.title} is a shipped article: its text is not stored"
                          " here, so its sections cannot be edited.", status=404)
    if not 1 <= number <= len(document.sections):
        raise SourceError(f"{document.title} has no section {number}.", status=404)
    return document.sections[number - 1]


def edit_section(document: Document, number: int, text: str, editor: User,
                 now: datetime) -> list[str]:
    """Replace one section's text; if its words changed, flag every question whose
    newest version cites the section. Return the ids flagged; the caller commits."""
    heading = section_number(document, number)
    text = _section_text(text)
    fingerprint = reading.section_fingerprint(text)
    texts = [dict(t) for t in document.texts]
    entry = next(t for t in texts if t["heading"] == heading)
    if entry["fingerprint"] == fingerprint:
        if entry["text"] != text:  # only the layout changed: keep it, flag nothing
            entry["text"] = text
            document.texts = texts
        return []
    old = entry["fingerprint"]
    entry.update(text=text, fingerprint=fingerprint)
    document.texts = texts  # a new list, so the JSON column is written
    flagged = []
    reason = (f"Section '{heading}' of {document.title} ({document.id}) was edited by"
              f" {editor.name} on {now:%d %b %Y}: check the question against the new text.")
    for cited in citing_questions().get((document.id, heading), ()):
        row = db.session.get(Question, cited.id)
        row.needs_review = True
        row.review_reason = reason
        audit.record(editor, audit.subject("question", row.id), "flagged", reason,
                     {"document": document.id, "section": heading})
        flagged.append(row.id)
    audit.record(editor, audit.subject("document", document.id), "edited",
                 f"Edited section '{heading}'"
                 + (f"; flagged {', '.join(flagged)} for review." if flagged else "."),
                 {"section": heading, "old_fingerprint": old, "new_fingerprint": fingerprint,
                  "flagged": flagged})
    return flagged


def _section_text(text: str) -> str:
    text = reading.clean_text(text or "")
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not text:
        raise SourceError("A section needs some text; to drop what it says, write what"
                          " should stand in its place.")
    if len(text) > SECTION_TEXT_LIMIT:
        raise SourceError(f"The text is {len(text):,} characters; a section may hold at"
                          f" most {SECTION_TEXT_LIMIT:,}. Split the document instead.")
    return text


# --- Drafting -----------------------------------------------------------------------


def proposals(document: Document, topic_id: str) -> list[drafting.Draft]:
    """The drafts the document gives, numbered from 1 (nothing is written): what a
    trainer picks from. Saving gives them the next free ids."""
    if db.session.get(Topic, topic_id) is None:
        raise SourceError(f"There is no topic '{topic_id}'.")
    return drafting.draft_questions(parsed(document), document.id, topic_id, 1,
                                    id_prefix=document.id)


def save_drafts(document: Document, topic_id: str, picked: list[int], fingerprint: str,
                author: User, now: datetime) -> list[Question]:
    """Save the proposals numbered in `picked` (1-based) as new questions in status
    "draft", version 1 by `author`. A proposal saved before (same stem, drafted from
    this document) is not saved twice. The caller commits."""
    if fingerprint != texts_fingerprint(document):
        raise SourceError("The document has changed since these proposals were made:"
                          " open the proposals again.", status=409)
    offered = proposals(document, topic_id)
    if not picked:
        raise SourceError("Choose at least one proposal to save.")
    if any(not 1 <= number <= len(offered) for number in picked):
        raise SourceError("That proposal is not on the list: open the proposals again.")
    prefix = f"{document.id}-"
    taken = db.session.scalars(select(Question).where(Question.id.like(prefix + "%"))).all()
    seen = {row.versions[0].content["stem"] for row in taken}
    number = max([0, *(int(q.id[len(prefix):]) for q in taken
                       if q.id[len(prefix):].isdigit())]) + 1
    saved = []
    for index in sorted(set(picked)):
        draft = offered[index - 1]
        if draft.question.stem in seen:
            continue
        question = dataclasses.replace(draft.question, id=f"{prefix}{number:03d}")
        number += 1
        note = (f"Drafted from {document.title} ({document.id}), section"
                f" '{draft.section}': {draft.sentence}")
        row = Question(id=question.id, topic_id=topic_id, status="draft", current_version=1)
        row.versions.append(QuestionVersion(
            version=1, content=question.content(), content_hash=question.content_hash(),
            author_id=author.id, note=note, created_at=now))
        db.session.add(row)
        audit.record(author, audit.subject("question", row.id), "created", note,
                     {"document": document.id, "section": draft.section,
                      "kind": draft.kind})
        seen.add(question.stem)
        saved.append(row)
    db.session.flush()
    return saved


def add_fact(document: Document, question_id: str, actor: User) -> Fact:
    """Make the fact a question states for this document (its citation's `fact`, once
    the trainer has rewritten the draft's proposal) a fact of the bank, and list the
    question under it: a question is published only when a fact lists it. The fact
    is the trainee's study note, so a placeholder never becomes one. The caller
    commits."""
    row = db.session.get(Question, question_id)
    if row is None:
        raise SourceError(f"There is no question '{question_id}'.", status=404)
    citation = next((s for s in row.newest.content["sources"]
                     if s["document"] == document.id), None)
    if citation is None:
        raise SourceError(f"{row.id} does not cite {document.title}.")
    text = " ".join(citation["fact"].split())
    if text.upper().startswith(drafting.DRAFT_MARKER):
        raise SourceError(f"The fact of {row.id} is still the draft's proposal: rewrite it"
                          " in your own words in the editor first.")
    existing = db.session.scalars(select(Fact).where(
        Fact.document_id == document.id, Fact.section == citation["section"],
        Fact.text == text)).first()
    if existing is not None:
        if row.id not in existing.question_ids:
            existing.question_ids = [*existing.question_ids, row.id]
        fact = existing
    else:
        risk = row.newest.content.get("risk")
        if risk is None and row.topic_id in RISK_REQUIRED_FACT_TOPICS:
            raise SourceError(f"A {row.topic_id} fact names its kind of risk: make {row.id}"
                              " safety-critical with a risk category first.")
        prefix = f"{document.id}-fact-"
        taken = db.session.scalars(select(Fact.id).where(Fact.id.like(prefix + "%"))).all()
        number = max([0, *(int(f[len(prefix):]) for f in taken
                           if f[len(prefix):].isdigit())]) + 1
        position = db.session.scalar(select(func.max(Fact.position))) or 0
        fact = Fact(id=f"{prefix}{number:03d}", topic_id=row.topic_id,
                    document_id=document.id, section=citation["section"], text=text,
                    risk=risk, question_ids=[row.id], position=position + 1)
        db.session.add(fact)
    audit.record(actor, audit.subject("question", row.id), "edited",
                 f"Listed under the fact {fact.id}: {text}", {"facts": [fact.id]})
    db.session.flush()
    return fact


def drafted_from(document: Document) -> list[Question]:
    """The questions drafted from a document, in id order."""
    # Their versions with them: the page shows each one's newest wording.
    return list(db.session.scalars(
        select(Question).where(Question.id.like(f"{document.id}-%")).order_by(Question.id)
        .options(selectinload(Question.versions))))
