"""Managers and certificates: the list by status and cohort (paginated, constant
queries), suspend, reinstate and revoke with a reason category (audited; 404 for
trainees the manager does not see), a cohort's PDFs as one streamed ZIP."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from cert_support import pass_certification
from helpers import statements
from sqlalchemy import select

from quizapp import audit, certs
from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import AuditEvent, Certificate, Cohort, CohortManager, CohortMember

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cohort(bank_loaded, users):
    """Tessa is in the manager's cohort; Oscar is in no cohort the manager sees."""
    group = Cohort(name="Spring intake")
    db.session.add(group)
    db.session.flush()
    db.session.add_all([CohortMember(cohort_id=group.id, user_id=users["trainee"].id),
                        CohortManager(cohort_id=group.id, user_id=users["manager"].id)])
    db.session.commit()
    return group


@pytest.fixture
def issued(cohort, users):
    return (pass_certification(users["trainee"], ISSUED),
            pass_certification(users["other"], ISSUED))


def test_the_list_shows_only_the_managers_trainees(issued, auth, client):
    tessa, oscar = issued
    auth.login("manager")
    html = client.get("/manager/certificates").get_data(as_text=True)
    assert "Tessa Trainee" in html and "Oscar Other" not in html
    assert "1 certificate" in html
    auth.login("admin")
    html = client.get("/manager/certificates").get_data(as_text=True)
    assert "Tessa Trainee" in html and "Oscar Other" in html


def test_the_status_filter_and_cohort_filter(issued, auth, client, users, cohort):
    tessa, oscar = issued
    certs.revoke(oscar, users["admin"], "identity", "", ISSUED)
    db.session.commit()
    auth.login("admin")
    revoked = client.get("/manager/certificates?status=revoked").get_data(as_text=True)
    assert "Oscar Other" in revoked and "Tessa Trainee" not in revoked
    valid = client.get("/manager/certificates?status=valid").get_data(as_text=True)
    assert "Tessa Trainee" in valid and "Oscar Other" not in valid
    in_cohort = client.get(f"/manager/certificates?cohort={cohort.id}").get_data(as_text=True)
    assert "Tessa Trainee" in in_cohort and "Oscar Other" not in in_cohort
    # The list links its CSV, for the same cohort.
    assert f'href="/manager/exports/certificates.csv?cohort={cohort.id}"' in in_cohort
    assert client.get(f"/manager/exports/certificates.csv?cohort={cohort.id}").status_code == 200
    assert client.get("/manager/certificates?status=bogus").status_code == 400
    assert client.get("/manager/certificates?cohort=999").status_code == 404


def test_a_manager_gets_404_for_a_cohort_they_do_not_manage(issued, auth, client):
    other = Cohort(name="Someone else's")
    db.session.add(other)
    db.session.commit()
    auth.login("manager")
    assert client.get(f"/manager/certificates?cohort={other.id}").status_code == 404


def test_the_list_is_paginated_in_a_constant_number_of_queries(cohort, auth, client, users):
    def add(n: int):
        for i in range(n):
            user = create_user(f"t{i}-{n}@example.com", f"Trainee {n}-{i}", "long enough pw",
                               ["trainee"])
            db.session.flush()
            db.session.add(CohortMember(cohort_id=cohort.id, user_id=user.id))
            db.session.add(Certificate(code=certs.new_code(), user_id=user.id,
                                       exam_id="certification", holder_name=user.name,
                                       title="T", issued_at=ISSUED,
                                       expires_at=ISSUED + timedelta(days=700),
                                       renew_from=ISSUED + timedelta(days=610)))
        db.session.commit()

    auth.login("manager")
    add(3)
    with statements() as few:
        assert client.get("/manager/certificates").status_code == 200
    add(30)
    with statements() as many:
        page = client.get("/manager/certificates").get_data(as_text=True)
    assert len(few) == len(many)
    assert "33 certificates, page 1 of 2" in page and 'rel="next"' in page
    second = client.get("/manager/certificates?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    assert client.get("/manager/certificates?page=0").status_code == 400


def test_suspend_reinstate_and_revoke_with_a_reason_category(issued, auth, client, users):
    tessa, _oscar = issued
    auth.login("manager")
    base = f"/manager/certificates/{tessa.id}"
    assert client.get(base).status_code == 200
    missing = client.post(f"{base}/suspend", data={"suspend-note": "x"})
    assert missing.status_code == 400 and "Choose a reason category." in missing.get_data(
        as_text=True)
    response = client.post(f"{base}/suspend", data={"suspend-category": "practice_concern",
                                                    "suspend-note": "complaint filed"})
    assert response.status_code == 302
    assert "suspended since" in client.get(f"/verify/{tessa.code}").get_data(as_text=True)
    assert client.post(f"{base}/suspend", data={
        "suspend-category": "other"}).status_code == 409
    assert client.post(f"{base}/reinstate", data={"reinstate-note": "dismissed"}
                       ).status_code == 302
    assert client.get(f"/verify/{tessa.code}/status.json").get_json()["status"] == "valid"
    # Revoking is final, so it waits for the box that says so: refused without it.
    unconfirmed = client.post(f"{base}/revoke", data={"revoke-category": "exam_integrity"})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    assert client.get(f"/verify/{tessa.code}/status.json").get_json()["status"] == "valid"
    assert client.post(f"{base}/revoke", data={"revoke-category": "exam_integrity",
                                               "revoke-note": "shared questions",
                                               "revoke-confirm": "y"}
                       ).status_code == 302
    status = client.get(f"/verify/{tessa.code}/status.json").get_json()
    assert status["status"] == "revoked" and status["reasonCategory"] == "exam_integrity"
    assert client.post(f"{base}/reinstate", data={}).status_code == 409
    kinds = [e.kind for e in audit.trail(audit.subject("certificate", tessa.id))]
    assert kinds == ["certificate_suspended", "certificate_reinstated", "certificate_revoked"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "certificate_revoked"))
    assert event.actor_id == users["manager"].id and event.data["category"] == "exam_integrity"
    assert "shared questions" in event.message
    page = client.get(base).get_data(as_text=True)
    assert "Exam integrity concern" in page and "certificate_revoked" not in page


def test_a_manager_gets_404_for_a_trainee_they_do_not_see(issued, auth, client):
    _tessa, oscar = issued
    auth.login("manager")
    base = f"/manager/certificates/{oscar.id}"
    assert client.get(base).status_code == 404
    assert client.post(f"{base}/revoke", data={"revoke-category": "other"}).status_code == 404
    assert client.post(f"{base}/suspend", data={"suspend-category": "other"}
                       ).status_code == 404
    assert client.get("/manager/certificates/9999").status_code == 404
    db.session.expire_all()
    assert oscar.status(ISSUED) == "valid"


def test_trainees_and_trainers_cannot_manage_certificates(issued, auth, client):
    tessa, _oscar = issued
    for who in ("trainee", "trainer"):
        auth.login(who)
        assert client.get("/manager/certificates").status_code == 403
        assert client.post(f"/manager/certificates/{tessa.id}/revoke",
                           data={"revoke-category": "other"}).status_code == 403


def test_a_cohorts_certificates_download_as_one_zip(issued, auth, client, cohort):
    tessa, _oscar = issued
    auth.login("manager")
    response = client.get(f"/manager/certificates.zip?cohort={cohort.id}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [f"Tessa-Trainee-{tessa.code}.pdf"]
    assert archive.read(archive.namelist()[0]) == tessa.pdf
    auth.login("admin")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/manager/certificates.zip").data))
    assert len(archive.namelist()) == 2
