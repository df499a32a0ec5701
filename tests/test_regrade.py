"""Key correction and regrade (issue 8, item 8): the preview lists exactly the affected
attempts and changes nothing; applying changes exactly those, in one go, issues the
certificates now earned and flags (never revokes) the ones now unearned; the attempt's
trail shows it; a second apply is a no-op; a stale preview is refused."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from helpers import statements, tokens
from sqlalchemy import func, select
from support import PASSWORD

from quizapp import attempts, exam_rules, regrade
from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptTopicMark,
    AuditEvent,
    Certificate,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
    utcnow,
)

TOPIC, EXAM, PRACTICE = "regrading", "regrade-cert", "regrade-practice"
QUESTIONS = [f"rg-{n}" for n in range(1, 6)]
WRONG = "rg-1"  # the question whose key is planted wrong
REASON = "Version 2 marked option B by mistake; the protocol says A."
GRACE = timedelta(seconds=30)


def _content(qid: str, key: str = "a", texts: dict | None = None) -> dict:
    texts = texts or {}
    return {
        "type": "single",
        "stem": f"Which option is right for {qid}?",
        "options": [{"id": o, "text": texts.get(o, f"Option {o.upper()} of {qid}"),
                     "correct": o == key, "rationale": ""} for o in "abcd"],
        "explanation": "Because the protocol says so.",
        "difficulty": "medium",
        "safety_critical": False,
        "scenario": False,
        "ordered": False,
        "risk": None,
        "practice_only": False,
        "enemies": [],
        "sources": [],
    }


def _add_version(qid: str, key: str, key_correction: bool = False, note: str | None = None,
                 texts: dict | None = None) -> QuestionVersion:
    """A new version of a published question, made live at once (as an approval does)."""
    question = db.session.get(Question, qid)
    content = _content(qid, key, texts)
    version = QuestionVersion(
        version=question.newest.version + 1, content=content,
        content_hash=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
        key_correction=key_correction, note=note,
    )
    question.versions.append(version)
    question.current_version = version.version
    db.session.commit()
    return version


def _exam(exam_id: str, kind: str) -> Exam:
    rules = exam_rules.ExamRules(
        id=exam_id, title=f"Regrade {kind}", kind=kind,
        blueprint=exam_rules.Blueprint({TOPIC: len(QUESTIONS)}),
        pass_mark_percent=80, certificate_validity_months=24 if kind == "certification" else None,
    )
    return Exam(id=exam_id, title=rules.title, kind=kind, rules_data=rules.to_dict(),
                position=1 if kind == "practice" else 0)


@pytest.fixture
def world(app):
    """Five published questions that every form draws; rg-1's live version has the
    wrong key (b instead of a)."""
    db.session.add(Topic(id=TOPIC, name="Regrading", position=0))
    for qid in QUESTIONS:
        content = _content(qid)
        db.session.add(Question(id=qid, topic_id=TOPIC, status="published", current_version=1,
                                versions=[QuestionVersion(version=1, content=content,
                                                          content_hash=qid)]))
    db.session.add_all([_exam(EXAM, "certification"), _exam(PRACTICE, "practice")])
    db.session.commit()
    _add_version(WRONG, "b", note="Reworded")
    return db.session.get(Exam, EXAM)


_people = iter(range(10_000))


def _trainee(name: str | None = None) -> User:
    n = next(_people)
    user = create_user(f"trainee{n}@example.com", name or f"Trainee {n}", PASSWORD,
                       ["trainee"])
    db.session.commit()
    return user


def take(exam: Exam, wrong_pick: str, others_wrong: int = 0, user: User | None = None,
         finish: bool = True) -> Attempt:
    """A trainee's attempt: `wrong_pick` is their answer to rg-1; `others_wrong` of
    the other questions answered wrongly, the rest rightly."""
    user = user or _trainee()
    attempt = attempts.start(user, exam, utcnow())
    missed = 0
    for item in attempt.items:
        if item.version.question_id == WRONG:
            choice = wrong_pick
        elif missed < others_wrong:
            choice, missed = "d", missed + 1
        else:
            choice = "a"
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(tokens(item, [choice])), item.sequence),
                             utcnow(), GRACE)
    if finish:
        attempts.finish(attempt, utcnow())
    return _fresh(attempt.id)


def _snapshot():
    """Everything a regrade may change, to show that something did not."""
    db.session.expire_all()
    return (
        [(a.id, a.score_percent, a.passed, a.fail_reasons, a.needs_decision,
          [i.mark for i in a.items]) for a in db.session.scalars(select(Attempt).order_by(
              Attempt.id))],
        [(c.attempt_id, c.revoked_at) for c in db.session.scalars(select(Certificate))],
        # Sign-ins are recorded too; they change nothing a regrade could.
        db.session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(~AuditEvent.kind.startswith("auth."))),
    )


def _ids(html: str) -> str:
    """The attempt ids a preview page's form carries."""
    found = re.search(r'name="attempts" type="hidden"(?: value="([^"]*)")?', html)
    return found.group(1) or ""


def _fresh(attempt_id: int) -> Attempt:
    """An attempt as the database holds it now (requests use sessions of their own)."""
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def _correct():
    return _add_version(WRONG, "a", key_correction=True, note=REASON)


@pytest.fixture
def graded(world):
    """Attempts graded with the wrong key, then the key corrected (version 3)."""
    made = {
        # rg-1 right (a) but marked wrong, one other missed: 60% fail -> 80% pass.
        "now_passes": take(world, "a", others_wrong=1),
        # rg-1 wrong (b) but marked right, one other missed: 80% pass -> 60% fail.
        "now_fails": take(world, "b", others_wrong=1),
        # b, nothing else missed: 100% -> 80%, still a pass.
        "still_passes": take(world, "b"),
        # a, nothing else missed: 80% -> 100%.
        "higher": take(world, "a"),
        # c: wrong under either key; not affected.
        "unaffected": take(world, "c"),
    }
    _correct()
    return made


def test_the_planted_key_grades_wrongly(graded):
    assert graded["now_passes"].score_percent == 60 and not graded["now_passes"].passed
    assert graded["now_fails"].passed and graded["now_fails"].certificate is not None
    assert graded["unaffected"].score_percent == 80


def test_candidates_list_the_live_key_correction(graded):
    [candidate] = regrade.candidates()
    assert (candidate.question_id, candidate.corrected.version) == (WRONG, 3)
    assert candidate.pending == 4 and candidate.applied_at is None


def test_preview_lists_exactly_the_affected_attempts_and_changes_nothing(graded, client,
                                                                         auth):
    before = _snapshot()
    shown = regrade.preview(WRONG, 3)
    by_id = {row.attempt.id: row for row in shown.rows}
    expected = {name: graded[name].id for name in
                ("now_passes", "now_fails", "still_passes", "higher")}
    assert set(by_id) == set(expected.values())
    summary = {name: (by_id[aid].old_percent, by_id[aid].old_passed, by_id[aid].new_percent,
                      by_id[aid].new_passed, by_id[aid].outcome)
               for name, aid in expected.items()}
    assert summary == {
        "now_passes": (60, False, 80, True, regrade.ISSUE),
        "now_fails": (80, True, 60, False, regrade.FLAG),
        "still_passes": (100, True, 80, True, regrade.NO_CHANGE),
        "higher": (80, True, 100, True, regrade.NO_CHANGE),
    }
    assert shown.unmatched == [] and shown.in_progress == 0

    auth.login("manager")
    html = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    assert html.count('class="regrade-row"') == 4
    assert REASON in html
    assert "certificate issued" in html and "flagged for a manager&#39;s decision" in html
    assert sorted(map(int, _ids(html).split(","))) == sorted(expected.values())
    assert client.get("/manager/regrades").status_code == 200
    assert _snapshot() == before


def test_apply_changes_exactly_the_listed_attempts(graded, client, auth):
    auth.login("manager")
    page = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    unaffected_before = _snapshot()[0][-1]
    response = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": _ids(page)})
    assert response.status_code == 302 and response.location.endswith("/manager/regrades")
    db.session.expire_all()
    now_passes, now_fails, still, higher, unaffected = (
        db.session.get(Attempt, graded[n].id) for n in
        ("now_passes", "now_fails", "still_passes", "higher", "unaffected"))
    # Now passes: score, verdict, reasons and a certificate.
    assert (now_passes.score_percent, now_passes.passed, now_passes.fail_reasons) == (80, True,
                                                                                      [])
    assert now_passes.certificate is not None
    assert now_passes.certificate.issued_at == now_passes.finished_at
    # Now fails while holding a certificate: flagged, the certificate still valid.
    assert (now_fails.score_percent, now_fails.passed) == (60, False)
    assert now_fails.needs_decision and REASON in now_fails.needs_decision
    assert now_fails.certificate.revoked_at is None
    assert (still.score_percent, still.passed, still.needs_decision) == (80, True, None)
    assert higher.score_percent == 100
    rg1_marks = {a.id: next(i.mark for i in a.items if i.version.question_id == WRONG)
                 for a in (now_passes, now_fails, still, higher)}
    assert rg1_marks == {now_passes.id: 1, now_fails.id: 0, still.id: 0, higher.id: 1}
    # Untouched: the attempt that was not listed, and the versions the attempts showed.
    assert [row for row in _snapshot()[0] if row[0] == unaffected.id] == [unaffected_before]
    assert {i.version.version for a in (now_passes, now_fails) for i in a.items
            if i.version.question_id == WRONG} == {2}
    # The trail: one event per attempt, one for the question.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "regraded")).all()
    assert sorted(e.subject for e in events) == sorted(
        [f"attempt:{a.id}" for a in (now_passes, now_fails, still, higher)]
        + [f"question:{WRONG}"])
    flagged_event = next(e for e in events if e.subject == f"attempt:{now_fails.id}")
    expected = {"question": WRONG, "from_version": 2, "to_version": 3, "old_score": 80,
                "new_score": 60, "old_passed": True, "new_passed": False, "reason": REASON,
                "outcome": regrade.FLAG}
    assert {k: flagged_event.data[k] for k in expected} == expected
    assert flagged_event.actor.email == "manager@example.com"
    # Nothing is left to regrade; the flag awaits a decision.
    assert regrade.candidates() == []
    listing = client.get("/manager/regrades").get_data(as_text=True)
    assert "No key correction is waiting" in listing and now_fails.user.name in listing


def test_apply_is_flashed_and_twice_changes_nothing(graded, client, auth):
    auth.login("admin")
    ids = _ids(client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True))
    first = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ids},
                        follow_redirects=True).get_data(as_text=True)
    assert "Regraded 4 attempts, 1 certificate issued, 1 flagged for your decision." in first
    after = _snapshot()
    second = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ids},
                         follow_redirects=True)
    assert second.status_code == 200
    assert "already been applied; nothing changed" in second.get_data(as_text=True)
    assert _snapshot() == after
    # And through the service, with the ids of a fresh (empty) preview.
    manager = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    assert not regrade.apply(WRONG, 3, manager, [], utcnow()).changed
    assert _snapshot() == after
    page = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    assert "This regrade was applied on" in page and 'name="attempts"' not in page


def test_a_stale_preview_is_refused_and_changes_nothing(world, client, auth):
    take(world, "a", others_wrong=1)
    take(world, "b")
    # Started before the correction (so showing version 2), finished after the preview.
    late = take(world, "a", user=_trainee("Late Larry"), finish=False)
    _correct()
    assert regrade.preview(WRONG, 3).in_progress == 1
    auth.login("manager")
    page = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    assert "Late Larry" not in page and "still in progress" in page
    attempts.finish(late, utcnow())
    before = _snapshot()
    response = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": _ids(page)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed since the preview" in html
    assert "Late Larry" in html  # the fresh list, to check and apply
    assert _snapshot() == before
    # Applying the fresh list works, and takes the late attempt too.
    response = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": _ids(html)})
    assert response.status_code == 302
    assert _fresh(late.id).score_percent == 100
    assert regrade.candidates() == []


def test_an_attempt_finished_after_the_regrade_is_listed_again(world):
    take(world, "a", others_wrong=1)
    late = take(world, "a", finish=False)
    _correct()
    manager = _trainee()
    summary = regrade.apply(WRONG, 3, manager, regrade.preview(WRONG, 3).attempt_ids,
                            utcnow())
    assert summary.regraded == 1 and regrade.candidates() == []
    # Open at the time, it is graded with the key it showed when it finishes.
    attempts.finish(late, utcnow())
    assert _fresh(late.id).score_percent == 80
    [candidate] = regrade.candidates()
    assert candidate.pending == 1 and candidate.applied_at is not None
    assert regrade.preview(WRONG, 3).attempt_ids == [late.id]
    assert regrade.apply(WRONG, 3, manager, [late.id], utcnow()).regraded == 1
    assert _fresh(late.id).score_percent == 100


def test_an_earlier_regrade_of_another_question_is_kept(world):
    """Regrading a second question recomputes the whole attempt with the key the
    first regrade set, not the key of the version the attempt showed."""
    _add_version("rg-2", "b", note="Reworded")
    attempt = take(world, "a")  # rg-1 marked wrong (key b); rg-2 answered a: wrong too
    assert attempt.score_percent == 60
    manager = _trainee()
    _correct()
    regrade.apply(WRONG, 3, manager, [attempt.id], utcnow())
    assert _fresh(attempt.id).score_percent == 80
    _add_version("rg-2", "a", key_correction=True, note="rg-2 had B by mistake.")
    [row] = regrade.preview("rg-2", 3).rows
    assert (row.old_percent, row.new_percent) == (80, 100)
    regrade.apply("rg-2", 3, manager, [attempt.id], utcnow())
    regraded = _fresh(attempt.id)
    assert regraded.score_percent == 100 and [i.mark for i in regraded.items] == [1] * 5


def test_changed_options_cannot_be_regraded_automatically(world):
    attempt = take(world, "b")
    _add_version(WRONG, "a", key_correction=True, note=REASON,
                 texts={"c": "A reworded option C"})
    shown = regrade.preview(WRONG, 3)
    assert shown.rows == []
    assert [a.id for a, _ in shown.unmatched] == [attempt.id]
    [candidate] = regrade.candidates()
    assert (candidate.pending, candidate.unmatched) == (0, 1)


def test_practice_attempts_are_regraded_without_certificates(world):
    practice = db.session.get(Exam, PRACTICE)
    attempt = take(practice, "a", others_wrong=1)
    assert attempt.score_percent == 60
    _correct()
    [row] = regrade.preview(WRONG, 3).rows
    assert row.outcome == regrade.NO_CHANGE
    regrade.apply(WRONG, 3, _trainee(), [attempt.id], utcnow())
    regraded = _fresh(attempt.id)
    assert regraded.score_percent == 80 and regraded.certificate is None


def test_the_trainee_sees_the_regrade_on_the_result(graded, client, auth):
    auth.login("manager")
    ids = _ids(client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True))
    client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ids})
    auth.logout()
    attempt = graded["now_passes"]
    auth.login(attempt.user.email)
    html = client.get(f"/trainee/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "Regraded" in html
    assert "question" in html and REASON in html
    assert "from 60% to 80%" in html and "Your certificate has been issued." in html
    assert "View your certificate" in html
    # The review marks the corrected key, beside the wording the trainee saw.
    regraded = next(i for i in _fresh(attempt.id).items if i.version.question_id == WRONG)
    assert regraded.key == {"a"} and regraded.version.correct_ids == {"b"}
    [shown] = [s for s in attempts.review_items(_fresh(attempt.id)) if s.question_id == WRONG]
    assert [o.correct for o in shown.options if o.selected] == [True]
    # The unaffected attempt's result says nothing of a regrade.
    auth.logout()
    other = graded["unaffected"]
    auth.login(other.user.email)
    assert 'id="regrades"' not in client.get(
        f"/trainee/attempts/{other.id}/result").get_data(as_text=True)


def _flag(graded, client):
    ids = _ids(client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True))
    client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ids})
    return graded["now_fails"].id


def test_keeping_a_flagged_certificate(graded, client, auth):
    auth.login("manager")
    attempt_id = _flag(graded, client)
    prefix = f"a{attempt_id}-"
    response = client.post(f"/manager/regrades/attempts/{attempt_id}/decision",
                           data={prefix + "decision": "keep", prefix + "reason": ""})
    assert response.status_code == 302
    attempt = _fresh(attempt_id)
    assert attempt.needs_decision is None and attempt.certificate.revoked_at is None
    assert [e.kind for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject == f"attempt:{attempt_id}").order_by(AuditEvent.id))] == [
        "regraded", "certificate_kept"]
    # Decided: a second decision is refused.
    again = client.post(f"/manager/regrades/attempts/{attempt_id}/decision",
                        data={prefix + "decision": "revoke", prefix + "reason": "No."})
    assert again.status_code == 409
    assert _fresh(attempt_id).certificate.revoked_at is None


def test_revoking_a_flagged_certificate_needs_a_reason(graded, client, auth):
    auth.login("manager")
    attempt_id = _flag(graded, client)
    prefix = f"a{attempt_id}-"
    before = _snapshot()
    response = client.post(f"/manager/regrades/attempts/{attempt_id}/decision",
                           data={prefix + "decision": "revoke", prefix + "reason": " "})
    assert response.status_code == 400
    assert "Give the reason for revoking" in response.get_data(as_text=True)
    assert _snapshot() == before
    response = client.post(f"/manager/regrades/attempts/{attempt_id}/decision",
                           data={prefix + "decision": "revoke",
                                 prefix + "reason": "Fails after the key correction."})
    assert response.status_code == 302
    attempt = _fresh(attempt_id)
    assert attempt.needs_decision is None
    assert attempt.certificate.revoked_at is not None
    assert attempt.certificate.revoked_reason == "Fails after the key correction."
    assert attempt.certificate.revoked_category == "issued_in_error"
    revoked = db.session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "certificate_revoked").order_by(AuditEvent.id)).all()
    # In the attempt's trail and in the certificate's, as any revocation is.
    assert [e.subject for e in revoked] == [f"attempt:{attempt_id}",
                                            f"certificate:{attempt.certificate.id}"]
    assert {e.data.get("certificate") or e.data.get("code") for e in revoked} == {
        attempt.certificate.code}


@pytest.mark.parametrize("who", ["trainee", "trainer"])
def test_other_roles_are_refused(graded, client, auth, who):
    auth.login(who)
    before = _snapshot()
    assert client.get("/manager/regrades").status_code == 403
    assert client.get(f"/manager/regrades/{WRONG}/3").status_code == 403
    ids = ",".join(str(a.id) for a in graded.values())
    assert client.post(f"/manager/regrades/{WRONG}/3",
                       data={"attempts": ids}).status_code == 403
    assert client.post(f"/manager/regrades/attempts/{graded['now_fails'].id}/decision",
                       data={"decision": "revoke", "reason": "x"}).status_code == 403
    assert _snapshot() == before


def test_unknown_question_or_version_is_not_found(graded, client, auth):
    auth.login("manager")
    before = _snapshot()
    for url in (f"/manager/regrades/{WRONG}/9", "/manager/regrades/no-such/3",
                f"/manager/regrades/{WRONG}/2"):  # version 2 corrects no key
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={"attempts": ""}).status_code == 404, url
    assert client.post("/manager/regrades/attempts/99999/decision",
                       data={"a99999-decision": "keep"}).status_code == 404
    assert client.post(f"/manager/regrades/{WRONG}/3",
                       data={"attempts": "1,x"}).status_code == 400
    assert _snapshot() == before




def _preview_statements(client) -> tuple[int, int, int]:
    with statements() as preview:
        response = client.get(f"/manager/regrades/{WRONG}/3")
    assert response.status_code == 200
    rows = response.get_data(as_text=True).count('class="regrade-row"')
    with statements() as listing:
        assert client.get("/manager/regrades").status_code == 200
    return rows, len(preview), len(listing)


def test_the_preview_takes_as_many_queries_for_30_attempts_as_for_3(world, client, auth):
    for n in range(3):
        take(world, "ab"[n % 2], others_wrong=n % 2)
    _correct()
    auth.login("manager")
    rows, *few = _preview_statements(client)
    assert rows == 3
    # 27 more attempts shown the wrong key (version 2 live again for a moment).
    question = db.session.get(Question, WRONG)
    question.current_version = 2
    db.session.commit()
    for n in range(27):
        take(world, "ab"[n % 2], others_wrong=n % 3 // 2)
    question.current_version = 3
    db.session.commit()
    rows, *many = _preview_statements(client)
    assert rows == 30
    assert many == few


def test_a_correction_no_attempt_needs_is_recorded_once(world, client, auth):
    take(world, "c")  # wrong under either key
    _correct()
    assert [c.pending for c in regrade.candidates()] == [0]
    auth.login("manager")
    page = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    assert "No finished attempt needs this regrade." in page and _ids(page) == ""
    done = client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Recorded that no finished attempt needed this regrade." in done
    assert regrade.candidates() == []
    after = _snapshot()
    client.post(f"/manager/regrades/{WRONG}/3", data={"attempts": ""})
    assert _snapshot() == after


# --- The per-topic marks the dashboard reads ------------------------------------------


def _kept_topic_marks() -> dict[tuple[int, str], tuple[float, int]]:
    db.session.expire_all()
    return {(row.attempt_id, row.topic_id): (row.marks, row.items)
            for row in db.session.scalars(select(AttemptTopicMark))}


def _items_topic_marks() -> dict[tuple[int, str], tuple[float, int]]:
    """The same sums worked out here from every graded item."""
    sums: dict[tuple[int, str], tuple[float, int]] = {}
    for attempt in db.session.scalars(select(Attempt)):
        for item in attempt.items:
            if item.mark is not None:
                key = (attempt.id, item.version.question.topic_id)
                marks, count = sums.get(key, (0.0, 0))
                sums[key] = (marks + item.mark, count + 1)
    return sums


def test_grading_and_regrading_keep_the_per_topic_marks_true(graded, client, auth):
    before = _kept_topic_marks()
    assert before and before == _items_topic_marks()
    auth.login("manager")
    page = client.get(f"/manager/regrades/{WRONG}/3").get_data(as_text=True)
    assert client.post(f"/manager/regrades/{WRONG}/3",
                       data={"attempts": _ids(page)}).status_code == 302
    after = _kept_topic_marks()
    assert after == _items_topic_marks()
    changed = {attempt_id for (attempt_id, topic), value in after.items()
               if before[attempt_id, topic] != value}
    assert changed == {graded[n].id for n in ("now_passes", "now_fails", "still_passes",
                                              "higher")}
