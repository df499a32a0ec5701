"""Sources in the studio: uploading a training document, editing its sections (citing
questions are flagged), drafting questions from it (drafts, never drawn)."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from quizapp import attempts, audit, sources, studio
from quizapp.bank.check import check_question
from quizapp.bank.documents import MAX_BYTES, section_fingerprint
from quizapp.bank.drafting import DRAFT_MARKER
from quizapp.extensions import db
from quizapp.models import Document, Question, utcnow

FIXTURES = Path(__file__).parent / "fixtures"
# A short protocol of our own, in plain text: four sections, figures and a list.
PROTOCOL = """Needling Day Checklist

Before Numbing
Confirm the consultation form is signed. Leave the numbing cream on for 20 to 30
minutes, then remove every trace of it.

Who Waits
Clients with psoriasis, rosacea or active cold sores are not treated until the
skin has settled.

Between Sessions
Book the next visit three to five weeks later.

After the Session
Skip make-up for 12 hours and use sunscreen every day.
"""
HEADINGS = ["Before Numbing", "Who Waits", "Between Sessions", "After the Session"]


def post_files(client, url: str, fields: dict):
    """A multipart POST built in memory (the test client spools a large body to a
    temporary file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload(client, name="checklist.txt", data: bytes | None = None, title=""):
    data = PROTOCOL.encode() if data is None else data
    return post_files(client, "/trainer/sources",
                      {"file": FileStorage(BytesIO(data), name), "title": title})


def stored(document_id: str) -> Document:
    db.session.expire_all()
    return db.session.get(Document, document_id)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def trainer(bank_loaded, auth, client):
    auth.login("trainer")
    return client


@pytest.fixture
def checklist(trainer) -> str:
    response = upload(trainer)
    assert response.status_code == 302, text(response)
    return response.location.rsplit("/", 1)[-1]


def draft_all(client, document_id: str, topic: str = "treatment-day",
              picks: list[int] | None = None) -> list[Question]:
    """Propose drafts as the page does and save them (all, or those in `picks`)."""
    page = client.get(f"/trainer/documents/{document_id}/drafts?topic={topic}")
    assert page.status_code == 200
    count = len(sources.proposals(stored(document_id), topic))
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"',
                            text(page)).group(1)
    response = client.post(f"/trainer/documents/{document_id}/drafts", data={
        "topic": topic, "fingerprint": fingerprint,
        "picks": [str(n) for n in picks or range(1, count + 1)]})
    assert response.status_code == 302, text(response)
    db.session.expire_all()
    return sources.drafted_from(stored(document_id))


# --- Uploading ------------------------------------------------------------------------


def test_an_uploaded_protocol_is_stored_with_its_sections(trainer, checklist, users):
    document = stored(checklist)
    assert checklist == "doc-101"
    assert document.title == document.short_title == "Needling Day Checklist"
    assert document.sections == HEADINGS
    assert [t["heading"] for t in document.texts] == HEADINGS
    assert document.texts[2]["text"] == "Book the next visit three to five weeks later."
    assert all(t["fingerprint"] == section_fingerprint(t["text"]) for t in document.texts)
    assert document.uploaded_by_id == users["trainer"].id and document.uploaded_at
    [created] = audit.trail(audit.subject("document", checklist))
    assert created.kind == "created" and created.actor_id == users["trainer"].id

    page = trainer.get(f"/trainer/documents/{checklist}")
    assert page.status_code == 200
    assert "Leave the numbing cream on for 20 to 30" in text(page)
    # Citable like the shipped articles: the editor's choices offer its sections.
    offered = dict(studio.editor_choices("treatment-day").sections)
    assert offered["Needling Day Checklist"] == tuple(HEADINGS)
    # The next upload takes the next id; a title may be given.
    again = upload(trainer, "notes.md", (FIXTURES / "numbing_protocol.md").read_bytes(),
                   title="Clinic numbing sheet")
    assert again.location.endswith("/doc-102")
    assert stored("doc-102").title == "Clinic numbing sheet"
    assert stored("doc-102").sections == ["Before the Session", "Who We Do Not Treat",
                                          "Spacing and Results", "Aftercare"]
    listing = text(trainer.get("/trainer/sources"))
    assert "Clinic numbing sheet" in listing and "Understanding the Process" in listing


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.txt", b"", "is empty"),
    ("blank.txt", b" \n\t\n", "holds no text"),
    ("protocol.docx", b"PK\x03\x04 not read", "not a type that can be read"),
    ("noextension", PROTOCOL.encode(), "not a type that can be read"),
    ("big.txt", b"Heading\n\n" + b"word " * (MAX_BYTES // 5 + 10), "over the 2 MB limit"),
    ("binary.txt", b"\x00\x01\x02binary", "binary file"),
    ("fake.pdf", b"%PDF-1.4 this is not really a pdf", "could not be read as a PDF"),
    ("notpdf.pdf", b"plain words", "no PDF header"),
])
def test_bad_uploads_are_refused_with_the_reason(trainer, name, data, words):
    response = upload(trainer, name, data)
    assert response.status_code == 400
    assert words in text(response)
    assert db.session.scalars(select(Document).where(Document.texts.is_not(None))).all() == []


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(trainer):
    response = upload(trainer, "huge.txt", b"x" * (MAX_BYTES + 512 * 1024))
    assert response.status_code == 413
    assert "MB at most" in text(response)


def test_no_file_is_a_form_error(trainer):
    response = trainer.post("/trainer/sources", data={"title": "x"},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file to upload." in text(response)


def test_odd_unicode_is_cleaned_not_a_crash(trainer):
    odd = ("Cl\u0131nic S\u0308heet\u200b\n\nFirst Part\nWait two weeks\u00ad after a"
           " peel.\u202e\u0007 Then treat.\ufeff\n").encode()
    response = upload(trainer, "odd \u2603 name.txt", odd)
    assert response.status_code == 302, text(response)
    document = stored(response.location.rsplit("/", 1)[-1])
    body = document.texts[0]["text"]
    assert "\u200b" not in body and "\u0007" not in body and "\u202e" not in body
    assert "Wait two weeks after a peel." in body
    # Not UTF-8 at all: read as the Windows code page, not refused with a 500.
    assert upload(trainer, "latin.txt", "Caf\xe9 Notes\n\nSoins\nRest.\n".encode("cp1252")
                  ).status_code == 302


# --- Editing a section ----------------------------------------------------------------


def test_editing_a_section_flags_the_questions_citing_it(trainer, checklist, users):
    drafts = draft_all(trainer, checklist)
    citing = sorted(q.id for q in drafts
                    if q.newest.content["sources"][0]["section"] == "Between Sessions")
    others = [q.id for q in drafts if q.id not in citing]
    assert citing and others

    page = trainer.get(f"/trainer/documents/{checklist}/sections/3")
    assert page.status_code == 200 and "three to five weeks" in text(page)
    response = trainer.post(f"/trainer/documents/{checklist}/sections/3",
                            data={"text": "Book the next visit four to six weeks later."})
    assert response.status_code == 302
    document = stored(checklist)
    assert document.texts[2]["text"] == "Book the next visit four to six weeks later."
    assert document.texts[2]["fingerprint"] == section_fingerprint(document.texts[2]["text"])
    for qid in citing:
        question = db.session.get(Question, qid)
        assert question.needs_review
        assert "Between Sessions" in question.review_reason
        assert [e.kind for e in audit.trail(audit.subject("question", qid))] == [
            "created", "flagged"]
    assert not any(db.session.get(Question, qid).needs_review for qid in others)
    [edited] = [e for e in audit.trail(audit.subject("document", checklist))
                if e.kind == "edited"]
    assert edited.data["flagged"] == citing and edited.actor_id == users["trainer"].id
    assert "needs review" in text(trainer.get(f"/trainer/documents/{checklist}"))


def test_a_published_question_citing_an_edited_section_is_flagged(trainer, checklist):
    """A question citing the section in its newest version is flagged; one that cited
    it only in an older version is not."""
    row = db.session.get(Question, "day-001")
    content = dict(row.newest.content)
    content["sources"] = [*content["sources"], {"document": checklist,
                                               "section": "Before Numbing",
                                               "fact": "Numbing cream stays on a while."}]
    other = db.session.get(Question, "day-002")
    old_content = dict(other.newest.content)
    old_content["sources"] = [{"document": checklist, "section": "Before Numbing",
                               "fact": "Numbing cream stays on a while."}]
    from quizapp.models import QuestionVersion
    row.versions.append(QuestionVersion(version=2, content=content, content_hash="x" * 64))
    other.versions.insert(0, QuestionVersion(version=0, content=old_content,
                                             content_hash="y" * 64))
    db.session.commit()

    trainer.post(f"/trainer/documents/{checklist}/sections/1",
                 data={"text": "Leave the numbing cream on for 25 minutes."})
    db.session.expire_all()
    assert db.session.get(Question, "day-001").needs_review
    assert not db.session.get(Question, "day-002").needs_review


def test_a_change_of_layout_alone_flags_nothing(trainer, checklist):
    draft_all(trainer, checklist)
    before = stored(checklist).texts[0]
    reflowed = before["text"].replace(" then", "\nthen")
    response = trainer.post(f"/trainer/documents/{checklist}/sections/1",
                            data={"text": reflowed})
    assert response.status_code == 302
    assert stored(checklist).texts[0]["fingerprint"] == before["fingerprint"]
    assert not db.session.scalars(select(Question).where(Question.needs_review)).all()


@pytest.mark.parametrize(("url", "data", "status", "words"), [
    ("/trainer/documents/doc-000/sections/1", None, 404, "shipped article"),
    ("/trainer/documents/{doc}/sections/9", None, 404, "has no section 9"),
    ("/trainer/documents/no-such-doc/sections/1", None, 404, ""),
    ("/trainer/documents/{doc}/sections/1", {"text": "   "}, 400, "needs some text"),
    ("/trainer/documents/{doc}/sections/1", {"text": "x" * 20_001}, 400, "at most 20,000"),
])
def test_bad_section_edits(trainer, checklist, url, data, status, words):
    url = url.format(doc=checklist)
    response = trainer.post(url, data=data) if data else trainer.get(url)
    assert response.status_code == status
    assert words in text(response)
    assert stored(checklist).texts[0]["text"].startswith("Confirm the consultation")


# --- Drafting -------------------------------------------------------------------------


def test_drafts_from_the_protocol_are_drafts_citing_its_sections_and_never_drawn(
    trainer, checklist, users
):
    page = trainer.get(f"/trainer/documents/{checklist}/drafts?topic=treatment-day")
    assert page.status_code == 200
    assert "Proposal 1" in text(page) and "DRAFT:" in text(page)
    drafts = draft_all(trainer, checklist)
    assert [q.id for q in drafts] == [f"{checklist}-00{n}" for n in range(1, len(drafts) + 1)]
    assert len(drafts) >= 4
    assert {q.newest.content["type"] for q in drafts} == {"single", "multiple"}
    bank = studio.live_bank()
    for question in drafts:
        version = question.newest
        assert (question.status, question.topic_id, question.current_version) == (
            "draft", "treatment-day", 1)
        assert version.author_id == users["trainer"].id
        assert checklist in version.note
        [source] = version.content["sources"]
        assert source["document"] == checklist and source["section"] in HEADINGS
        # The proposed fact is kept in the citation, to be rewritten.
        assert source["fact"].startswith(DRAFT_MARKER)
        problems = check_question(version.as_bank_question(), bank)
        assert any("placeholder" in p.message for p in problems if p.level == "error")
    pool = {item.question_id for item in attempts.published_pool(["treatment-day"])}
    assert not pool & {q.id for q in drafts}
    # Saving the same proposals again saves nothing twice.
    assert [q.id for q in draft_all(trainer, checklist)] == [q.id for q in drafts]


def test_drafts_of_a_changed_document_must_be_proposed_again(trainer, checklist):
    response = trainer.post(f"/trainer/documents/{checklist}/drafts", data={
        "topic": "treatment-day", "fingerprint": "stale", "picks": ["1"]})
    assert response.status_code == 409
    assert "changed since" in text(response)
    assert sources.drafted_from(stored(checklist)) == []


@pytest.mark.parametrize(("url", "data", "status", "words"), [
    ("/trainer/documents/{doc}/drafts?topic=nope", None, 400, "no topic"),
    ("/trainer/documents/doc-000/drafts?topic=aftercare", None, 400, "not stored"),
    ("/trainer/documents/{doc}/drafts", {"topic": "treatment-day", "picks": []}, 400, ""),
    ("/trainer/documents/{doc}/drafts", {"topic": "treatment-day", "fingerprint": "f",
                                         "picks": ["99"]}, 400, "not a valid choice"),
])
def test_bad_draft_requests(trainer, checklist, url, data, status, words):
    url = url.format(doc=checklist)
    response = trainer.post(url, data=data) if data is not None else trainer.get(url)
    assert response.status_code == status
    assert words in text(response)
    assert sources.drafted_from(stored(checklist)) == []


def test_a_draft_rewritten_and_approved_is_drawn(trainer, checklist, users):
    """The whole journey: upload, draft, rewrite, submit, a second trainer approves,
    and the question is in the practice pool."""
    draft = next(q for q in draft_all(trainer, checklist)
                 if q.newest.content["type"] == "single")
    data = studio.editor_input(draft)
    options = tuple(
        studio.OptionInput(o.letter, o.text, o.correct,
                           "" if o.correct else f"That is not how long the checklist says"
                                                f" ({o.text}).")
        for o in data.options)
    source = data.citations[0]
    rewritten = studio.QuestionInput(
        topic=data.topic, type=data.type,
        stem="How long does the numbing cream stay on before needling?",
        options=options, explanation="The checklist gives 20 to 30 minutes of numbing.",
        difficulty="easy", ordered=True, note="Rewritten in my own words.",
        enemies="day-004",  # the shipped question on numbing time
        citations=(studio.CitationInput(source.document, source.section,
                                        "The numbing cream stays on 20 to 30 minutes."),),
    )
    # Before the rewrite its fact is the draft's proposal, which never becomes a fact.
    response = trainer.post(f"/trainer/documents/{checklist}/facts",
                            data={"question_id": draft.id})
    assert response.status_code == 400 and "rewrite it" in text(response)
    try:
        studio.save_question(users["trainer"], rewritten, draft.id)
    except studio.Rejected as error:
        raise AssertionError(error.findings) from error
    db.session.commit()
    response = trainer.post(f"/trainer/documents/{checklist}/facts",
                            data={"question_id": draft.id})
    assert response.status_code == 302, text(response)
    [fact] = studio.facts_of(draft.id, studio.live_bank())
    assert (fact.id, fact.document, fact.section, fact.fact) == (
        f"{checklist}-fact-001", checklist, "Before Numbing",
        "The numbing cream stays on 20 to 30 minutes.")
    assert "The numbing cream stays on 20 to 30 minutes." in text(
        trainer.get(f"/trainer/documents/{checklist}"))
    studio.submit(users["trainer"], draft.id)
    studio.approve(users["admin"], draft.id)
    db.session.commit()
    assert db.session.get(Question, draft.id).status == "published"
    pool = {item.question_id for item in attempts.published_pool(["treatment-day"])}
    assert draft.id in pool


def test_the_document_page_costs_the_same_queries_whatever_the_bank_size(
    trainer, checklist
):
    def statements() -> int:
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert trainer.get(f"/trainer/documents/{checklist}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count

    draft_all(trainer, checklist, picks=[1])
    few = statements()
    draft_all(trainer, checklist)
    assert len(sources.drafted_from(stored(checklist))) > 1
    assert statements() == few


def test_sources_service_refuses_a_shipped_article(bank_loaded, users):
    with pytest.raises(sources.SourceError, match="not stored"):
        sources.proposals(db.session.get(Document, "doc-000"), "aftercare")
    with pytest.raises(sources.SourceError):
        sources.edit_section(db.session.get(Document, "doc-000"), 1, "x", users["trainer"],
                             utcnow())
