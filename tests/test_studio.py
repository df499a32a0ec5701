"""The trainer studio: the bank browser, the editor with the checks of `bank check`,
versions and their history, preview, and the review workflow with its second trainer."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest
from helpers import answer_all, statements, submit
from helpers import start as start_exam
from markupsafe import escape
from sqlalchemy import func, select
from support import PASSWORD

from quizapp import attempts, audit, exam_rules, studio
from quizapp.accounts import create_user
from quizapp.bank.check import check_bank
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AuditEvent,
    Exam,
    Fact,
    Question,
    QuestionVersion,
    User,
    utcnow,
)

SECOND = ("second@example.com", "Sam Second")
TOPIC = "consultation"
FACT = "consult-assess-and-plan"  # doc-000, The Microneedling Process

Opt = studio.OptionInput
Cite = studio.CitationInput


def new_input(**changes) -> studio.QuestionInput:
    """A consultation question that passes every check."""
    data = studio.QuestionInput(
        topic=TOPIC, type="single",
        stem="A new client books a first appointment. Which record should the practitioner"
             " keep from that meeting?",
        options=(
            Opt("", "Photographs of the area with written goals agreed with the client", True,
              "Photographs and goals give a baseline to judge the results against."),
            Opt("", "A receipt for the numbing cream sold at the desk", False,
              "A receipt says nothing about the skin or the plan."),
            Opt("", "The brand of needle cartridge planned for later visits", False,
              "The cartridge is chosen on the day, by depth and area."),
            Opt("", "A list of the client's favourite skincare shops", False,
              "Where the client shops does not shape the treatment plan."),
            Opt("", "", False, ""), Opt("", "", False, ""),
        ),
        explanation="Photographs and agreed goals recorded at the consultation let client and"
                    " practitioner compare the results later.",
        difficulty="medium", scenario=True, facts=(FACT,),
        citations=(Cite("doc-000", "The Microneedling Process",
                     "The professional assesses the skin and agrees a treatment plan at the"
                     " consultation."), Cite("", "", ""), Cite("", "", ""), Cite("", "", "")),
    )
    return dataclasses.replace(data, **changes)


def form_of(data: studio.QuestionInput) -> dict:
    """The editor's input as the editor's form posts it."""
    posted = {"type": data.type, "stem": data.stem, "explanation": data.explanation,
              "difficulty": data.difficulty, "risk": data.risk, "enemies": data.enemies,
              "facts": list(data.facts), "note": data.note, "reason": data.reason}
    for name in ("safety_critical", "scenario", "ordered", "practice_only", "key_correction"):
        if getattr(data, name):
            posted[name] = "y"
    options = list(data.options) + [Opt("", "", False, "")] * (6 - len(data.options))
    for n, option in enumerate(options):
        posted |= {f"options-{n}-letter": option.letter, f"options-{n}-text": option.text,
                   f"options-{n}-rationale": option.rationale}
        if option.correct:
            posted[f"options-{n}-correct"] = "y"
    citations = list(data.citations) + [Cite("", "", "")] * (4 - len(data.citations))
    for n, citation in enumerate(citations):
        posted |= {f"citations-{n}-document": citation.document,
                   f"citations-{n}-section": citation.section,
                   f"citations-{n}-fact": citation.fact}
    return posted


def edited(question_id: str, **changes) -> studio.QuestionInput:
    row = studio.get_question(question_id)
    return dataclasses.replace(studio.editor_input(row), **changes)


@pytest.fixture
def trainers(bank_loaded, users):
    second = create_user(*SECOND, PASSWORD, ["trainer"])
    db.session.commit()
    return users["trainer"], second


@pytest.fixture
def as_person(app):
    """A signed-in test client per person (several people act in one test)."""
    clients = {}

    def client(email: str):
        if email not in clients:
            clients[email] = app.test_client()
            response = clients[email].post("/auth/login",
                                           data={"email": email, "password": PASSWORD})
            assert response.status_code == 302
        return clients[email]

    return client


@pytest.fixture
def tom(trainers, as_person):
    return as_person("trainer@example.com")


@pytest.fixture
def sam(trainers, as_person):
    return as_person(SECOND[0])


def question(question_id: str) -> Question:
    db.session.expire_all()
    return db.session.get(Question, question_id)


def text(response) -> str:
    return response.get_data(as_text=True)


def create(client, data: studio.QuestionInput | None = None) -> str:
    data = data or new_input()
    response = client.post(f"/trainer/questions/new?topic={data.topic}", data=form_of(data))
    assert response.status_code == 302, text(response)[:3000]
    return response.location.rsplit("/", 1)[-1]


def pool_keys(topic: str = TOPIC) -> set[int]:
    return {item.key for item in attempts.published_pool([topic])}


# --- Ids and the live bank ----------------------------------------------------------


def test_new_questions_take_the_next_id_of_their_topic(bank_loaded):
    assert studio.next_question_id("treatment-day") == "day-017"
    assert studio.next_question_id("consultation") == "consult-011"
    # A document's drafts in the topic do not change its prefix.
    db.session.add(Question(id="doc-000-001", topic_id="consultation", status="draft"))
    db.session.add(Question(id="doc-000-002", topic_id="consultation", status="draft"))
    db.session.add(Question(id="doc-000-003", topic_id="consultation", status="draft"))
    assert studio.next_question_id("consultation") == "consult-011"


def test_the_live_bank_is_the_files_bank(bank_loaded, shipped_bank):
    live = studio.live_bank()
    assert set(live.questions) == set(shipped_bank.questions)
    assert all(live.questions[q].content_hash() == shipped_bank.questions[q].content_hash()
               for q in shipped_bank.questions)
    assert {t.id: t.minimum for t in live.topics.values()} == {
        t.id: t.minimum for t in shipped_bank.topics.values()}
    assert live.risk_categories == shipped_bank.risk_categories
    assert set(live.facts) == set(shipped_bank.facts)
    assert [e.id for e in live.exams] == [e.id for e in shipped_bank.exams]
    assert [p for p in check_bank(live) if p.level == "error"] == []
    # A copy each time: changing one changes nothing else.
    live.questions.clear()
    assert studio.live_bank().questions


# --- The whole workflow -------------------------------------------------------------


def test_create_submit_approve_by_a_second_trainer_and_practise_it(trainers, tom, sam, app,
                                                                  as_person):
    author, second = trainers
    qid = create(tom)
    assert qid == "consult-011"
    row = question(qid)
    assert (row.status, row.current_version, row.newest.author_id) == ("draft", 1, author.id)
    assert qid in db.session.get(Fact, FACT).question_ids
    version_id = row.newest.id
    assert version_id not in pool_keys()

    assert tom.post(f"/trainer/questions/{qid}/submit").status_code == 302
    assert question(qid).status == "review"
    assert version_id not in pool_keys()

    refused = tom.post(f"/trainer/questions/{qid}/approve")
    assert refused.status_code == 403
    assert "another trainer" in text(refused) or "second trainer" in text(refused)
    assert question(qid).status == "review"

    queue = text(sam.get("/trainer/review"))
    assert qid in queue and "may approve it" in queue
    assert sam.post(f"/trainer/questions/{qid}/approve").status_code == 302
    assert question(qid).status == "published"
    assert version_id in pool_keys()
    kinds = [e.kind for e in audit.trail(audit.subject("question", qid))]
    assert kinds == ["created", "submitted", "approved"]

    # It is drawn into a practice quiz on its topic.
    trainee = db.session.scalar(select(User).where(User.email == "trainee@example.com"))
    exam = db.session.get(Exam, f"practice-{TOPIC}")
    rules = exam.rules
    pool = exam_rules.pool_for(rules, attempts.published_pool(rules.blueprint.topics))
    seed = next(s for s in range(200) if version_id in {
        item.key for item in exam_rules.draw_form(rules.blueprint, pool, random.Random(s),
                                                  {}, fill=False)})
    attempt = attempts.start(trainee, exam, utcnow(), seed=seed)
    assert version_id in {item.question_version_id for item in attempt.items}


def test_an_edit_of_a_published_question_waits_for_approval(trainers, tom, sam):
    live = question("consult-001").latest.id
    data = edited("consult-001", stem="What does the microneedling process normally begin"
                                      " with?", note="Say 'normally', as the source does.")
    response = tom.post("/trainer/questions/consult-001/edit", data=form_of(data))
    assert response.status_code == 302, text(response)[:2000]
    row = question("consult-001")
    assert (row.status, row.current_version, row.newest.version) == ("published", 1, 2)
    assert row.pending_edit and row.newest.note == "Say 'normally', as the source does."
    assert live in pool_keys() and row.newest.id not in pool_keys()
    assert "awaits approval" in text(tom.get("/trainer/questions/consult-001"))
    assert "consult-001" in text(tom.get("/trainer/questions?status=pending"))

    assert tom.post("/trainer/questions/consult-001/approve").status_code == 403
    assert question("consult-001").current_version == 1
    assert sam.post("/trainer/questions/consult-001/approve").status_code == 302
    row = question("consult-001")
    assert row.current_version == 2 and not row.pending_edit
    assert row.latest.id in pool_keys() and live not in pool_keys()

    page = text(tom.get("/trainer/questions/consult-001/history"))
    assert "Say &#39;normally&#39;, as the source does." in page
    assert re.search(r"<ins>normally </ins>|<ins>normally</ins>", page)
    assert "usually" in page and re.search(r"<del>usually ?</del>", page)
    assert "Tom Trainer" in page and "Approved" in page


def test_an_earlier_attempts_review_is_unchanged_by_an_approved_edit(trainers, tom, sam,
                                                                    as_person):
    trainee = as_person("trainee@example.com")
    attempt_id = start_exam(trainee, f"practice-{TOPIC}")
    answer_all(trainee, attempt_id)
    submit(trainee, attempt_id)
    finished = db.session.get(Attempt, attempt_id)
    before = {item.question_id: item for item in attempts.review_items(finished)}
    qid = finished.items[0].version.question_id

    def result_page() -> str:  # the page without its CSRF token, which is made anew
        page = text(trainee.get(f"/trainee/attempts/{attempt_id}/result"))
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page)

    old_page = result_page()
    assert str(escape(before[qid].stem)) in old_page

    new_stem = "Reworded: " + before[qid].stem
    response = tom.post(f"/trainer/questions/{qid}/edit",
                        data=form_of(edited(qid, stem=new_stem, note="Reworded.")))
    assert response.status_code == 302, text(response)[:3000]
    assert sam.post(f"/trainer/questions/{qid}/approve").status_code == 302
    assert question(qid).current_version == 2

    db.session.expire_all()
    after = {item.question_id: item for item in
             attempts.review_items(db.session.get(Attempt, attempt_id))}
    assert after == before
    page = result_page()
    assert page == old_page
    assert str(escape(new_stem)) not in page


# --- The editor ---------------------------------------------------------------------


def test_editor_errors_are_shown_beside_their_fields_and_nothing_is_saved(trainers, tom):
    options = list(new_input().options)
    options[1] = Opt("", options[1].text, False, "")  # a wrong option without its rationale
    data = new_input(stem="", options=tuple(options),
                     citations=(Cite("doc-000", "No such section", "Some fact."),))
    counts = (db.session.scalar(select(func.count(Question.id))),
              db.session.scalar(select(func.count(QuestionVersion.id))),
              db.session.scalar(select(func.count(AuditEvent.id))))
    response = tom.post(f"/trainer/questions/new?topic={TOPIC}", data=form_of(data))
    assert response.status_code == 400
    page = text(response)
    assert "Not saved" in page

    def notes(field_id: str) -> str:
        found = re.search(rf'<div class="notes" id="{field_id}-notes">(.*?)</div>', page, re.S)
        assert found, f"no notes beside {field_id}"
        return found.group(1)

    assert "&#39;stem&#39; must be non-empty text" in notes("stem")
    assert "needs a &#39;rationale&#39;" in notes("options-1-rationale")
    assert "is not a section of doc-000" in notes("citations-0-section")
    assert 'aria-describedby="stem-notes"' in page
    assert counts == (db.session.scalar(select(func.count(Question.id))),
                      db.session.scalar(select(func.count(QuestionVersion.id))),
                      db.session.scalar(select(func.count(AuditEvent.id))))
    assert FACT and "consult-011" not in db.session.get(Fact, FACT).question_ids


def test_the_editor_runs_the_checks_of_bank_check(trainers, tom):
    """Item-writing rules, risk categories and the facts' citations, placed by field."""
    options = list(new_input().options)
    options[3] = Opt("", "All of the above", False, "Not all of them are records.")
    data = new_input(options=tuple(options), safety_critical=True, facts=("consult-right-for-you",))
    findings = {(f.field, f.level) for f in studio.check_input(data)}
    assert ("options-3-text", "error") in findings  # "all of the above"
    assert ("risk", "error") in findings  # safety-critical without a risk category
    assert ("options", "error") in findings  # too few cautious wrong options
    # consult-right-for-you is on another section than the one cited
    assert ("facts", "error") in findings
    response = tom.post(f"/trainer/questions/new?topic={TOPIC}", data=form_of(data))
    assert response.status_code == 400


def test_advice_does_not_block_saving(trainers, tom):
    options = list(new_input().options)
    options[2] = Opt("", "The needle cartridge brand, always chosen in advance", False,
                   "The cartridge is chosen on the day, by depth and area.")
    response = tom.post(f"/trainer/questions/new?topic={TOPIC}",
                        data=form_of(new_input(options=tuple(options))))
    assert response.status_code == 302
    page = text(tom.get(response.location))
    assert "Advice:" in page and "absolute word" in page
    assert question("consult-011").status == "draft"


def test_a_near_duplicate_is_an_error_unless_they_are_enemies(trainers, tom):
    original = question("consult-001").latest.content
    key = next(o["text"] for o in original["options"] if o["correct"])
    options = list(new_input().options)
    options[0] = Opt("", key, True, "")
    data = new_input(stem=original["stem"], options=tuple(options), scenario=False)
    response = tom.post(f"/trainer/questions/new?topic={TOPIC}", data=form_of(data))
    assert response.status_code == 400
    assert "near-duplicate of consult-001" in text(response)
    assert [f.field for f in studio.check_input(data)] == ["stem"]
    response = tom.post(f"/trainer/questions/new?topic={TOPIC}",
                        data=form_of(dataclasses.replace(data, enemies="consult-001")))
    assert response.status_code == 302


def test_an_edit_needs_a_note_and_a_question_keeps_its_option_ids(trainers, tom):
    data = edited("consult-001")
    options = list(data.options)
    dropped = options.pop(1)  # b goes
    options.append(Opt("", "A short call to book the first session", False,
                     "Booking is not a step of the process itself."))
    data = dataclasses.replace(data, options=tuple(options))
    response = tom.post("/trainer/questions/consult-001/edit", data=form_of(data))
    assert response.status_code == 400 and "Say what changed" in text(response)
    response = tom.post("/trainer/questions/consult-001/edit",
                        data=form_of(dataclasses.replace(data, note="Swap an option.")))
    assert response.status_code == 302
    letters = [o["id"] for o in question("consult-001").newest.content["options"]]
    assert dropped.letter == "b" and "b" not in letters and letters == ["a", "c", "d", "e"]


def test_saving_updates_the_facts_a_question_tests(trainers, tom):
    other = "consult-begins-with-consultation"  # same section as FACT
    assert "consult-004" in db.session.get(Fact, FACT).question_ids
    data = edited("consult-004", facts=(other,), note="Tests the first step now.")
    data = dataclasses.replace(data, citations=(
        Cite("doc-000", "The Microneedling Process", data.citations[0].fact),))
    response = tom.post("/trainer/questions/consult-004/edit", data=form_of(data))
    assert response.status_code == 302, text(response)[:3000]
    db.session.expire_all()
    assert "consult-004" not in db.session.get(Fact, FACT).question_ids
    assert "consult-004" in db.session.get(Fact, other).question_ids


def test_a_key_correction_needs_a_changed_key_and_a_reason(trainers, tom, sam):
    data = edited("consult-001")
    options = [dataclasses.replace(o, correct=o.letter == "a",
                                   rationale=o.rationale or "The consultation comes first.")
               for o in data.options]
    wrong_key = dataclasses.replace(data, options=tuple(options), key_correction=True)
    response = tom.post("/trainer/questions/consult-001/edit", data=form_of(wrong_key))
    assert response.status_code == 400 and "why the old key was wrong" in text(response)
    same_key = dataclasses.replace(data, key_correction=True, reason="It was wrong.",
                                   note="x")
    response = tom.post("/trainer/questions/consult-001/edit", data=form_of(same_key))
    assert response.status_code == 400 and "The key is the same" in text(response)

    # Changing the key without the mark is allowed, with advice to mark it.
    findings = studio.check_input(dataclasses.replace(wrong_key, key_correction=False),
                                  "consult-001")
    assert any(f.field == "key_correction" and f.level == "warning" for f in findings)

    reason = "The source names the patch test first for this device."
    response = tom.post("/trainer/questions/consult-001/edit",
                        data=form_of(dataclasses.replace(wrong_key, reason=reason)))
    assert response.status_code == 302, text(response)[:3000]
    row = question("consult-001")
    assert row.newest.key_correction and row.newest.note == reason and row.current_version == 1
    assert sam.post("/trainer/questions/consult-001/approve").status_code == 302
    corrected = [e for e in audit.trail(audit.subject("question", "consult-001"))
                 if e.kind == "key_corrected"]
    assert len(corrected) == 1 and corrected[0].message == reason
    assert corrected[0].data["old_key"] == ["c"] and corrected[0].data["new_key"] == ["a"]
    assert "key correction" in text(tom.get("/trainer/questions/consult-001/history"))


def test_the_editor_shows_the_banks_guessability_as_advice(trainers, tom):
    page = text(tom.get("/trainer/questions/consult-001/edit"))
    assert "guessability: certification pool" in page
    assert 'name="options-0-letter" type="hidden" value="a"' in page


# --- Preview, history ---------------------------------------------------------------


def test_preview_shows_the_question_as_a_trainee_sees_it(trainers, tom):
    content = question("consult-001").latest.content
    wrong = next(o for o in content["options"] if not o["correct"])
    exam = text(tom.get("/trainer/questions/consult-001/preview?mode=exam"))
    assert content["stem"] in exam and wrong["text"] in exam
    assert "Correct answer" not in exam and wrong["rationale"][:40] not in exam
    assert "<form" not in exam.split('<main id="main"')[1].split("</main>")[0]
    practice = text(tom.get("/trainer/questions/consult-001/preview?mode=practice"))
    assert "Correct answer" in practice and content["explanation"][:40] in practice
    assert "Source:" in practice
    assert tom.get("/trainer/questions/consult-001/preview?mode=quiz").status_code == 400
    assert tom.get("/trainer/questions/consult-001/preview?version=7").status_code == 404
    assert tom.get("/trainer/questions/consult-001/preview?version=x").status_code == 400


def test_history_lists_versions_and_the_audit_trail(trainers, tom, sam):
    tom.post("/trainer/questions/consult-002/comment", data={"comment-text": "Check the"
                                                             " wording of option c."})
    tom.post("/trainer/questions/consult-002/edit", data=form_of(edited(
        "consult-002", explanation=edited("consult-002").explanation + " Always ask.",
        note="Add a line.")))
    page = text(tom.get("/trainer/questions/consult-002/history"))
    assert "Check the wording of option c." in page and "Commented" in page
    assert "pending" in page and "Add a line." in page
    assert "<ins>" in page and "Explanation" in page
    assert tom.get("/trainer/questions/consult-002/history?a=1&b=1").status_code == 200
    assert tom.get("/trainer/questions/consult-002/history?a=1&b=5").status_code == 404
    assert tom.get("/trainer/questions/consult-002/history?a=one").status_code == 400


# --- The review workflow ------------------------------------------------------------


def test_return_with_a_comment_and_retire(trainers, tom, sam):
    qid = create(tom)
    tom.post(f"/trainer/questions/{qid}/submit")
    response = sam.post(f"/trainer/questions/{qid}/return", data={"return-text": ""})
    assert response.status_code == 400 and question(qid).status == "review"
    response = sam.post(f"/trainer/questions/{qid}/return",
                        data={"return-text": "Name the photographs' purpose."})
    assert response.status_code == 302 and question(qid).status == "draft"
    assert "Name the photographs" in text(tom.get("/trainer/review"))

    assert tom.post(f"/trainer/questions/{qid}/retire", data={}).status_code == 400
    response = tom.post(f"/trainer/questions/{qid}/retire",
                        data={"retire-text": "Covered by consult-004."})
    assert response.status_code == 302
    assert question(qid).status == "retired"  # kept, not deleted
    assert tom.get(f"/trainer/questions/{qid}/edit").status_code == 409
    kinds = [e.kind for e in audit.trail(audit.subject("question", qid))]
    assert kinds == ["created", "submitted", "returned", "retired"]


def test_retiring_stops_at_the_topics_minimum(trainers):
    author, _ = trainers
    published = db.session.scalars(select(Question.id).where(
        Question.topic_id == TOPIC, Question.status == "published")).all()
    minimum = studio.live_bank().topics[TOPIC].minimum
    for qid in published[: len(published) - minimum]:
        studio.retire(author, qid, "Testing the minimum.")
    with pytest.raises(studio.StudioError, match="below its minimum"):
        studio.retire(author, published[-1], "One too many.")


def test_submitting_runs_the_publishing_checks(trainers, tom):
    qid = create(tom, new_input(facts=()))  # a draft need not test a fact yet ...
    response = tom.post(f"/trainer/questions/{qid}/submit")
    assert response.status_code == 409  # ... but it must before review
    assert "listed under a fact" in text(response)
    assert question(qid).status == "draft"


# --- The bank browser ---------------------------------------------------------------


def test_browser_filters_searches_sorts_and_pages(trainers, tom):
    page = text(tom.get("/trainer/questions"))
    assert "138 questions, page 1 of 6" in page
    assert len(re.findall(r'<th role="rowheader" scope="row"><a href="/trainer/questions/',
                          page)) == 25
    assert 'href="/trainer/questions?page=2"' in page
    last = text(tom.get("/trainer/questions?page=6"))
    assert len(re.findall(r'scope="row"><a href="/trainer/questions/', last)) == 138 - 125
    assert "page 6 of 6" in text(tom.get("/trainer/questions?page=99"))

    topic = text(tom.get(f"/trainer/questions?topic={TOPIC}"))
    assert "10 questions" in topic and "contra-001" not in topic
    found = text(tom.get("/trainer/questions?q=isotretinoin"))
    assert "contra-" in found and "consult-001" not in found
    assert "1 question" in text(tom.get("/trainer/questions?q=CONSULT-001"))
    paged = text(tom.get(f"/trainer/questions?topic={TOPIC}&sort=updated"))
    assert "10 questions" in paged
    safety = text(tom.get("/trainer/questions?safety=yes&type=single&difficulty=hard"))
    assert "questions" in safety
    risky = text(tom.get("/trainer/questions?risk=medication"))
    assert "safety-critical: medication" in risky

    qid = create(tom)
    drafts = text(tom.get("/trainer/questions?status=draft"))
    assert "1 question" in drafts and qid in drafts
    assert "139 questions" in text(tom.get("/trainer/questions"))
    assert "Published questions per topic" in page and "Minimum" in page

    assert tom.get("/trainer/questions?status=bogus").status_code == 400
    assert tom.get("/trainer/questions?page=x").status_code == 400
    assert tom.get("/trainer/questions?topic=nope").status_code == 400


def test_browser_finds_what_the_checker_flags(trainers):
    author, _ = trainers
    shot = studio.snapshot()
    flagged = [r for r in shot.rows if r.findings]
    page = studio.browse(studio.BrowseQuery(lint="flagged"))
    assert page.total == len(flagged)
    clean = studio.browse(studio.BrowseQuery(lint="clean"))
    assert clean.total + page.total == 138
    # A question saved with advice is flagged at once.
    options = list(new_input().options)
    options[2] = Opt("", "The needle cartridge brand, always chosen in advance", False,
                   "The cartridge is chosen on the day, by depth and area.")
    studio.save_question(author, new_input(options=tuple(options)))
    db.session.commit()
    found = studio.browse(studio.BrowseQuery(lint="flagged", status="draft"))
    assert [r.id for r in found.rows] == ["consult-011"]
    assert found.rows[0].warnings == 1


def test_the_checked_bank_is_kept_until_the_database_changes(trainers):
    author, _ = trainers
    first = studio.snapshot()
    assert studio.snapshot() is first
    studio.comment(author, "consult-001", "A comment changes the audit trail.")
    db.session.commit()
    second = studio.snapshot()
    assert second is not first and studio.snapshot() is second




def _add_questions(count: int) -> None:
    template = db.session.get(Question, "consult-001")
    for n in range(count):
        qid = f"extra-{n:03d}"
        row = Question(id=qid, topic_id=template.topic_id, status="published",
                       current_version=1)
        content = dict(template.latest.content, stem=f"Extra question number {n}: what"
                                                    f" comes first, {n}?")
        row.versions.append(QuestionVersion(version=1, content=content,
                                            content_hash=f"{n:064d}"))
        db.session.add(row)
    db.session.commit()


def test_the_browser_page_costs_the_same_queries_whatever_the_banks_size(trainers, tom):
    def cost(url: str) -> tuple[int, int]:
        with statements() as cold:
            assert tom.get(url).status_code == 200
        with statements() as warm:
            assert tom.get(url).status_code == 200
        return len(cold), len(warm)

    url = "/trainer/questions?sort=updated"
    small = cost(url)
    _add_questions(40)
    large = cost(url)
    assert "178 questions" in text(tom.get(url))
    assert small == large
    assert small[1] <= 4  # warm: the person, their roles, the fingerprint


def test_the_history_page_costs_the_same_queries_whatever_its_length(trainers, tom):
    def cost() -> int:
        with statements() as seen:
            assert tom.get("/trainer/questions/consult-003/history").status_code == 200
        return len(seen)

    author, second = trainers

    def edit(n: int) -> None:
        studio.save_question(author if n % 2 else second, edited(
            "consult-003", explanation=edited("consult-003").explanation + f" Note {n}.",
            note=f"Edit {n}."))
        studio.comment(second, "consult-003", f"Comment {n}.")
        db.session.commit()

    edit(0)
    tom.get("/trainer/questions/consult-003/history")
    short = cost()
    for n in range(1, 6):
        edit(n)
    tom.get("/trainer/questions/consult-003/history")
    assert cost() == short


# --- Access -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/trainer/questions/nope", "/trainer/questions/nope/edit",
    "/trainer/questions/nope/preview", "/trainer/questions/nope/history",
    "/trainer/questions/new?topic=nope"])
def test_unknown_questions_and_topics_are_not_found(tom, path):
    assert tom.get(path).status_code == 404


@pytest.mark.parametrize("action", ["submit", "approve", "return", "retire", "comment"])
def test_actions_on_an_unknown_question_are_not_found(tom, action):
    data = {"return-text": "x", "retire-text": "x", "comment-text": "x"}
    assert tom.post(f"/trainer/questions/nope/{action}", data=data).status_code == 404


def test_approving_what_awaits_nothing_is_a_conflict(trainers, tom):
    response = tom.post("/trainer/questions/consult-001/approve")
    assert response.status_code == 409
    assert "awaits approval" in text(response)


@pytest.mark.parametrize("who", ["trainee", "manager"])
def test_other_roles_cannot_use_the_studio(bank_loaded, auth, client, who):
    auth.login(who)
    assert client.get("/trainer/questions").status_code == 403
    assert client.get("/trainer/review").status_code == 403
    assert client.get(f"/trainer/questions/new?topic={TOPIC}").status_code == 403
    response = client.post(f"/trainer/questions/new?topic={TOPIC}", data=form_of(new_input()))
    assert response.status_code == 403
    assert client.post("/trainer/questions/consult-001/approve").status_code == 403
    assert db.session.get(Question, "consult-011") is None


def test_an_admin_may_approve_a_trainers_question(trainers, tom, auth, client):
    qid = create(tom)
    tom.post(f"/trainer/questions/{qid}/submit")
    auth.login("admin")
    assert client.post(f"/trainer/questions/{qid}/approve").status_code == 302
    assert question(qid).status == "published"



@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_the_studio_forms_carry_their_csrf_tokens(bank_loaded, users, client):
    def token(page: str, name: str = "csrf_token") -> str:
        return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)

    login = text(client.get("/auth/login"))
    client.post("/auth/login", data={"email": "trainer@example.com", "password": PASSWORD,
                                     "csrf_token": token(login)})
    page = text(client.get("/trainer/questions/consult-001"))
    response = client.post("/trainer/questions/consult-001/comment", data={
        "comment-csrf_token": token(page, "comment-csrf_token"), "comment-text": "Fine."})
    assert response.status_code == 302
    editor = text(client.get(f"/trainer/questions/new?topic={TOPIC}"))
    response = client.post(f"/trainer/questions/new?topic={TOPIC}",
                           data=form_of(new_input()) | {"csrf_token": token(editor)})
    assert response.status_code == 302
    page = text(client.get(response.location))
    response = client.post(f"/trainer/questions/{response.location.rsplit('/', 1)[-1]}/submit",
                           data={"csrf_token": token(page)})
    assert response.status_code == 302
