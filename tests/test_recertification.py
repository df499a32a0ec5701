"""Expiry and recertification: the window before expiry (an exam setting, 90 days by
default), a new certificate superseding the old one, a fresh count of attempts;
what the trainee sees; suspension keeps the exam closed; name corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cert_support import pass_certification, sit_certification
from sqlalchemy import select

from quizapp import attempts, certs, exam_rules
from quizapp.extensions import db
from quizapp.models import Certificate, Exam, NameCorrection

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def certificate(bank_loaded, users):
    return pass_certification(users["trainee"], ISSUED)


def _exam() -> Exam:
    return db.session.get(Exam, "certification")


def test_the_window_and_scope_come_from_the_exam_settings(certificate):
    rules = _exam().rules
    assert rules.recertify_window_days == 90 and rules.certificate_validity_months == 24
    assert certificate.scope == rules.certificate_scope and certificate.scope
    assert certificate.renew_from == certificate.expires_at - timedelta(days=90)


def test_settings_parse_the_window_and_refuse_a_bad_one():
    raw = {"id": "x", "title": "X", "blueprint": {"topics": {"t": 1}},
           "certificate_validity_months": 12, "recertify_window_days": 30,
           "certificate_scope": "  Does   things.\n"}
    rules = exam_rules.parse_exam(raw, ["t"])
    assert (rules.recertify_window_days, rules.certificate_scope) == (30, "Does things.")
    assert exam_rules.rules_from_dict(rules.to_dict()) == rules
    with pytest.raises(exam_rules.ExamRulesError):
        exam_rules.parse_exam({**raw, "recertify_window_days": -1}, ["t"])
    default = exam_rules.parse_exam({k: v for k, v in raw.items()
                                     if k != "recertify_window_days"}, ["t"])
    assert default.recertify_window_days == 90


def test_before_the_window_a_new_attempt_is_refused_with_the_date(certificate, users):
    before = certificate.renew_from - timedelta(days=1)
    verdict = attempts.eligibility(users["trainee"], _exam(), before)
    assert not verdict.allowed and verdict.opens_at == certificate.renew_from
    assert "You may recertify from 3 December 2027." in verdict.reason
    with pytest.raises(attempts.NotAllowed):
        attempts.start(users["trainee"], _exam(), before)


def test_in_the_window_passing_again_supersedes_the_old_certificate(certificate, users):
    inside = certificate.renew_from + timedelta(days=10)
    verdict = attempts.eligibility(users["trainee"], _exam(), inside)
    assert verdict.allowed and verdict.attempts_left == 3  # a fresh count
    newer = pass_certification(users["trainee"], inside)
    db.session.expire_all()
    old = db.session.get(Certificate, certificate.id)
    assert old.status(inside) == "superseded" and old.superseded_by_id == newer.id
    assert newer.status(inside) == "valid"
    assert newer.expires_at == certs.add_months(inside + timedelta(minutes=10), 24)
    # ...and the next recertification waits for the new certificate's window.
    refused = attempts.eligibility(users["trainee"], _exam(), inside + timedelta(days=1))
    assert not refused.allowed and refused.opens_at == newer.renew_from


def test_a_failed_recertification_keeps_the_old_certificate(certificate, users):
    inside = certificate.renew_from + timedelta(days=10)
    failed = sit_certification(users["trainee"], inside, wrong=12)
    assert not failed.passed
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status(inside) == "expiring_soon"
    verdict = attempts.eligibility(users["trainee"], _exam(), inside + timedelta(days=2))
    assert verdict.attempts_left == 2


def test_after_expiry_the_exam_is_open_again(certificate, users):
    after = certificate.expires_at + timedelta(days=1)
    assert attempts.eligibility(users["trainee"], _exam(), after).allowed


def test_a_suspended_certificate_keeps_the_exam_closed(certificate, users):
    certs.suspend(certificate, users["manager"], "practice_concern", "", ISSUED)
    db.session.commit()
    after = certificate.expires_at + timedelta(days=1)
    verdict = attempts.eligibility(users["trainee"], _exam(), after)
    assert not verdict.allowed and "suspended" in verdict.reason


def test_the_trainee_sees_the_expiry_and_a_notice_in_the_window(certificate, auth, client):
    url = f"/trainee/certificates/{certificate.code}"
    with time_machine.travel(ISSUED + timedelta(days=30)):
        auth.login()  # in the travelled time: a session may not start in the future
        html = client.get(url).get_data(as_text=True)
        assert "Expires on" in html and "recertify from" in html
        assert "You can recertify now" not in html
    with time_machine.travel(certificate.renew_from + timedelta(days=1)):
        auth.login()
        html = client.get(url).get_data(as_text=True)
        assert "You can recertify now" in html
        briefing = client.get("/trainee/exams/certification").get_data(as_text=True)
        assert "already hold a valid certificate" not in briefing


def test_the_linkedin_link_carries_the_certification(certificate, auth, client):
    url = certs.linkedin_url(certificate)
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    for part in ("name=Microneedling+Practitioner+Certification",
                 "organizationName=Microneedling+Academy", "issueYear=2026", "issueMonth=3",
                 "expirationYear=2028", f"certId={certs.display_code(certificate.code)}",
                 f"%2Fverify%2F{certificate.code}"):
        assert part in url, part
    auth.login()
    html = client.get(f"/trainee/certificates/{certificate.code}").get_data(as_text=True)
    assert "Add to LinkedIn profile" in html


# --- Name corrections -----------------------------------------------------------------


def test_a_name_correction_approved_reissues_and_supersedes(certificate, auth, client, users):
    auth.login()
    response = client.post(f"/trainee/certificates/{certificate.code}/name",
                           data={"name": "Tessa  Trainée", "reason": "accent missing"})
    assert response.status_code == 302
    again = client.post(f"/trainee/certificates/{certificate.code}/name",
                        data={"name": "Tessa X"})
    assert again.status_code == 409
    correction = db.session.scalar(select(NameCorrection))
    assert correction.requested_name == "Tessa Trainée"
    auth.login("manager")
    assert client.get("/manager/name-corrections").status_code == 200
    # The manager manages no cohort with Tessa in it: not found.
    assert client.post(f"/manager/name-corrections/{correction.id}",
                       data={f"c{correction.id}-decision": "approve"}).status_code == 404
    auth.login("admin")
    page = client.get("/manager/name-corrections").get_data(as_text=True)
    assert "Tessa Trainée" in page
    response = client.post(f"/manager/name-corrections/{correction.id}",
                           data={f"c{correction.id}-decision": "approve"})
    assert response.status_code == 302
    db.session.expire_all()
    old = db.session.get(Certificate, certificate.id)
    new = old.superseded_by
    assert new.holder_name == "Tessa Trainée" and new.attempt_id is None
    assert (new.issued_at, new.expires_at) == (old.issued_at, old.expires_at)
    assert new.code != old.code and new.pdf_sha256 != old.pdf_sha256
    assert "Tessa Trainée" in client.get(f"/verify/{new.code}").get_data(as_text=True)
    assert old.status(ISSUED) == "superseded"


def test_a_name_correction_can_be_declined(certificate, users):
    correction = certs.request_name_correction(certificate, users["trainee"], "T. Trainee",
                                               "", ISSUED)
    assert certs.decide_name_correction(correction, users["admin"], False, "not needed",
                                        ISSUED) is None
    db.session.commit()
    assert certificate.status(ISSUED) == "valid" and correction.approved is False
    with pytest.raises(certs.CertificateError):
        certs.decide_name_correction(correction, users["admin"], True, "", ISSUED)


def test_a_name_correction_needs_a_different_name(certificate, auth, client):
    auth.login()
    response = client.post(f"/trainee/certificates/{certificate.code}/name",
                           data={"name": "Tessa Trainee"})
    assert response.status_code == 400
    assert "Give the name as it should be printed." in response.get_data(as_text=True)


def test_the_dashboard_says_when_it_expires_and_when_to_recertify(certificate, auth, client):
    with time_machine.travel(ISSUED + timedelta(days=30)):
        auth.login()
        html = client.get("/trainee/").get_data(as_text=True)
        assert "expires on" in html and "You can recertify now" not in html
    with time_machine.travel(certificate.renew_from + timedelta(days=1)):
        auth.login()
        html = client.get("/trainee/").get_data(as_text=True)
        assert "expiring soon; expires on" in html and "You can recertify now" in html
