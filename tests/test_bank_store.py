"""Importing the bank: idempotent, versioned, retiring rather than deleting."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime

from markupsafe import escape
from sqlalchemy import func, select

from quizapp import attempts
from quizapp.bank import Bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db
from quizapp.models import Exam, Question, QuestionVersion

NOW = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
EDIT = " Answer from what the course documents say."


def with_edit(bank: Bank, qid: str, **changes) -> Bank:
    """A copy of `bank` with one question changed (the shared fixture stays as it is)."""
    edited = copy.copy(bank)
    edited.questions = dict(bank.questions)
    edited.questions[qid] = dataclasses.replace(bank.questions[qid], **changes)
    return edited


def without(bank: Bank, qid: str) -> Bank:
    """A copy of `bank` with one question gone from the files."""
    smaller = copy.copy(bank)
    smaller.questions = {k: v for k, v in bank.questions.items() if k != qid}
    return smaller


def version_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionVersion))


def import_and_commit(bank: Bank):
    report = import_bank(bank)
    db.session.commit()
    return report


def test_first_import_adds_every_question(app, shipped_bank):
    """A first import adds one question with one version per question in the files."""
    report = import_and_commit(shipped_bank)
    assert sorted(report.added) == sorted(shipped_bank.questions)
    assert version_rows() == len(shipped_bank.questions)
    assert {e.id for e in db.session.scalars(select(Exam))} == {d.id for d in shipped_bank.exams}


def test_import_twice_changes_nothing(bank_loaded, shipped_bank):
    """Importing the same bank again adds, versions and retires nothing."""
    before = version_rows()
    report = import_and_commit(shipped_bank)
    assert (report.added, report.new_versions, report.status_changed, report.retired,
            report.exams) == ([], [], [], [], [])
    assert report.unchanged == len(shipped_bank.questions)
    assert version_rows() == before == len(shipped_bank.questions)
    assert ("0 added, 0 new version(s), 0 status change(s), 0 moved topic, 0 retired"
            in report.summary())


def test_edited_question_gets_a_new_version_and_old_attempt_keeps_the_old_text(
    bank_loaded, shipped_bank, users, client, auth
):
    """A changed question becomes version 2; an attempt begun before still shows version 1."""
    trainee = users["trainee"]
    certification = db.session.get(Exam, "certification")
    attempt = attempts.start(trainee, certification, NOW, seed=7)
    item = attempt.items[0]
    qid = item.version.question_id
    old_stem = shipped_bank.questions[qid].stem
    new_stem = old_stem + EDIT

    edited = with_edit(shipped_bank, qid, stem=new_stem)
    report = import_and_commit(edited)
    assert report.new_versions == [qid]
    assert report.added == report.retired == report.status_changed == []

    row = db.session.get(Question, qid)
    assert row.current_version == 2
    assert [(v.version, v.content["stem"]) for v in row.versions] == [
        (1, old_stem), (2, new_stem)]
    assert version_rows() == len(shipped_bank.questions) + 1

    # The attempt still points at version 1, in review and on its question page.
    shown = attempts.shown_item(attempt.items[0], reveal=False, explain=False)
    assert (shown.question_id, shown.version, shown.stem) == (qid, 1, old_stem)
    auth.login()
    page = client.get(f"/trainee/attempts/{attempt.id}/questions/{item.position}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert str(escape(old_stem)) in html
    assert str(escape(EDIT.strip())) not in html

    # New attempts draw from a pool that holds the new version.
    drawable = next(p for p in attempts.published_pool([row.topic_id]) if p.question_id == qid)
    fresh_version = db.session.get(QuestionVersion, drawable.key)
    assert (fresh_version.version, fresh_version.content["stem"]) == (2, new_stem)

    # The trainer sees the current wording.
    auth.logout()
    auth.login("trainer")
    page = client.get(f"/trainer/questions/{qid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert str(escape(new_stem)) in html
    assert "version 2" in html


def test_edit_of_any_versioned_field_makes_a_new_version(bank_loaded, shipped_bank):
    """Not only the stem: a changed difficulty is a new version too."""
    qid = sorted(shipped_bank.questions)[0]
    question = shipped_bank.questions[qid]
    other = "hard" if question.difficulty != "hard" else "easy"
    report = import_and_commit(with_edit(shipped_bank, qid, difficulty=other))
    assert report.new_versions == [qid]
    assert db.session.get(Question, qid).latest.content["difficulty"] == other


def test_removed_question_is_retired_not_deleted(bank_loaded, shipped_bank, users):
    """A question gone from the files keeps its row and versions, with status 'retired'."""
    attempt = attempts.start(users["trainee"], db.session.get(Exam, "certification"), NOW,
                             seed=3)
    qid = attempt.items[0].version.question_id
    before = version_rows()

    report = import_and_commit(without(shipped_bank, qid))
    assert report.retired == [qid]
    assert report.added == report.new_versions == []
    db.session.expire_all()
    row = db.session.get(Question, qid)
    assert row is not None
    assert row.status == "retired"
    assert version_rows() == before
    # No new attempt can draw it, but the attempt that showed it still can.
    assert qid not in {i.question_id for i in attempts.published_pool([row.topic_id])}
    assert attempts.shown_item(attempt.items[0], reveal=False, explain=False).question_id == qid

    # Importing again without it retires nothing more.
    again = import_and_commit(without(shipped_bank, qid))
    assert (again.added, again.new_versions, again.status_changed, again.retired,
            again.moved, again.exams) == ([], [], [], [], [], [])


def test_readded_question_is_restored(bank_loaded, shipped_bank):
    """Putting a retired question back in the files restores its status, same version."""
    qid = sorted(shipped_bank.questions)[-1]
    import_and_commit(without(shipped_bank, qid))
    report = import_and_commit(shipped_bank)
    assert report.status_changed == [qid]
    assert report.added == report.new_versions == report.retired == []
    row = db.session.get(Question, qid)
    assert (row.status, row.current_version) == ("published", 1)
    assert qid in {i.question_id for i in attempts.published_pool([row.topic_id])}


def test_status_from_the_files_is_applied(bank_loaded, shipped_bank):
    """A question marked draft in the files becomes draft without a new version."""
    qid = sorted(shipped_bank.questions)[0]
    report = import_and_commit(with_edit(shipped_bank, qid, status="draft"))
    assert report.status_changed == [qid]
    assert report.new_versions == []
    row = db.session.get(Question, qid)
    assert (row.status, row.current_version) == ("draft", 1)
