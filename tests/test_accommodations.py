"""Accommodations: extra time and attempts granted by a manager who sees the trainee,
recorded in the audit trail, and enforced by the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from helpers import answer, attempt, items, right_answer, start, statements
from sqlalchemy import select
from support import PASSWORD

from quizapp import accommodations, attempts
from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import (
    Accommodation,
    AuditEvent,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    User,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REASON = "Dyslexia assessment of 12 January: 25% extra reading time."


@pytest.fixture
def cohort(bank_loaded, users):
    """The manager manages a cohort holding the trainee (not the other trainee)."""
    group = Cohort(name="Clinic North")
    db.session.add(group)
    db.session.flush()
    db.session.add_all([CohortMember(cohort_id=group.id, user_id=users["trainee"].id),
                        CohortManager(cohort_id=group.id, user_id=users["manager"].id)])
    db.session.commit()
    return group


def _url(user: User) -> str:
    return f"/manager/trainees/{user.id}/accommodations"


def _grant(client, user, **fields):
    data = {"exam": "certification", "reason": REASON, **fields}
    return client.post(_url(user), data=data)


def _held(user: User) -> Accommodation | None:
    db.session.expire_all()
    return db.session.scalar(select(Accommodation).where(Accommodation.user_id == user.id))


def _events(user: User) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject == f"user:{user.id}", AuditEvent.kind.like("accommodation%"))
        .order_by(AuditEvent.id)).all()


def test_a_manager_reaches_only_the_trainees_of_their_cohorts(bank_loaded, users, client,
                                                              auth):
    auth.login("manager")
    assert client.get(_url(users["trainee"])).status_code == 404  # no cohort yet
    group = Cohort(name="Clinic North")
    db.session.add(group)
    db.session.flush()
    db.session.add_all([CohortMember(cohort_id=group.id, user_id=users["trainee"].id),
                        CohortManager(cohort_id=group.id, user_id=users["manager"].id)])
    db.session.commit()
    assert client.get(_url(users["trainee"])).status_code == 200
    assert client.get(_url(users["other"])).status_code == 404
    assert _grant(client, users["other"], extra_attempts="1").status_code == 404
    assert client.post(_url(users["other"]), data={"remove_exam": "certification"}
                       ).status_code == 404
    assert client.get("/manager/trainees/9999/accommodations").status_code == 404
    assert _held(users["other"]) is None


def test_an_admin_reaches_every_trainee_and_no_one_else(bank_loaded, users, client, auth):
    auth.login("admin")
    assert client.get(_url(users["other"])).status_code == 200
    assert client.get(_url(users["trainer"])).status_code == 404


def test_granting_changing_and_removing_are_recorded(cohort, users, client, auth):
    auth.login("manager")
    trainee = users["trainee"]
    response = _grant(client, trainee, extra_time_percent="25")
    assert response.status_code == 302
    held = _held(trainee)
    assert (held.exam_id, held.extra_time_percent, held.extra_minutes, held.extra_attempts) == (
        "certification", 25, 0, 0)
    assert held.reason == REASON and held.granted_by_id == users["manager"].id
    page = client.get(_url(trainee)).get_data(as_text=True)
    assert "25% extra time" in page and REASON in page and page.count("<h1") == 1
    listing = client.get("/manager/accommodations").get_data(as_text=True)
    assert "Tessa Trainee" in listing and "25% extra time" in listing

    prefilled = client.get(f"{_url(trainee)}?exam=certification").get_data(as_text=True)
    assert 'name="extra_time_percent" type="number" value="25"' in prefilled
    assert _grant(client, trainee, extra_minutes="20", extra_attempts="1",
                  reason="Reviewed: minutes instead.").status_code == 302
    held = _held(trainee)
    assert (held.extra_time_percent, held.extra_minutes, held.extra_attempts) == (0, 20, 1)
    assert client.post(_url(trainee), data={"remove_exam": "certification"}).status_code == 302
    assert _held(trainee) is None
    assert client.post(_url(trainee), data={"remove_exam": "certification"}).status_code == 404

    events = _events(trainee)
    assert [e.kind for e in events] == ["accommodation_granted", "accommodation_changed",
                                        "accommodation_removed"]
    assert all(e.actor_id == users["manager"].id for e in events)
    assert REASON in events[0].message and "25% extra time" in events[0].message
    assert events[1].data == {"exam_id": "certification", "extra_time_percent": 0,
                              "extra_minutes": 20, "extra_attempts": 1}


def test_the_list_shows_only_the_viewers_trainees(cohort, users, client, auth):
    accommodations.grant(users["admin"], users["other"].id,
                         accommodations.Grant("certification", extra_attempts=1,
                                              reason="Illness."), T0)
    db.session.commit()
    auth.login("manager")
    assert "Oscar Other" not in client.get("/manager/accommodations").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert "Oscar Other" in client.get("/manager/accommodations").get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"extra_time_percent": "25", "reason": ""}, "Give the reason"),
    ({"extra_time_percent": "25", "extra_minutes": "10"}, "as a percentage or as minutes"),
    ({"extra_time_percent": "500"}, "from 0 to 200"),
    ({"extra_attempts": "-1"}, "Extra attempts must be a whole number from 0 to 10"),
    ({"extra_minutes": "lots"}, "Not a valid integer value"),
    ({}, "Grant extra time or extra attempts"),
    ({"exam": "practice-devices", "extra_minutes": "10"}, "has no time limit"),
    ({"exam": "no-such-exam", "extra_minutes": "10"}, "There is no exam"),
])
def test_bad_requests_are_refused_with_a_message(cohort, users, client, auth, fields, message):
    auth.login("manager")
    response = _grant(client, users["trainee"], **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _held(users["trainee"]) is None
    assert _events(users["trainee"]) == []


@pytest.mark.parametrize(("grant", "minutes", "told"), [
    ({"extra_time_percent": 50}, 67.5, "67 minutes 30 seconds"),
    ({"extra_minutes": 15}, 60, "60 minutes")])
def test_the_server_enforces_the_extra_time(cohort, users, client, auth, grant, minutes,
                                            told):
    accommodations.grant(users["manager"], users["trainee"].id,
                         accommodations.Grant("certification", reason=REASON, **grant), T0)
    db.session.commit()
    deadline = T0 + timedelta(minutes=minutes)
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login()
        # The trainee is told the time they will get before the clock starts.
        briefing = client.get("/trainee/exams/certification").get_data(as_text=True)
        assert f"{told} (the exam's 45 minutes, with the extra time" in briefing
        assert f"{told}, extra time included" in client.get(
            "/trainee/").get_data(as_text=True)
        attempt_id = start(client)
        assert attempt(attempt_id).deadline == deadline
        first, second = items(attempt_id)[:2]
        # Past the normal 45 minutes and their grace, inside the extended time.
        traveller.shift(timedelta(minutes=55))
        response = answer(client, attempt_id, first, right_answer(first))
        assert response.status_code == 302 and "/questions/" in response.location
        assert items(attempt_id)[0].response == right_answer(first)
        traveller.move_to(deadline + timedelta(seconds=31))  # past the extension's grace
        response = answer(client, attempt_id, second, right_answer(second))
        assert response.location.endswith(f"/trainee/attempts/{attempt_id}/result")
    closed = attempt(attempt_id)
    assert closed.finished and closed.finished_at == deadline
    assert items(attempt_id)[1].response is None


def test_an_attempt_in_progress_keeps_its_deadline_when_time_is_granted(cohort, users, client,
                                                                       auth):
    with time_machine.travel(T0, tick=False):
        auth.login()
        attempt_id = start(client)
    accommodations.grant(users["manager"], users["trainee"].id,
                         accommodations.Grant("certification", extra_time_percent=50,
                                              reason=REASON), T0)
    db.session.commit()
    assert attempt(attempt_id).deadline == T0 + timedelta(minutes=45)


def test_extra_attempts_let_a_trainee_past_the_limit(cohort, users):
    exam = db.session.get(Exam, "certification")
    # Attempts one after another: no wait and no study plan between them here.
    exam.rules_data = {**exam.rules_data, "retake_wait_minutes": 0, "require_remediation": False}
    db.session.commit()
    trainee = users["trainee"]
    for n in range(3):
        began = attempts.start(trainee, exam, T0 + timedelta(hours=n))
        attempts.finish(began, T0 + timedelta(hours=n, minutes=5))
    now = T0 + timedelta(hours=4)
    verdict = attempts.eligibility(trainee, exam, now)
    assert not verdict.allowed and verdict.attempts_left == 0
    assert verdict.reason == "All 3 attempts have been used."
    with pytest.raises(attempts.NotAllowed):
        attempts.start(trainee, exam, now)
    accommodations.grant(users["manager"], trainee.id,
                         accommodations.Grant("certification", extra_attempts=1,
                                              reason="The power failed in the exam room."), now)
    db.session.commit()
    verdict = attempts.eligibility(trainee, exam, now)
    assert verdict.allowed and verdict.attempts_left == 1
    fourth = attempts.start(trainee, exam, now)
    assert fourth.number == 4
    attempts.finish(fourth, now + timedelta(minutes=5))
    verdict = attempts.eligibility(trainee, exam, now + timedelta(hours=1))
    assert not verdict.allowed and verdict.reason == "All 4 attempts have been used."


def test_the_pages_take_as_many_queries_for_many_accommodations_as_for_one(cohort, users,
                                                                           client, auth):
    def count(url):
        with statements() as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    grant = accommodations.Grant("certification", extra_attempts=1, reason="Illness.")
    accommodations.grant(users["admin"], users["trainee"].id, grant, T0)
    db.session.commit()
    auth.login("admin")
    few = count("/manager/accommodations"), count(_url(users["trainee"]))
    for n in range(5):
        person = create_user(f"t{n}@example.com", f"Trainee {n}", PASSWORD, ["trainee"])
        db.session.flush()
        accommodations.grant(users["admin"], person.id, grant, T0)
    db.session.commit()
    assert (count("/manager/accommodations"), count(_url(users["trainee"]))) == few
