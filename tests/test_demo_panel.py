"""What `demo seed-attempts` adds for the console besides attempts: the demo's own
trainees join the demo manager's first cohort, and a panel of three trainers rates every
published question, so that after `make run` a manager who switches the certification
to the modified Angoff method sees each new form held to a mark of its own."""

from __future__ import annotations

import pytest
from helpers import attempt, start
from sqlalchemy import func, select

from quizapp import angoff, demo, exam_settings
from quizapp.cohorts import visible_trainee_ids
from quizapp.extensions import db
from quizapp.models import AngoffRating, Cohort, CohortMember, Question, User, utcnow


def _published() -> list[str]:
    return list(db.session.scalars(select(Question.id).where(Question.status == "published")))


def test_three_trainers_rate_every_published_question_once(bank_loaded):
    report = demo.SeedReport()
    demo._seed_angoff_panel(utcnow(), report)
    published = _published()
    assert report.angoff_ratings == 3 * len(published)
    judges = db.session.scalars(select(User).where(
        User.email.in_([email for _, email, _ in demo.PANEL]))).all()
    assert len(judges) == 3 and all(j.roles == {"trainer"} for j in judges)
    assert angoff.coverage(published, 3) == (len(published), len(published))
    ratings = db.session.scalars(select(AngoffRating.rating)).all()
    assert all(0.25 <= r <= 0.95 and round(r * 20, 6).is_integer() for r in ratings)
    # Harder questions are judged less likely to be answered by the borderline trainee.
    assert len(set(ratings)) > 3

    again = demo.SeedReport()
    demo._seed_angoff_panel(utcnow(), again)
    assert again.angoff_ratings == 0
    assert db.session.scalar(select(func.count()).select_from(AngoffRating)) == len(ratings)


def test_switched_to_angoff_a_new_form_gets_its_own_mark(bank_loaded, users, client, auth):
    demo._seed_angoff_panel(utcnow(), demo.SeedReport())
    exam_settings.save_settings("certification", {"pass_mark_method": "angoff"},
                                users["manager"], "Angoff from the panel's ratings.", utcnow())
    db.session.commit()
    auth.login()
    drawn = attempt(start(client))
    assert drawn.pass_mark_method == "angoff"
    # The form's own mark: the mean of its questions' mean ratings, worked out here from
    # the panel's ratings. (Not "anything but the fixed 80%": a form's ratings can
    # average exactly 80%, and one draw on PostgreSQL did.)
    shown = [item.version.question_id for item in drawn.items]
    given: dict[str, list[float]] = {}
    for question_id, rating in db.session.execute(
            select(AngoffRating.question_id, AngoffRating.rating)
            .where(AngoffRating.question_id.in_(shown))):
        given.setdefault(question_id, []).append(rating)
    assert all(len(given[qid]) == 3 for qid in shown)
    expected = sum(sum(given[qid]) / 3 for qid in shown) * 100 / len(shown)
    assert drawn.pass_mark_percent == pytest.approx(expected, abs=0.005)
    assert 55 <= drawn.pass_mark_percent <= 90


def test_the_demo_trainees_join_the_managers_first_cohort(bank_loaded, users):
    report = demo.SeedReport()
    demo._trainees_in_cohorts(utcnow(), users["manager"], report)
    demo._join_first_cohort(("trainee@example.com", "nobody@example.com"), report)
    demo._join_first_cohort(("trainee@example.com",), report)
    first = db.session.scalar(select(Cohort).where(Cohort.name == demo.COHORTS[0][0]))
    members = db.session.scalars(select(CohortMember.user_id)
                                 .where(CohortMember.cohort_id == first.id)).all()
    assert members.count(users["trainee"].id) == 1
    assert users["trainee"].id in db.session.scalars(visible_trainee_ids(users["manager"])).all()
