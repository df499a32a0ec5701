"""The manager's pages about trainees (issue 9, items 3 and 11): the list with each
trainee's certification and latest certification result (never a practice one), a
trainee's record, the transcript of an attempt as it was shown; who sees whom (404
alike for an unknown trainee and for another manager's); a constant number of
queries whatever the number of attempts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from html import unescape

import pytest
from helpers import items, right_answer, statements, tokens, wrong_answer
from markupsafe import escape
from sqlalchemy import func, insert, select
from support import PASSWORD

from quizapp import attempts, audit, transcripts
from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    AuditEvent,
    Certificate,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    User,
    UserRole,
    utcnow,
)

GRACE = timedelta(seconds=30)
CERTIFICATION, PRACTICE = "certification", "practice-aftercare"


@pytest.fixture
def world(bank_loaded, users):
    """Two cohorts: Maya manages "North" (Tessa's), Mo manages "South" (Oscar's)."""
    mo = create_user("mo@example.com", "Mo Manager", PASSWORD, ["manager"])
    north, south = Cohort(name="North"), Cohort(name="South")
    db.session.add_all([north, south])
    db.session.flush()
    db.session.add_all([
        CohortManager(cohort_id=north.id, user_id=users["manager"].id),
        CohortManager(cohort_id=south.id, user_id=mo.id),
        CohortMember(cohort_id=north.id, user_id=users["trainee"].id),
        CohortMember(cohort_id=south.id, user_id=users["other"].id),
    ])
    db.session.commit()
    return {"north": north.id, "south": south.id, "mo": mo, **users}


def _take(user: User, exam_id: str, wrong: int = 0, finish: bool = True,
          when=None) -> Attempt:
    """Start an exam through the attempt service, answer it (the first `wrong`
    questions wrongly) and, unless told not to, submit it."""
    now = when or utcnow()
    attempt = attempts.start(user, db.session.get(Exam, exam_id), now)
    for item in items(attempt.id):
        choice = wrong_answer(item) if item.position <= wrong else right_answer(item)
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(tokens(item, choice)), item.sequence),
                             now, GRACE)
    if finish:
        attempts.finish(attempt, now)
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def _text(response) -> str:
    """The page's words as a reader sees them: tags dropped, entities (an apostrophe is
    &#39;) decoded, runs of white space made one."""
    words = unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r"\s+", " ", words)


# --- Who sees whom ---------------------------------------------------------------------


def test_a_manager_sees_only_their_cohorts_trainees(world, client, auth):
    auth.login("manager")
    page = _text(client.get("/manager/trainees"))
    assert "Tessa Trainee" in page and "Oscar Other" not in page
    assert "1 trainee" in page


def test_another_managers_trainee_is_a_404_like_an_unknown_one(world, client, auth):
    oscar = world["other"]
    theirs = _take(oscar, PRACTICE)
    auth.login("manager")
    foreign = client.get(f"/manager/trainees/{oscar.id}")
    unknown = client.get("/manager/trainees/987654")
    assert foreign.status_code == unknown.status_code == 404
    assert _text(foreign) == _text(unknown)  # the same page (but for its CSRF token)
    assert client.get(f"/manager/attempts/{theirs.id}").status_code == 404
    assert client.get("/manager/attempts/987654").status_code == 404
    assert client.get(f"/manager/trainees?cohort={world['south']}").status_code == 404
    assert client.get("/manager/trainees?cohort=987654").status_code == 404
    assert client.get("/manager/trainees?cohort=north").status_code == 404
    assert client.get(f"/manager/trainees/{2**64}").status_code == 404
    assert client.get(f"/manager/attempts/{2**64}").status_code == 404


def test_an_admin_sees_every_trainee_and_staff_are_not_trainees(world, client, auth):
    _take(world["other"], PRACTICE)
    auth.login("admin")
    page = _text(client.get("/manager/trainees"))
    assert "Tessa Trainee" in page and "Oscar Other" in page
    assert "Maya Manager" not in page and "Tom Trainer" not in page
    assert client.get(f"/manager/trainees/{world['other'].id}").status_code == 200
    assert client.get(f"/manager/trainees/{world['manager'].id}").status_code == 404
    only_south = _text(client.get(f"/manager/trainees?cohort={world['south']}"))
    assert "Oscar Other" in only_south and "Tessa Trainee" not in only_south


def test_cohort_names_shown_are_only_the_viewers(world, client, auth):
    tessa = world["trainee"]
    db.session.add(CohortMember(cohort_id=world["south"], user_id=tessa.id))
    db.session.commit()
    [row] = transcripts.trainee_list(world["manager"], transcripts.TraineeQuery(), 1,
                                     utcnow()).rows
    assert row.cohorts == ("North",)
    admin_rows = transcripts.trainee_list(world["admin"], transcripts.TraineeQuery(), 1,
                                          utcnow()).rows
    assert {r.name: r.cohorts for r in admin_rows}["Tessa Trainee"] == ("North", "South")


# --- The list --------------------------------------------------------------------------


def test_the_latest_certification_result_never_shows_practice(world, client, auth):
    """The bug in the issue: a certified trainee who practises showed as
    "Practice: Aftercare 0%"."""
    tessa = world["trainee"]
    passed = _take(tessa, CERTIFICATION)
    assert passed.passed
    practice = _take(tessa, PRACTICE, wrong=99)
    assert practice.score_percent == 0 and practice.finished_at >= passed.finished_at
    [row] = transcripts.trainee_list(world["manager"], transcripts.TraineeQuery(), 1,
                                     utcnow()).rows
    assert row.latest.attempt_id == passed.id
    assert row.latest.exam_title == "Microneedling Practitioner Certification"
    assert row.latest.score_percent == 100 and row.latest.passed
    assert row.certification == "certified" and row.practice_attempts == 1
    auth.login("manager")
    page = _text(client.get("/manager/trainees"))
    assert "100%, passed" in page and " 0%" not in page
    assert "Practice: Aftercare" not in page


def _certificate(user: User, issued_days_ago: int, valid_days: int | None,
                 revoked: bool = False) -> None:
    now = utcnow()
    issued = now - timedelta(days=issued_days_ago)
    db.session.add(Certificate(
        code=hashlib.sha256(f"{user.id}{issued_days_ago}{valid_days}".encode()).hexdigest()[:32]
        .upper(), user_id=user.id, exam_id=CERTIFICATION, attempt_id=None,
        holder_name=user.name, title="Microneedling Practitioner Certification",
        issued_at=issued,
        expires_at=None if valid_days is None else issued + timedelta(days=valid_days),
        revoked_at=now if revoked else None))


def _trainee(name: str, cohort_id: int) -> User:
    user = create_user(f"{name.split()[0].lower()}@example.com", name, PASSWORD, ["trainee"])
    db.session.add(CohortMember(cohort_id=cohort_id, user_id=user.id))
    return user


def _failed_attempts(user: User, count: int, after=None) -> None:
    exam = db.session.get(Exam, CERTIFICATION)
    start = (after or utcnow() - timedelta(days=30)) + timedelta(days=1)
    already = db.session.scalar(select(func.count()).select_from(Attempt)
                                .where(Attempt.user_id == user.id))
    for n in range(count):
        db.session.add(Attempt(
            user_id=user.id, exam_id=CERTIFICATION, state="finished", seed=n,
            rules_data=exam.rules_data, number=already + n + 1,
            started_at=start + timedelta(days=2 * n),
            finished_at=start + timedelta(days=2 * n, minutes=40), score_percent=50.0,
            passed=False, pass_mark_percent=80.0, pass_mark_method="fixed"))


def test_status_filters(world, client, auth):
    north = world["north"]
    certified = _trainee("Cora Certified", north)
    _certificate(certified, issued_days_ago=10, valid_days=700)
    expiring = _trainee("Ezra Expiring", north)
    _certificate(expiring, issued_days_ago=700, valid_days=730)
    expired = _trainee("Elsa Expired", north)
    _certificate(expired, issued_days_ago=800, valid_days=730)
    revoked = _trainee("Rory Revoked", north)
    _certificate(revoked, issued_days_ago=10, valid_days=700, revoked=True)
    locked = _trainee("Lola Locked", north)
    _failed_attempts(locked, 3)
    extra = _trainee("Ed Extra", north)  # three fails, but an extra attempt was granted
    _failed_attempts(extra, 3)
    db.session.flush()
    from quizapp.models import Accommodation
    db.session.add(Accommodation(user_id=extra.id, exam_id=CERTIFICATION, extra_attempts=1,
                                 reason="Exam anxiety plan."))
    two = _trainee("Tim Two", north)
    _failed_attempts(two, 2)
    # Three fails, then a pass (its certificate since lapsed), then one fail: attempts
    # count from the last pass, so one of three is used.
    recertifying = _trainee("Pat Passed", north)
    _failed_attempts(recertifying, 3)
    db.session.flush()
    passed = db.session.scalars(select(Attempt).where(Attempt.user_id == recertifying.id)
                                .order_by(Attempt.finished_at.desc())).first()
    passed.passed, passed.score_percent = True, 90.0
    _failed_attempts(recertifying, 1, after=passed.finished_at)
    db.session.commit()

    def names(status: str) -> list[str]:
        page = transcripts.trainee_list(world["manager"],
                                        transcripts.TraineeQuery(status=status), 1, utcnow())
        assert page.total == len(page.rows)
        return [r.name for r in page.rows]

    everyone = ["Cora Certified", "Ed Extra", "Elsa Expired", "Ezra Expiring", "Lola Locked",
                "Pat Passed", "Rory Revoked", "Tessa Trainee", "Tim Two"]
    assert names("") == everyone
    assert names("certified") == ["Cora Certified", "Ezra Expiring"]
    assert names("uncertified") == [n for n in everyone
                                    if n not in ("Cora Certified", "Ezra Expiring")]
    assert names("expiring") == ["Ezra Expiring"]
    assert names("locked") == ["Lola Locked"]
    rows = {r.name: r for r in transcripts.trainee_list(
        world["manager"], transcripts.TraineeQuery(), 1, utcnow()).rows}
    assert rows["Elsa Expired"].certification == "expired"
    assert rows["Rory Revoked"].certification == "revoked"
    assert rows["Tessa Trainee"].certification == "none"
    assert rows["Ezra Expiring"].expiring and not rows["Cora Certified"].expiring
    assert rows["Lola Locked"].latest.score_percent == 50

    auth.login("manager")
    page = _text(client.get("/manager/trainees?status=locked"))
    assert "Lola Locked" in page and "Yes: no attempts left" in page
    assert "Tim Two" not in page
    searched = _text(client.get("/manager/trainees?q=EXPIR"))
    assert "Ezra Expiring" in searched and "Elsa Expired" in searched
    assert "Cora" not in searched
    assert "Tessa Trainee" in _text(client.get("/manager/trainees?q=trainee%40example"))
    assert "No trainee matches" in _text(client.get("/manager/trainees?q=100%25"))


def test_bad_filters_are_refused_with_a_message(world, client, auth):
    auth.login("manager")
    assert client.get("/manager/trainees?status=nonsense").status_code == 400
    too_long = client.get("/manager/trainees?q=" + "x" * 201)
    assert too_long.status_code == 400 and "200" in _text(too_long)


def test_the_list_is_paginated(world, client, auth):
    people = [User(email=f"t{n:03d}@example.com", name=f"Trainee {n:03d}",
                   password_hash="x") for n in range(120)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all([UserRole(user_id=p.id, role="trainee") for p in people])
    db.session.add_all([CohortMember(cohort_id=world["north"], user_id=p.id) for p in people])
    db.session.commit()
    auth.login("manager")
    first = _text(client.get("/manager/trainees"))
    assert "121 trainees, page 1 of 3" in first
    assert "Tessa Trainee" in first and "Trainee 048" in first and "Trainee 049" not in first
    last = _text(client.get("/manager/trainees?page=3"))
    assert "Trainee 099" in last and "Trainee 098" not in last and "Trainee 119" in last
    assert last.count("@example.com") == 21
    for bad in ("abc", "-4", "0", "1.5", ""):
        response = client.get(f"/manager/trainees?page={bad}")
        assert response.status_code == 200 and "page 1 of 3" in _text(response)
    assert "page 3 of 3" in _text(client.get("/manager/trainees?page=99999999999999999999"))
    filtered = client.get("/manager/trainees?q=trainee+0&page=2").get_data(as_text=True)
    assert "q=trainee+0" in filtered and 'aria-current="page">2<' in filtered


# --- A trainee's record ---------------------------------------------------------------


def test_the_record_shows_attempts_topics_practice_and_certificates(world, client, auth):
    tessa = world["trainee"]
    failed = _take(tessa, CERTIFICATION, wrong=12, when=utcnow() - timedelta(days=3))
    _take(tessa, PRACTICE, wrong=2)
    auth.login("manager")
    response = client.get(f"/manager/trainees/{tessa.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = _text(response)
    assert f"/manager/attempts/{failed.id}" in html
    assert "Microneedling Practitioner Certification, attempt 1" in page
    assert "Practice: Aftercare and recovery, attempt 1" in page
    assert "Pass mark 80%" in page or "80%" in page
    assert "Not passed" in page and "Certification results by topic" in page
    assert "Not yet certified" in page and "No certificate." in page
    # The chart: inline SVG, nothing a browser would fetch or run, and a text
    # alternative (the table beside it).
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg
    for banned in ("<style", "<script", "<?xml", "http://", "https://", "style="):
        assert banned not in svg
    assert "Score on each topic by certification attempt" in page
    detail = transcripts.trainee_detail(world["manager"], tessa.id, utcnow())
    assert [len(t.scores) for t in detail.progress.topics] == [1] * 8
    [practised] = detail.practice
    assert (practised.exam_id, practised.attempts) == (PRACTICE, 1)
    assert f"{practised.mean_score:.0f}%" in page and practised.mean_score < 100
    by_topic = {t.id: t.scores[0] for t in detail.progress.topics}
    assert min(by_topic.values()) < 80 and max(by_topic.values()) <= 100


def test_the_record_shows_accommodations_and_certificates(world, client, auth):
    from quizapp.models import Accommodation
    tessa = world["trainee"]
    _certificate(tessa, issued_days_ago=5, valid_days=730)
    db.session.add(Accommodation(user_id=tessa.id, exam_id=CERTIFICATION,
                                 extra_time_percent=25, extra_minutes=0, extra_attempts=1,
                                 reason="Dyslexia: assessed by the clinic.",
                                 granted_by_id=world["manager"].id))
    db.session.commit()
    auth.login("manager")
    response = client.get(f"/manager/trainees/{tessa.id}")
    html, page = response.get_data(as_text=True), _text(response)
    assert "Dyslexia: assessed by the clinic." in page
    assert "25%" in page and "by Maya Manager" in page
    assert "Certified" in page and "(reissued)" in page
    assert f'href="/manager/trainees/{tessa.id}/accommodations"' in html


def test_the_audit_trail_shows_what_changed_for_that_trainee(world, client, auth):
    tessa, oscar, maya = world["trainee"], world["other"], world["manager"]
    attempt = _take(tessa, PRACTICE)
    _certificate(tessa, issued_days_ago=5, valid_days=730)
    db.session.flush()
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == tessa.id))
    audit.record(maya, audit.subject("user", tessa.id), "email_changed",
                 "Email changed from old@example.com.")
    audit.record(maya, audit.subject("attempt", attempt.id), "regraded",
                 "Question 3 regraded after a key correction.")
    audit.record(maya, audit.subject("certificate", certificate.id), "certificate_suspended",
                 "Certificate suspended pending a check.")
    audit.record(maya, audit.subject("user", oscar.id), "email_changed", "Not Tessa's event.")
    audit.record(maya, audit.subject("attempt", 10 ** 6), "regraded", "Nobody's attempt.")
    audit.record(tessa, audit.subject("user", tessa.id), "auth.signin", "Signed in.")
    db.session.commit()
    auth.login("manager")
    response = client.get(f"/manager/trainees/{tessa.id}")
    page = _text(response)
    for message in ("Email changed from old@example.com.",
                    "Question 3 regraded after a key correction.",
                    "Certificate suspended pending a check."):
        assert message in page
    assert "Not Tessa's event." not in page and "Nobody's attempt." not in page
    assert "Signed in." not in page  # signing in changes nothing
    assert "Maya Manager" in page
    assert "Email changed" in page  # the kind, readable
    transcript = _text(client.get(f"/manager/attempts/{attempt.id}"))
    assert "Question 3 regraded after a key correction." in transcript


def test_a_long_record_pages_its_attempts(world, client, auth):
    tessa = world["trainee"]
    _bulk_attempts(tessa, 60)
    auth.login("manager")
    first = _text(client.get(f"/manager/trainees/{tessa.id}"))
    assert "60 attempts, newest first; page 1 of 3" in first
    assert "attempt 60" in first and "attempt 35 " not in first
    third = _text(client.get(f"/manager/trainees/{tessa.id}?page=3"))
    assert "attempt 1 " in third and "attempt 10 " in third and "attempt 11 " not in third
    assert "page 1 of 3" in _text(client.get(f"/manager/trainees/{tessa.id}?page=x"))


# --- The transcript --------------------------------------------------------------------


def _new_wording(question_id: str) -> QuestionVersion:
    """A later edit of the question: new stem, made live."""
    question = db.session.get(Question, question_id)
    content = json.loads(json.dumps(question.latest.content))
    content["stem"] = "A COMPLETELY REWORDED STEM, written after the attempt?"
    version = QuestionVersion(
        version=question.newest.version + 1, content=content,
        content_hash=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
        note="Reworded.")
    question.versions.append(version)
    question.current_version = version.version
    db.session.commit()
    return version


def test_the_transcript_shows_the_version_shown_the_answers_and_the_time(world, client, auth):
    tessa = world["trainee"]
    attempt = _take(tessa, CERTIFICATION, wrong=1)
    first = items(attempt.id)[0]
    first.seconds_spent = 65.4
    first.flagged = True
    db.session.commit()
    shown_stem = first.version.content["stem"]
    shown_order = [next(o["text"] for o in first.version.content["options"] if o["id"] == oid)
                   for oid in first.option_order]
    _new_wording(first.version.question_id)

    auth.login("manager")
    response = client.get(f"/manager/attempts/{attempt.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = _text(response)
    assert shown_stem in page and "A COMPLETELY REWORDED STEM" not in page
    assert "(the bank is now at version 2)" in page
    assert "1 min 05 s" in page and "flagged for review" in page
    # The options in the order the trainee saw them (as the page escapes them: an
    # apostrophe is &#39;), the one chosen and the key.
    first_item = html.split('<p class="stem">')[1]
    positions = [first_item.find(str(escape(text))) for text in shown_order]
    assert -1 not in positions and positions == sorted(positions)
    shown = transcripts.transcript(world["manager"], attempt.id, utcnow())
    item = shown.items[0].shown
    chosen = [o for o in item.options if o.selected]
    keyed = [o for o in item.options if o.correct]
    assert len(chosen) == 1 and chosen[0].correct is False and keyed
    assert item.mark == 0 and shown.revealed
    assert "Chosen" in page and "key" in page and "Incorrect" in page
    assert shown.items[1].seconds_spent is None and "Time: —" in page
    assert "Tessa Trainee" in page and "Score" in page


def test_the_transcript_shows_a_corrected_key(world, client, auth):
    attempt = _take(world["trainee"], CERTIFICATION)
    item = items(attempt.id)[0]
    wrong = wrong_answer(item)
    item.corrected_key = wrong
    db.session.commit()
    shown = transcripts.transcript(world["manager"], attempt.id, utcnow())
    keyed = [o for o in shown.items[0].shown.options if o.correct]
    by_token = dict(zip(item.option_tokens, item.option_order, strict=True))
    assert [by_token[o.id] for o in keyed] == wrong


def test_an_attempt_in_progress_shows_progress_but_no_key(world, client, auth):
    tessa = world["trainee"]
    attempt = _take(tessa, CERTIFICATION, wrong=2, finish=False)
    assert attempt.state == "in_progress"
    auth.login("manager")
    response = client.get(f"/manager/attempts/{attempt.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = _text(response)
    assert "still in progress" in page and "30 of 30 answered" in page
    assert "<strong>key</strong>" not in html and 'class="correct' not in html
    assert "Incorrect" not in page and "Correct" not in page
    for item in items(attempt.id):
        for option in item.version.content["options"]:
            if option.get("rationale"):
                assert option["rationale"] not in page
        assert item.version.content["explanation"] not in page
    shown = transcripts.transcript(world["manager"], attempt.id, utcnow())
    assert not shown.revealed
    assert all(o.correct is None for i in shown.items for o in i.shown.options)
    assert all(i.shown.mark is None for i in shown.items)
    # Opening it changes nothing.
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).state == "in_progress"


# --- Speed -----------------------------------------------------------------------------




def _bulk_attempts(user: User, count: int) -> None:
    """`count` finished attempts with their items, half certification and half
    practice, and an audit event on each: inserted in bulk, as a big history would
    be."""
    exams = {e.id: e for e in db.session.scalars(select(Exam).where(
        Exam.id.in_([CERTIFICATION, PRACTICE])))}
    versions = db.session.execute(select(QuestionVersion.id, QuestionVersion.content)
                                  .limit(3)).all()
    start = utcnow() - timedelta(days=count + 1)
    first = db.session.scalar(select(Attempt.id).order_by(Attempt.id.desc())) or 0
    rows = []
    for n in range(count):
        exam_id = CERTIFICATION if n % 2 else PRACTICE
        began = start + timedelta(days=n)
        rows.append(dict(
            id=first + n + 1, user_id=user.id, exam_id=exam_id, state="finished", seed=n,
            rules_data=exams[exam_id].rules_data, number=n + 1, started_at=began,
            finished_at=began + timedelta(minutes=20), score_percent=float(n % 101),
            passed=False if exam_id == CERTIFICATION else None, pass_mark_percent=80.0,
            pass_mark_method="fixed"))
    db.session.execute(insert(Attempt), rows)
    db.session.execute(insert(AttemptItem), [
        dict(attempt_id=row["id"], position=p + 1, question_version_id=version_id,
             option_order=[o["id"] for o in content["options"]],
             option_tokens=[f"t{p}{i}" for i in range(len(content["options"]))],
             response=[content["options"][0]["id"]], mark=float(p % 2), seconds_spent=12.0)
        for row in rows for p, (version_id, content) in enumerate(versions)])
    db.session.execute(insert(AuditEvent), [
        dict(at=row["finished_at"], subject=f"attempt:{row['id']}", kind="note",
             message="Looked at.") for row in rows])
    db.session.commit()


def _costs(client, user_id: int) -> tuple[int, int, int]:
    last = db.session.scalar(select(Attempt.id).where(Attempt.user_id == user_id)
                             .order_by(Attempt.id.desc()))
    urls = ["/manager/trainees", f"/manager/trainees/{user_id}", f"/manager/attempts/{last}"]
    for url in urls:  # warm: the session's person is loaded the same way each time
        assert client.get(url).status_code == 200
    counts = []
    for url in urls:
        with statements() as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    return tuple(counts)


def test_the_pages_cost_the_same_queries_for_10_and_for_1000_attempts(world, client, auth):
    tessa, oscar = world["trainee"], world["other"]
    db.session.add(CohortMember(cohort_id=world["north"], user_id=oscar.id))
    db.session.commit()
    _bulk_attempts(tessa, 10)
    _bulk_attempts(oscar, 10)
    auth.login("manager")
    few = _costs(client, tessa.id)
    _bulk_attempts(tessa, 990)
    many = _costs(client, tessa.id)
    assert many == few
    assert max(few) <= 15, few
    page = _text(client.get(f"/manager/trainees/{tessa.id}"))
    # 1,000 attempts' events and the account's creation
    assert "1000 attempts" in page and "(the latest 100 of 1001)" in page
