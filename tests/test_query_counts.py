"""Each main page issues the same number of SQL statements whatever the data size.

A page that runs a query per attempt, per item or per trainee (or loads rows into
Python to count them) passes its other tests on a small database and falls over on a
real one; here every page is counted on a small database, then again after other
trainees' finished attempts (with their answers and certificates) have been added,
and the two counts must be equal. No timings: only what the page asks the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import answer_all, items, start, statements, submit
from sqlalchemy import func, insert, select

from quizapp import study
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Certificate,
    Exam,
    Fact,
    NameCorrection,
    Question,
    QuestionVersion,
    Topic,
    User,
    UserRole,
    UserSession,
)


def statements_of(client, method: str, path: str, data: dict | None = None) -> int:
    """The statements one request issues (its status must be a success or redirect)."""
    db.session.remove()
    with statements() as seen:
        response = client.open(path, method=method, data=data)
        response.get_data()
    assert response.status_code in (200, 302), (path, response.status_code)
    db.session.remove()
    return len(seen)


def statements_per_page(client, pages: dict[str, str]) -> dict[str, int]:
    """The statements a GET of each page issues."""
    return {name: statements_of(client, "GET", path) for name, path in pages.items()}


def assert_the_same_when_grown(count, grow) -> None:
    """`count()` (statements per page) gives the same after `grow()` as before; a first
    round fills the caches, which later requests find full."""
    count()
    small = count()
    grow()
    assert count() == small


def grow(trainees: int, attempts_each: int, start_at: int) -> None:
    """Add trainees with finished certification attempts (30 answered items each,
    every other one passed with a certificate), written in bulk."""
    exam = db.session.get(Exam, "certification")
    versions = db.session.execute(
        select(QuestionVersion.id, QuestionVersion.content).join(Question)
        .where(Question.status == "published").order_by(QuestionVersion.id).limit(30)).all()
    now = datetime.now(UTC)
    for n in range(start_at, start_at + trainees):
        user_id = db.session.execute(insert(User).returning(User.id), [{
            "email": f"grown-{n}@example.com", "name": f"Grown Trainee {n}",
            "password_hash": "x", "created_at": now}]).scalar_one()
        db.session.execute(insert(UserRole), [{"user_id": user_id, "role": "trainee"}])
        for number in range(1, attempts_each + 1):
            finished = now - timedelta(days=number, minutes=n)
            passed = number % 2 == 0
            attempt_id = db.session.execute(insert(Attempt).returning(Attempt.id), [{
                "user_id": user_id, "exam_id": exam.id, "state": "finished", "seed": n,
                "rules_data": exam.rules_data, "number": number,
                "pass_mark_percent": 80.0, "pass_mark_method": "fixed",
                "started_at": finished - timedelta(minutes=20),
                "deadline": finished + timedelta(minutes=20), "finished_at": finished,
                "score_percent": 90.0 if passed else 50.0, "passed": passed,
                "fail_reasons": [] if passed else ["Below the pass mark."]}]).scalar_one()
            db.session.execute(insert(AttemptItem), [{
                "attempt_id": attempt_id, "position": p, "question_version_id": vid,
                "option_order": [o["id"] for o in content["options"]],
                "option_tokens": [f"t{p}{k}" for k in range(len(content["options"]))],
                "response": [content["options"][0]["id"]], "sequence": 1,
                "answered_at": finished, "mark": float(p % 2), "seconds_spent": 20.0,
            } for p, (vid, content) in enumerate(versions, start=1)])
            if passed:
                db.session.execute(insert(Certificate), [{
                    "code": f"GROWN{n:04d}{number:03d}", "user_id": user_id,
                    "exam_id": exam.id, "attempt_id": attempt_id,
                    "holder_name": f"Grown Trainee {n}", "title": "Certification",
                    "issued_at": finished, "expires_at": finished + timedelta(days=730)}])
    db.session.commit()


def _sequence(attempt_id: int, position: int) -> int:
    return next(i.sequence for i in items(attempt_id) if i.position == position)


def _exam_pages(client, attempt_id: int, answer_tokens: list[str],
                next_tokens: list[str]) -> dict[str, int]:
    base = f"/trainee/attempts/{attempt_id}"
    counts = {"question": statements_of(client, "GET", f"{base}/questions/2")}
    counts["answer_save"] = statements_of(client, "POST", f"{base}/questions/2/autosave", {
        "answer": answer_tokens[_sequence(attempt_id, 2) % 2],
        "sequence": str(_sequence(attempt_id, 2))})
    counts["answer_and_next"] = statements_of(client, "POST", f"{base}/questions/3", {
        "answer": next_tokens[_sequence(attempt_id, 3) % 2],
        "sequence": str(_sequence(attempt_id, 3)),
        "go": "next"})
    counts["summary"] = statements_of(client, "GET", f"{base}/summary")
    counts["trainee_dashboard"] = statements_of(client, "GET", "/trainee/")
    return counts


@pytest.fixture
def sizes(bank_loaded, users):
    """Grow the database between two measurements: `sizes.grow()`."""

    class Sizes:
        grown = 0

        def grow(self, trainees=6, attempts_each=4):
            grow(trainees, attempts_each, self.grown)
            self.grown += trainees

    return Sizes()


def test_the_exam_pages_issue_as_many_statements_on_a_larger_database(
        sizes, client, auth):
    sizes.grow(trainees=1, attempts_each=1)
    auth.login()
    attempt_id = start(client)
    shown = items(attempt_id)
    answers = (shown[1].option_tokens[:2], shown[2].option_tokens[:2])
    assert_the_same_when_grown(lambda: _exam_pages(client, attempt_id, *answers), sizes.grow)


def test_the_result_and_verify_pages_issue_as_many_statements_on_a_larger_database(
        sizes, client, auth):
    sizes.grow(trainees=1, attempts_each=2)
    auth.login()
    attempt_id = start(client)
    answer_all(client, attempt_id)
    assert submit(client, attempt_id).status_code == 302
    code = db.session.scalar(select(Certificate.code).where(
        Certificate.attempt_id == attempt_id))
    assert code is not None

    pages = {"result": f"/trainee/attempts/{attempt_id}/result",
             "trainee_dashboard": "/trainee/", "verify": f"/verify/{code}"}
    assert_the_same_when_grown(lambda: statements_per_page(client, pages), sizes.grow)


def test_a_failed_result_issues_as_many_statements_on_a_larger_database(
        sizes, client, auth):
    sizes.grow(trainees=1, attempts_each=1)
    auth.login()
    attempt_id = start(client)
    assert submit(client, attempt_id).status_code == 302  # nothing answered: a fail

    pages = {"result": f"/trainee/attempts/{attempt_id}/result", "trainee_dashboard": "/trainee/"}
    assert_the_same_when_grown(lambda: statements_per_page(client, pages), sizes.grow)


def test_the_manager_pages_issue_as_many_statements_on_a_larger_database(
        sizes, client, auth):
    sizes.grow(trainees=2, attempts_each=2)
    auth.login("admin")
    trainee = db.session.scalar(select(User.id).where(User.email == "grown-0@example.com"))
    attempt = db.session.scalar(select(Attempt.id).where(Attempt.user_id == trainee)
                                .order_by(Attempt.id).limit(1))
    pages = {
        "manager_dashboard": "/manager/",
        "trainee_list": "/manager/trainees",
        "trainee_detail": f"/manager/trainees/{trainee}",
        "transcript": f"/manager/attempts/{attempt}",
        "item_analysis": "/manager/exams/certification/items",
        "attempts_csv": "/manager/exports/attempts.csv",
        "certificates_csv": "/manager/exports/certificates.csv",
    }

    assert_the_same_when_grown(lambda: statements_per_page(client, pages), sizes.grow)


def test_the_certificate_account_and_admin_pages_issue_as_many_statements_with_more_rows(
        sizes, users, client, auth):
    """The pages other tests do not count: a certificate's page, its status for
    machines, name corrections waiting, cohorts, accounts, the audit trail, and the
    signed-in person's devices, each with more of the rows it lists."""
    sizes.grow(trainees=2, attempts_each=2)
    auth.login("admin")
    admin_id = users["admin"].id

    def more_rows(start_at: int) -> None:
        now = datetime.now(UTC)
        certificates = db.session.scalars(select(Certificate.id).order_by(Certificate.id)
                                          .offset(start_at)).all()
        db.session.execute(insert(NameCorrection), [{
            "certificate_id": c, "requested_name": f"Corrected Name {c}",
            "requested_at": now} for c in certificates])
        db.session.execute(insert(UserSession), [{
            "id": f"{start_at:04d}{n:060d}", "user_id": admin_id, "created_at": now,
            "last_seen_at": now, "user_agent": f"Device {n}"} for n in range(5)])
        db.session.commit()

    more_rows(0)
    first = db.session.scalar(select(Certificate).order_by(Certificate.id).limit(1))
    pages = {
        "certificate": f"/manager/certificates/{first.id}",
        "certificate_status": f"/verify/{first.code}/status.json",
        "name_corrections": "/manager/name-corrections",
        "cohorts": "/manager/cohorts",
        "accounts": "/manager/users",
        "audit": "/manager/audit",
        "account_sessions": "/auth/account",
    }

    def grow_all() -> None:
        grown_certificates = db.session.scalar(select(func.count()).select_from(Certificate))
        sizes.grow()
        more_rows(grown_certificates)

    assert_the_same_when_grown(lambda: statements_per_page(client, pages), grow_all)


def test_starting_an_attempt_writes_its_items_in_one_statement(bank_loaded, users, client,
                                                               auth):
    auth.login()
    with statements() as seen:
        response = client.post("/trainee/exams/certification/start")
    assert response.status_code == 302
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT INTO ATTEMPT_ITEM")]
    assert len(inserts) == 1
    assert len(items(start(client))) == 30  # resumed: the same attempt, all its items


def test_study_notes_take_one_statement_with_or_without_facts(bank_loaded):
    """A result page's "notes to open" are asked for even when the missed questions
    link no fact, so a page's statements do not depend on what was drawn."""
    fact_ids = list(db.session.scalars(select(Fact.id).limit(3)))
    assert fact_ids
    topics = db.session.scalars(select(Topic).order_by(Topic.position)).all()
    with statements() as none:
        assert study.notes_by_topic([], topics) == []
    with statements() as some:
        assert study.notes_by_topic(fact_ids, topics)
    assert len(none) == len(some) == 1
