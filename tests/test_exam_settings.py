"""Exam settings as managers change them: each change a new version, checked by the
rules' parser and against the live bank, attempts in progress keeping the settings
they started with, and `bank import` versioning the exams it writes."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from helpers import answer_all, attempt, start, statements, submit
from sqlalchemy import select
from support import PASSWORD

from quizapp import exam_settings
from quizapp.bank_store import import_bank
from quizapp.extensions import db
from quizapp.models import AuditEvent, Exam, ExamVersion, utcnow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = "/manager/exams/certification/settings"


@pytest.fixture
def manager(bank_loaded, auth, client):
    auth.login("manager")
    return client


def _exam() -> Exam:
    db.session.expire_all()
    return db.session.get(Exam, "certification")


def _versions() -> list[ExamVersion]:
    return db.session.scalars(select(ExamVersion).where(ExamVersion.exam_id == "certification")
                              .order_by(ExamVersion.version)).all()


def _save(client, note="Pass mark set by the board on 2 March.", **fields):
    return client.post(SETTINGS, data={"note": note, **fields})


def test_the_bank_import_makes_each_exam_its_version_1(bank_loaded):
    rows = db.session.scalars(select(ExamVersion).order_by(ExamVersion.exam_id)).all()
    exams = db.session.scalars(select(Exam)).all()
    assert {r.exam_id for r in rows} == {e.id for e in exams}
    assert all(r.version == 1 and r.author_id is None for r in rows)
    assert all(e.version == 1 for e in exams)
    assert rows[0].rules_data == db.session.get(Exam, rows[0].exam_id).rules_data


def test_the_list_and_the_settings_page_show_the_current_settings(manager):
    html = manager.get("/manager/exams").get_data(as_text=True)
    assert "Microneedling Practitioner Certification" in html
    assert "/manager/exams/certification/settings" in html
    assert "Practice: " in html
    response = manager.get(SETTINGS)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="pass_mark_percent" type="number" value="80"' in html
    assert 'name="topic-contraindications" type="number" value="6"' in html
    assert "Angoff rating coverage: <strong>0 of" in html
    assert html.count("<h1") == 1
    assert manager.get("/manager/exams/no-such-exam/settings").status_code == 404
    assert manager.get("/manager/exams/no-such-exam/versions").status_code == 404


def test_a_change_is_a_new_version_with_its_author_note_and_audit_event(manager, users):
    response = _save(manager, pass_mark_percent="70", time_limit_minutes="60")
    assert response.status_code == 302
    assert response.location.endswith("/manager/exams/certification/versions")
    exam = _exam()
    assert exam.version == 2
    assert exam.rules.pass_mark_percent == 70
    assert exam.rules.time_limit == timedelta(minutes=60)
    # Everything the form did not change stays as it was.
    assert exam.rules.blueprint.topics["contraindications"] == 6
    assert exam.rules.certificate_validity_months == 24
    first, second = _versions()
    assert second.version == 2 and second.author_id == users["manager"].id
    assert second.note == "Pass mark set by the board on 2 March."
    assert second.rules_data == exam.rules_data
    assert first.rules_data["pass_mark_percent"] == 80  # the old version is untouched
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject == "exam:certification")
        .order_by(AuditEvent.id.desc())).first()
    assert event.kind == "settings_changed" and event.actor_id == users["manager"].id
    assert event.data["version"] == 2
    assert ["Fixed pass mark (%)", "80", "70"] in event.data["changes"]

    html = manager.get("/manager/exams/certification/versions").get_data(as_text=True)
    assert "Version 2" in html and "Maya Manager" in html and "from the bank files" in html
    assert "Fixed pass mark (%)" in html and "Time limit (minutes)" in html
    assert html.count("<h1") == 1


def test_the_blueprint_and_review_policy_are_edited_too(manager):
    response = _save(manager, **{"topic-consultation": "0", "topic-devices": "4",
                                 "min_safety_critical": "5", "correct_answers": "after_finish",
                                 "pass_mark_method": "angoff", "angoff_min_ratings": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    rules = _exam().rules
    assert "consultation" not in rules.blueprint.topics
    assert rules.blueprint.topics["devices"] == 4
    assert rules.blueprint.min_safety_critical == 5
    assert rules.review.correct_answers == "after_finish"
    assert rules.pass_mark_method == "angoff" and rules.angoff_min_ratings == 2
    changes = exam_settings.history("certification")[1][0].changes
    assert ("Questions on consultation", "2", "none") in changes
    assert ("Pass mark method", "fixed", "angoff") in changes


def test_the_certificate_scope_and_recertification_window_are_edited_too(manager):
    scope = "Certified to   perform microneedling to 1.5 mm on the face and neck."
    response = _save(manager, certificate_scope=scope, recertify_window_days="30")
    assert response.status_code == 302, response.get_data(as_text=True)
    rules = _exam().rules
    assert rules.certificate_scope == " ".join(scope.split())
    assert rules.recertify_window_days == 30
    labels = [label for label, _, _ in exam_settings.history("certification")[1][0].changes]
    assert "Scope printed on the certificate" in labels
    assert "Recertification opens (days before expiry)" in labels
    assert "on the face and neck." in manager.get(SETTINGS).get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"pass_mark_percent": "150"},
     "&#39;pass_mark_percent&#39; must be a whole number from 0 to 100"),
    ({"pass_mark_percent": ""}, "&#39;pass_mark_percent&#39; must be a whole number"),
    ({"pass_mark_percent": "eighty"}, "Not a valid integer value"),
    ({"time_limit_minutes": "0"}, "&#39;time_limit_minutes&#39; must be a whole number ≥ 1"),
    ({"pass_mark_method": "guesswork"}, "&#39;pass_mark_method&#39; must be fixed or angoff"),
    ({"correct_answers": "sometimes"}, "Review moment &#39;sometimes&#39; is not one of"),
    ({"topic-mechanism": "-2"}, "Blueprint count for &#39;mechanism&#39; must be"),
    ({"note": ""}, "Say what changed and why"),
    ({"certificate_scope": "x" * 401},
     "&#39;certificate_scope&#39; must be at most 400 characters"),
    ({"certificate_scope": "Certified\u0007 to needle"}, "Use letters, digits, spaces"),
    ({"recertify_window_days": "-1"}, "&#39;recertify_window_days&#39; must be a whole"),
])
def test_bad_settings_are_refused_with_the_reason(manager, fields, message):
    response = _save(manager, **fields) if "note" not in fields else manager.post(
        SETTINGS, data={"pass_mark_percent": "70", **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _exam().version == 1 and len(_versions()) == 1


def test_a_blueprint_the_bank_cannot_fill_is_refused_with_the_reason(manager):
    published = exam_settings.settings_view("certification").topics
    have = dict((t.id, n) for t, n in published)["mechanism"]
    response = _save(manager, **{"topic-mechanism": str(have + 1)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (f"needs {have + 1} question(s) on topic &#39;mechanism&#39; but the bank has"
            f" {have} published") in html
    response = _save(manager, min_risk_categories="40")
    assert response.status_code == 400
    assert "risk categories but its topics cover only" in response.get_data(as_text=True)
    assert _exam().version == 1


def test_saving_unchanged_settings_makes_no_version(manager):
    response = _save(manager)
    assert response.status_code == 302
    assert _exam().version == 1 and len(_versions()) == 1


def test_an_attempt_in_progress_keeps_its_time_limit_and_pass_mark(bank_loaded, client, auth):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login()
        attempt_id = start(client)
        auth.logout()
        auth.login("manager")
        assert _save(client, pass_mark_percent="50", time_limit_minutes="20").status_code == 302
        auth.logout()
        auth.login()
        begun = attempt(attempt_id)
        assert begun.exam_version == 1
        assert begun.deadline == T0 + timedelta(minutes=45)
        assert begun.rules.pass_mark_percent == 80 and begun.pass_mark == 80
        traveller.shift(timedelta(minutes=30))  # past the new limit, inside the old
        answer_all(client, attempt_id, wrong=9)  # 21 of 30: 70%
        submit(client, attempt_id)
    done = attempt(attempt_id)
    assert done.finished and done.finished_at == T0 + timedelta(minutes=30)
    assert done.passed is False  # held to 80%, not to the new 50%
    assert "below the pass mark of 80%" in done.fail_reasons[0]


def test_a_new_attempt_starts_on_the_current_version(bank_loaded, client, auth):
    auth.login("manager")
    _save(client, time_limit_minutes="20", pass_mark_percent="75")
    auth.logout()
    with time_machine.travel(T0, tick=False):
        auth.login()
        begun = attempt(start(client))
    assert begun.exam_version == 2
    assert begun.deadline == T0 + timedelta(minutes=20)
    assert begun.pass_mark == 75 and begun.pass_mark_method == "fixed"
    assert begun.number == 1


def test_a_trainees_attempts_are_numbered(bank_loaded, client, auth):
    auth.login()
    first = start(client, "practice-mechanism")
    answer_all(client, first)
    submit(client, first)
    second = start(client, "practice-mechanism")
    other = start(client, "practice-devices")
    assert [attempt(n).number for n in (first, second, other)] == [1, 2, 1]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_settings_need_the_csrf_token(bank_loaded, client, users):
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": "manager@example.com", "password": PASSWORD,
                                     "csrf_token": token})
    response = client.post(SETTINGS, data={"pass_mark_percent": "70", "note": "x"})
    assert response.status_code == 400
    assert _exam().version == 1
    form = client.get(SETTINGS).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post(SETTINGS, data={"pass_mark_percent": "70", "note": "x",
                                           "csrf_token": token})
    assert response.status_code == 302
    assert _exam().version == 2


# --- bank import ---------------------------------------------------------------------


def _files_with(shipped_bank, **changes):
    """The shipped bank with the certification exam's settings changed."""
    return dataclasses.replace(shipped_bank, exams=[
        dataclasses.replace(rules, **changes) if rules.id == "certification" else rules
        for rules in shipped_bank.exams
    ])


def test_import_adds_a_version_when_the_files_change_an_exam(bank_loaded, shipped_bank):
    report = import_bank(_files_with(shipped_bank, pass_mark_percent=75))
    db.session.commit()
    assert report.exams == ["certification"]
    exam = _exam()
    assert exam.version == 2 and exam.rules.pass_mark_percent == 75
    assert _versions()[-1].author_id is None
    again = import_bank(_files_with(shipped_bank, pass_mark_percent=75))
    assert again.exams == [] and _exam().version == 2


def test_import_keeps_settings_a_manager_changed_unless_told_to_overwrite(
        bank_loaded, shipped_bank, manager):
    assert _save(manager, pass_mark_percent="70").status_code == 302
    report = import_bank(_files_with(shipped_bank, time_limit=timedelta(minutes=50)))
    db.session.commit()
    assert report.kept_exam_settings == ["certification"] and report.exams == []
    assert "settings were changed in the app, kept (the files differ): certification" in (
        report.summary())
    assert _exam().rules.pass_mark_percent == 70 and _exam().version == 2
    # Every later import keeps them too, whatever else the files change.
    assert import_bank(shipped_bank).kept_exam_settings == ["certification"]
    report = import_bank(_files_with(shipped_bank, time_limit=timedelta(minutes=50)),
                         overwrite=True)
    db.session.commit()
    assert report.overwritten_exam_settings == ["certification"]
    exam = _exam()
    assert exam.version == 3 and exam.rules.pass_mark_percent == 80
    assert exam.rules.time_limit == timedelta(minutes=50)


# --- pure helpers and query counts ---------------------------------------------------


def test_changes_name_each_setting_that_differs():
    before = {"pass_mark_percent": 80, "time_limit_minutes": None,
              "review": {"correct_answers": "after_pass"},
              "blueprint": {"topics": {"a": 2, "b": 3}}}
    after = {"pass_mark_percent": 80, "time_limit_minutes": 30,
             "review": {"correct_answers": "never"},
             "blueprint": {"topics": {"b": 4, "c": 1}}}
    assert exam_settings.changes(before, after) == [
        ("Questions on a", "2", "none"), ("Questions on b", "3", "4"),
        ("Questions on c", "none", "1"), ("Correct answers shown", "after pass", "never"),
        ("Time limit (minutes)", "none", "30"),
    ]




def test_the_pages_take_as_many_queries_for_many_versions_as_for_one(manager):
    def counts():
        result = []
        for url in ("/manager/exams", SETTINGS, "/manager/exams/certification/versions"):
            with statements() as seen:
                assert manager.get(url).status_code == 200
            result.append(len(seen))
        return result

    assert _save(manager, pass_mark_percent="60").status_code == 302
    few = counts()
    for mark in range(61, 66):
        assert _save(manager, pass_mark_percent=str(mark)).status_code == 302
    assert _exam().version == 7
    assert counts() == few


def test_the_service_refuses_settings_it_does_not_edit(bank_loaded, users):
    with pytest.raises(exam_settings.SettingsError, match="not changed here: title"):
        exam_settings.save_settings("certification", {"title": "Other"}, users["manager"],
                                    "note", utcnow())
