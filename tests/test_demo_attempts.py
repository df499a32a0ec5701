"""`flask demo seed-attempts`: simulated trainees take the shipped bank's exams through
the app's attempt functions; the planted wrong key is flagged "check the key"; the
cohorts have the attempts the dashboard shows; the exam's rules held; a second run
changes nothing.

Seeding takes a while (thousands of answers, each committed as in the app), so it
runs once for the module, on a database of the module's own."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import PASSWORD, make_app

from quizapp import accounts, demo, item_analysis, study
from quizapp.bank_store import import_bank
from quizapp.cohorts import ReportFilter
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    User,
    utcnow,
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, shipped_bank):
    """The app after `demo seed-attempts`, with the command's output."""
    app = make_app(tmp_path_factory.mktemp("demo-attempts"))
    with app.app_context():
        if os.environ.get("TEST_DATABASE_URL"):
            db.drop_all()
        db.create_all()
        import_bank(shipped_bank)
        accounts.create_user("manager@example.com", "Mina Manager", PASSWORD, ["manager"])
        db.session.commit()
        started = utcnow()
        result = app.test_cli_runner().invoke(args=["demo", "seed-attempts"])
        assert result.exit_code == 0, result.output
        yield app, result.output, started
        db.session.remove()
        if os.environ.get("TEST_DATABASE_URL"):
            db.drop_all()
        db.engine.dispose()


def test_the_planted_wrong_key_is_flagged_check_the_key(seeded):
    _app, output, _started = seeded
    assert f"Planted wrong key: {demo.PLANTED_QUESTION}" in output
    analysis = item_analysis.analyse(None, ReportFilter(exam_id="certification"))
    planted = next(q for q in analysis.questions if q.question_id == demo.PLANTED_QUESTION)
    assert planted.stats.responses >= 30  # first attempts alone: the default minimum
    assert planted.stats.discrimination < 0
    assert "check the key" in planted.stats.labels
    # The simulated answers of every other question follow the key, so it stands out
    # (a very easy question may dip below zero by chance, as in real exams).
    others = [q.stats.discrimination for q in analysis.questions
              if q.stats.enough_data and q.question_id != demo.PLANTED_QUESTION
              and q.stats.discrimination is not None]
    assert planted.stats.discrimination < min(others)
    # And the rest look like a real exam: reliable, most questions discriminating.
    assert analysis.stats.attempts == demo.TRAINEES
    assert analysis.stats.alpha > 0.7
    assert sum(d >= 15 for d in others) > len(others) / 2


def test_the_cohorts_have_trainees_and_attempts_for_the_dashboard(seeded):
    manager = db.session.scalar(select(User).where(User.email == "manager@example.com"))
    rows = db.session.execute(
        select(Cohort.name, func.count(func.distinct(Attempt.user_id)), func.count(Attempt.id))
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .join(Attempt, (Attempt.user_id == CohortMember.user_id)
              & (Attempt.exam_id == "certification") & (Attempt.state == "finished"))
        .group_by(Cohort.name)).all()
    assert {name for name, _, _ in rows} == {name for name, _, _ in demo.COHORTS}
    assert all(people >= 15 and attempts >= people for _, people, attempts in rows)
    managed = set(db.session.scalars(
        select(Cohort.name).join(CohortManager, CohortManager.cohort_id == Cohort.id)
        .where(CohortManager.user_id == manager.id)))
    assert managed == {name for name, _, mine in demo.COHORTS if mine}
    # The manager sees only their cohorts' attempts in a report.
    theirs = item_analysis.analyse(manager, ReportFilter(exam_id="certification"))
    assert 0 < theirs.stats.attempts < demo.TRAINEES
    # Practice, passes and fails are all there.
    kinds = dict(db.session.execute(
        select(Exam.kind, func.count(Attempt.id)).join(Attempt, Attempt.exam_id == Exam.id)
        .group_by(Exam.kind)).all())
    assert kinds["practice"] > 0 and kinds["certification"] > demo.TRAINEES
    passed = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.exam_id == "certification", Attempt.passed.is_(True)))
    assert 0 < passed < kinds["certification"]


def test_the_exams_rules_held_for_every_simulated_trainee(seeded):
    _app, _output, started = seeded
    certification = db.session.get(Exam, "certification").rules
    assert db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.state != "finished")) == 0
    by_user = defaultdict(list)
    for attempt in db.session.scalars(
            select(Attempt).where(Attempt.exam_id == "certification")
            .order_by(Attempt.user_id, Attempt.started_at)):
        by_user[attempt.user_id].append(attempt)
    for attempts in by_user.values():
        assert len(attempts) <= certification.attempts_allowed
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
        assert all(not a.passed for a in attempts[:-1])  # nobody sits again once certified
        for before, after in zip(attempts, attempts[1:], strict=False):
            assert after.started_at >= before.finished_at + certification.retake_wait
            # The study plan the fail set was done, before the retake.
            assert study.remediation_for(before.user, before).done
        for attempt in attempts:
            assert attempt.finished_at <= attempt.deadline
            assert started - timedelta(days=demo.DAYS + 1) < attempt.started_at < started
    # Time on each question was recorded, as the pages record it.
    assert db.session.scalar(select(func.min(AttemptItem.seconds_spent))) > 0


def test_a_second_run_changes_nothing(seeded):
    app, _output, _started = seeded

    def counts():
        return [db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Cohort, CohortMember, Attempt, AttemptItem)]

    before = counts()
    result = app.test_cli_runner().invoke(args=["demo", "seed-attempts"])
    assert result.exit_code == 0
    assert "seeded already; nothing changed" in result.output
    assert counts() == before
