"""The public verification page and status: every status, the fingerprint check of a
dropped PDF, the rate limit shared by every worker, noindex, never the email."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cert_support import pass_certification
from sqlalchemy import select
from support import make_app

from quizapp import certs, throttle
from quizapp.config import from_environment
from quizapp.extensions import db
from quizapp.models import Certificate

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {"VERIFY_RATE_LIMIT": 1000}


@pytest.fixture
def certificate(bank_loaded, users):
    return pass_certification(users["trainee"], ISSUED)


def _page(client, certificate) -> str:
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex' in html
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _status(client, certificate) -> dict:
    response = client.get(f"/verify/{certificate.code}/status.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def test_a_valid_certificate_shows_every_printed_field_and_no_email(certificate, client):
    with time_machine.travel(ISSUED + timedelta(days=30)):
        html = _page(client, certificate)
        status = _status(client, certificate)
    assert "This certificate is valid." in html
    for field in ("Tessa Trainee", "Microneedling Practitioner Certification",
                  certificate.scope, "Microneedling Academy", "2 March 2026",
                  "2 March 2028", certs.display_code(certificate.code)):
        assert field in html, field
    assert "trainee@example.com" not in html and "@" not in html
    assert status["status"] == "valid" and status["revokedCredentials"] == []
    assert status["credential"].endswith(f"/verify/{certificate.code}/credential.jwt")
    assert "trainee@example.com" not in str(status)


def test_the_page_is_not_indexed(certificate, client):
    response = client.get(f"/verify/{certificate.code}")
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex' in response.get_data(as_text=True)
    assert client.get(f"/verify/{certificate.code}/status.json").headers["X-Robots-Tag"]


def test_an_unknown_code_is_not_found(app, client):
    assert client.get("/verify/NOSUCHCODE").status_code == 404
    assert client.get("/verify/NOSUCHCODE/status.json").status_code == 404
    assert client.get("/verify/NOSUCHCODE/credential.jwt").status_code == 404
    assert client.get("/verify/" + "A" * 80).status_code == 404


def test_expiring_soon_then_expired(certificate, client):
    with time_machine.travel(certificate.renew_from + timedelta(days=1)):
        assert "It expires soon, on 2 March 2028." in _page(client, certificate)
        assert _status(client, certificate)["status"] == "expiring_soon"
    with time_machine.travel(certificate.expires_at + timedelta(seconds=1)):
        assert "This certificate expired on 2 March 2028." in _page(client, certificate)
        assert _status(client, certificate)["status"] == "expired"


def test_suspended_then_reinstated_shows_at_once(certificate, client, users):
    certs.suspend(certificate, users["manager"], "practice_concern", "complaint filed",
                  ISSUED + timedelta(days=5))
    db.session.commit()
    html = _page(client, certificate)
    assert "This certificate is suspended since 7 March 2026." in html
    assert "Concern about the holder&#39;s practice" in html
    assert "complaint filed" not in html  # the note is for the audit trail
    status = _status(client, certificate)
    assert status["status"] == "suspended" and status["reasonCategory"] == "practice_concern"
    assert status["revokedCredentials"][0]["revoked"] is True
    certs.reinstate(certificate, users["manager"], "complaint dismissed",
                    ISSUED + timedelta(days=9))
    db.session.commit()
    assert _status(client, certificate)["status"] == "valid"


def test_revoked_shows_the_date_and_reason_category(certificate, client, users):
    certs.revoke(certificate, users["admin"], "exam_integrity", "shared the questions",
                 ISSUED + timedelta(days=3))
    db.session.commit()
    html = _page(client, certificate)
    assert "This certificate was revoked on 5 March 2026." in html
    assert "Reason: Exam integrity concern." in html and "shared the questions" not in html
    status = _status(client, certificate)
    assert status["status"] == "revoked" and status["since"] == "2026-03-05T09:00:00Z"


def test_superseded_links_to_the_newer_certificate(certificate, client, users):
    with time_machine.travel(certificate.renew_from + timedelta(days=2), tick=False):
        newer = pass_certification(users["trainee"], certificate.renew_from + timedelta(days=2))
    db.session.expire_all()
    html = _page(client, certificate)
    assert "superseded by a newer certificate" in html
    assert certs.display_code(newer.code) in html
    status = _status(client, certificate)
    assert status["status"] == "superseded"
    assert status["supersededBy"].endswith(f"/verify/{newer.code}/credential.jwt")
    assert _status(client, newer)["status"] == "valid"


# --- The fingerprint check ------------------------------------------------------------


def _drop(client, certificate, data: bytes, name: str = "certificate.pdf"):
    return client.post(f"/verify/{certificate.code}",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_issued_pdf_matches_and_an_edited_one_does_not(certificate, client):
    issued = certificate.pdf
    response = _drop(client, certificate, issued)
    assert response.status_code == 200
    assert "This is the document we issued." in response.get_data(as_text=True)
    edited = bytearray(issued)
    position = issued.index(b"/Title") + 10
    edited[position] = (edited[position] + 1) % 256
    response = _drop(client, certificate, bytes(edited))
    assert response.status_code == 200
    assert "This file was not issued by us." in response.get_data(as_text=True)


def test_another_certificates_pdf_does_not_match(certificate, client, users):
    other = pass_certification(users["other"], ISSUED)
    text = _drop(client, certificate, other.pdf).get_data(as_text=True)
    assert "This file was not issued by us." in text


def test_a_credential_can_be_dropped_too(certificate, client, users):
    token = client.get(f"/verify/{certificate.code}/credential.jwt").data
    assert "signed by us for this certificate" in _drop(
        client, certificate, token, "c.jwt").get_data(as_text=True)
    other = pass_certification(users["other"], ISSUED)
    other_token = client.get(f"/verify/{other.code}/credential.jwt").data
    assert "was not signed by us for this certificate" in _drop(
        client, certificate, other_token, "c.jwt").get_data(as_text=True)


def test_no_file_or_another_kind_of_file_is_a_clear_400(certificate, client):
    response = client.post(f"/verify/{certificate.code}", data={})
    assert response.status_code == 400 and "Choose the file to check." in response.get_data(
        as_text=True)
    response = _drop(client, certificate, b"hello", "notes.txt")
    assert response.status_code == 400
    assert "neither a PDF nor a signed credential" in response.get_data(as_text=True)


# --- The rate limit -------------------------------------------------------------------


def test_the_documented_default_allows_thirty_checks_a_minute(app, certificate, client,
                                                             monkeypatch):
    monkeypatch.delenv("VERIFY_RATE_LIMIT", raising=False)
    monkeypatch.delenv("VERIFY_RATE_WINDOW", raising=False)
    defaults = from_environment("/tmp")
    assert (defaults["VERIFY_RATE_LIMIT"], defaults["VERIFY_RATE_WINDOW"]) == (30, 60)
    app.config.update(VERIFY_RATE_LIMIT=defaults["VERIFY_RATE_LIMIT"],
                      VERIFY_RATE_WINDOW=defaults["VERIFY_RATE_WINDOW"])
    url = f"/verify/{certificate.code}"
    with time_machine.travel(datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC), tick=False):
        statuses = [client.get(url).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]


def test_the_limit_is_shared_by_two_app_instances_on_one_database(app, certificate, client,
                                                                  tmp_path):
    app.config["VERIFY_RATE_LIMIT"] = 4
    other = make_app(tmp_path, **{**app.config, "TESTING": True})
    second = other.test_client()
    url = f"/verify/{certificate.code}"
    try:
        with time_machine.travel(datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC), tick=False):
            assert client.get(url).status_code == 200
            assert second.get(url).status_code == 200
            assert client.get(url + "/status.json").status_code == 200
            assert second.get(url).status_code == 200
            refused = client.get(url)
            also = second.get(url + "/status.json")
            elsewhere = client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert refused.status_code == 429 and also.status_code == 429
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 120
        html = refused.get_data(as_text=True)
        assert f"Try again in {retry} seconds" in html and "UTC" in html
        assert '<meta name="robots" content="noindex' in html
        assert also.get_json()["retry_after"] >= retry
        assert elsewhere.status_code == 200
        with time_machine.travel(datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC) + timedelta(
                seconds=also.get_json()["retry_after"]), tick=False):
            assert client.get(url).status_code == 200
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_throttle_counts_in_a_sliding_window(app):
    start = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)
    verdicts = [throttle.hit("t:a", 3, 60, start + timedelta(seconds=s)) for s in (0, 1, 2, 3)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    # Four counted (the refused one too): in the next window the old count fades, and
    # 30 s into it 4 * (1 - 30/60) + 1 = 3 fits again: 57 + 30 seconds from now.
    assert verdicts[-1].retry_after == 87
    assert throttle.hit("t:a", 3, 60, start + timedelta(seconds=90)).allowed
    assert throttle.hit("t:a", 3, 60, start + timedelta(seconds=180)).allowed
    assert throttle.hit("t:b", 3, 60, start + timedelta(seconds=3)).allowed  # other keys
    db.session.commit()


def test_the_throttle_deletes_counts_no_window_reads(app):
    from sqlalchemy import func, select

    from quizapp.models import ThrottleCounter

    start = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)
    for n in range(5):
        throttle.hit(f"t:{n}", 3, 60, start)
    throttle.hit("t:late", 3, 60, start + timedelta(minutes=5))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ThrottleCounter)) == 1


def test_the_whole_journey_as_a_new_user_would_take_it(bank_loaded, users, auth, client):
    """Pass, download the PDF, follow its QR code signed out, drop the PDF, verify the
    credential with a few lines of independent code, then see a revocation."""
    import jwt as pyjwt
    from cert_support import qr_codes
    from helpers import answer_all, start, submit

    auth.login()
    attempt_id = start(client)
    answer_all(client, attempt_id)
    submit(client, attempt_id)
    result = client.get(f"/trainee/attempts/{attempt_id}/result", follow_redirects=True)
    code = re.search(r"/trainee/certificates/([A-Z2-7]{24})", result.get_data(as_text=True))[1]
    pdf = client.get(f"/trainee/certificates/{code}/certificate.pdf").data
    token = client.get(f"/trainee/certificates/{code}/credential.jwt").get_data(as_text=True)
    auth.logout()

    (url,) = qr_codes(pdf)
    assert url == f"http://localhost/verify/{code}"
    page = client.get(url.removeprefix("http://localhost"))
    assert page.status_code == 200 and "This certificate is valid." in page.get_data(
        as_text=True)
    dropped = client.post(url.removeprefix("http://localhost"),
                          data={"file": (io.BytesIO(pdf), "certificate.pdf")},
                          content_type="multipart/form-data")
    assert "This is the document we issued." in dropped.get_data(as_text=True)

    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(pyjwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    claims = pyjwt.decode(token, key, algorithms=["RS256"])
    status_url = claims["credentialStatus"]["id"].removeprefix("http://localhost")
    assert client.get(status_url).get_json()["status"] == "valid"

    auth.login("admin")
    certificate_id = db.session.scalar(select(Certificate.id).where(Certificate.code == code))
    response = client.post(f"/manager/certificates/{certificate_id}/revoke",
                           data={"revoke-category": "issued_in_error", "revoke-confirm": "y"})
    assert response.status_code == 302
    auth.logout()
    assert "This certificate was revoked on" in client.get(
        url.removeprefix("http://localhost")).get_data(as_text=True)
    assert client.get(status_url).get_json()["status"] == "revoked"


def test_the_throttle_waits_and_refunds_without_counting(app):
    start = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)
    for s in range(3):
        throttle.hit("t:w", 3, 60, start + timedelta(seconds=s))
    # Full: in the next window 3 * (1 - 20/60) + 1 = 3 fits, 57 + 20 seconds from now.
    assert throttle.wait("t:w", 3, 60, start + timedelta(seconds=3)) == 77
    assert throttle.wait("t:w", 3, 60, start + timedelta(seconds=3)) == 77  # counted nothing
    throttle.refund("t:w", 60, start + timedelta(seconds=4))
    assert throttle.wait("t:w", 3, 60, start + timedelta(seconds=4)) == 0
    assert throttle.hit("t:w", 3, 60, start + timedelta(seconds=4)).allowed
    assert throttle.wait("t:other", 3, 60, start) == 0
    db.session.commit()
