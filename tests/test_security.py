"""Who may reach what, CSRF, sessions, cookies and headers (OWASP ASVS themes)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask import url_for
from helpers import attempt, items, start
from sqlalchemy import func, select
from support import PASSWORD, make_app, user_by_email

from quizapp.extensions import db
from quizapp.models import User

# The authorization table: every route, and who may use it. A route missing here
# fails `test_every_route_is_in_the_table`, so new routes must be thought about.
ANYONE = {"anonymous", "trainee", "trainer", "manager", "admin"}
ACCESS = {
    "static": ANYONE,
    "public.index": ANYONE,
    "public.verify_form": ANYONE,
    "public.verify": ANYONE,
    "public.check": ANYONE,
    "public.status": ANYONE,
    "public.credential": ANYONE,
    "public.jwks": ANYONE,
    "public.issuer": ANYONE,
    "health.healthz": ANYONE,
    "auth.login": ANYONE,
    "auth.logout": ANYONE,
    "auth.register": ANYONE,
    "auth.reset_password": ANYONE,
    "auth.forgot_password": ANYONE,
    "auth.account": {"trainee", "trainer", "manager", "admin"},
    "auth.logout_everywhere": {"trainee", "trainer", "manager", "admin"},
    "manager.audit": {"admin"},
    "trainee.dashboard": {"trainee"},
    "trainee.start": {"trainee"},
    "trainee.resume": {"trainee"},
    "trainee.question": {"trainee"},
    "trainee.answer": {"trainee"},
    "trainee.autosave": {"trainee"},
    "trainee.summary": {"trainee"},
    "trainee.submit": {"trainee"},
    "trainee.result": {"trainee"},
    "trainee.history": {"trainee"},
    "trainee.briefing": {"trainee"},
    "trainee.study": {"trainee"},
    "trainee.study_topic": {"trainee"},
    "trainee.certificate": {"trainee"},
    "trainee.certificate_pdf": {"trainee"},
    "trainee.certificate_credential": {"trainee"},
    "trainee.request_name_correction": {"trainee"},
    "trainer.questions": {"trainer", "admin"},
    "trainer.question": {"trainer", "admin"},
    "trainer.new_question": {"trainer", "admin"},
    "trainer.edit_question": {"trainer", "admin"},
    "trainer.preview": {"trainer", "admin"},
    "trainer.history": {"trainer", "admin"},
    "trainer.review_queue": {"trainer", "admin"},
    "trainer.submit": {"trainer", "admin"},
    "trainer.approve": {"trainer", "admin"},
    "trainer.send_back": {"trainer", "admin"},
    "trainer.retire": {"trainer", "admin"},
    "trainer.comment": {"trainer", "admin"},
    "trainer.sources": {"trainer", "admin"},
    "trainer.upload_document": {"trainer", "admin"},
    "trainer.document": {"trainer", "admin"},
    "trainer.edit_section": {"trainer", "admin"},
    "trainer.document_drafts": {"trainer", "admin"},
    "trainer.save_drafts": {"trainer", "admin"},
    "trainer.add_fact": {"trainer", "admin"},
    "trainer.exchange": {"trainer", "admin"},
    "trainer.download_bank": {"trainer", "admin"},
    "trainer.download_gift": {"trainer", "admin"},
    "trainer.download_csv": {"trainer", "admin"},
    "trainer.upload_bank": {"trainer", "admin"},
    "trainer.preview_csv": {"trainer", "admin"},
    "trainer.import_csv": {"trainer", "admin"},
    "manager.users": {"manager", "admin"},
    "manager.new_user": {"manager", "admin"},
    "manager.user": {"admin"},
    "manager.user_roles": {"admin"},
    "manager.deactivate_user": {"admin"},
    "manager.reactivate_user": {"admin"},
    "manager.reset_link": {"admin"},
    "manager.regrades": {"manager", "admin"},
    "manager.regrade_preview": {"manager", "admin"},
    "manager.regrade_apply": {"manager", "admin"},
    "manager.regrade_decision": {"manager", "admin"},
    "manager.trainees": {"manager", "admin"},
    "manager.trainee": {"manager", "admin"},
    "manager.transcript": {"manager", "admin"},
    "manager.dashboard": {"manager", "admin"},
    "manager.cohorts": {"manager", "admin"},
    "manager.new_cohort": {"manager", "admin"},
    "manager.cohort": {"manager", "admin"},
    "manager.edit_cohort": {"manager", "admin"},
    "manager.add_members": {"manager", "admin"},
    "manager.remove_member": {"manager", "admin"},
    "manager.add_manager": {"manager", "admin"},
    "manager.remove_manager": {"manager", "admin"},
    "manager.export_attempts": {"manager", "admin"},
    "manager.export_certificates": {"manager", "admin"},
    "manager.exams": {"manager", "admin"},
    "manager.exam_settings": {"manager", "admin"},
    "manager.exam_versions": {"manager", "admin"},
    "manager.accommodations_list": {"manager", "admin"},
    "manager.trainee_accommodations": {"manager", "admin"},
    "manager.certificates": {"manager", "admin"},
    "manager.certificates_zip": {"manager", "admin"},
    "manager.certificate": {"manager", "admin"},
    "manager.suspend_certificate": {"manager", "admin"},
    "manager.reinstate_certificate": {"manager", "admin"},
    "manager.revoke_certificate": {"manager", "admin"},
    "manager.name_corrections": {"manager", "admin"},
    "manager.decide_name_correction": {"manager", "admin"},
    "manager.items": {"manager", "admin"},
    "manager.items_csv": {"manager", "admin"},
    "trainer.angoff_ratings": {"trainer", "admin"},
}
SAMPLE_ARGS = {"attempt_id": 1, "position": 1, "exam_id": "certification",
               "topic_id": "contraindications",
               "code": "NOPE", "question_id": "mech-001", "filename": "app.css",
               "version": 1, "document_id": "doc-000", "number": 1,
               "user_id": 1, "token": "NOPE", "cohort_id": 1,
               "certificate_id": 1, "correction_id": 1}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ACCESS)


def _routes(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                url = url_for(rule.endpoint, **{a: SAMPLE_ARGS[a] for a in rule.arguments})
                yield rule.endpoint, method, url


@pytest.mark.parametrize("who", sorted(ANYONE))
def test_authorization_matrix(bank_loaded, client, auth, who):
    if who != "anonymous":
        auth.login(who)
    for endpoint, method, url in _routes(bank_loaded):
        if endpoint in ("auth.logout", "auth.logout_everywhere"):
            continue  # signing out would end this test's session
        response = client.open(url, method=method, data={})
        response.close()
        allowed = who in ACCESS[endpoint]
        if allowed:
            assert response.status_code not in (401, 403), (who, method, url)
            assert "/auth/login" not in (response.location or ""), (who, method, url)
        elif who == "anonymous":
            assert response.status_code == 302, (method, url)
            assert "/auth/login" in response.location
        else:
            assert response.status_code == 403, (who, method, url)


def test_no_get_changes_state(bank_loaded, client, auth):
    """GETs change nothing a trainee did. The documented exceptions: a GET on an
    attempt whose time has run out finishes it (tested in test_attempts), and opening
    study notes records that they were read (tested in test_exam_integrity)."""
    auth.login()
    start(client)
    before = db.session.execute(select(func.count()).select_from(User)).scalar()
    snapshot = [(i.response, i.sequence, i.flagged) for i in items(1)]
    for endpoint, method, url in _routes(bank_loaded):
        if method == "GET" and endpoint != "static":
            client.get(url)
    assert [(i.response, i.sequence, i.flagged) for i in items(1)] == snapshot
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == before
    # Past the deadline, the first GET finishes the attempt at its deadline; nothing
    # the trainee saved changes.
    deadline = attempt(1).deadline
    with time_machine.travel(deadline + timedelta(minutes=5), tick=False):
        for endpoint, method, url in _routes(bank_loaded):
            if method == "GET" and endpoint != "static":
                client.get(url)
    finished = attempt(1)
    assert finished.finished and finished.finished_at == deadline
    assert [(i.response, i.sequence, i.flagged) for i in items(1)] == snapshot


# These tests build the app with CSRF protection on, as it runs outside tests.
with_csrf = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _login_with_token(client):
    token = _token(client.get("/auth/login").get_data(as_text=True))
    return client.post("/auth/login", data={"email": "trainee@example.com",
                                            "password": PASSWORD, "csrf_token": token})


@with_csrf
def test_every_post_without_a_csrf_token_is_refused(app, shipped_bank):
    from quizapp.accounts import create_user
    from quizapp.bank_store import import_bank

    import_bank(shipped_bank)
    create_user("trainee@example.com", "Tessa", PASSWORD, ["trainee", "manager", "trainer"])
    db.session.commit()
    client = app.test_client()
    assert _login_with_token(client).status_code == 302
    posts = [(e, url) for e, m, url in _routes(app) if m == "POST"]
    assert len(posts) >= 7
    for endpoint, url in posts:
        response = client.post(url, data={"sequence": "0", "email": "x@example.com"})
        assert response.status_code == 400, endpoint
        assert "security token" in response.get_data(as_text=True)


@with_csrf
def test_the_csrf_token_outlives_the_longest_exam(app, shipped_bank):
    from quizapp.accounts import create_user
    from quizapp.bank_store import import_bank

    import_bank(shipped_bank)
    create_user("trainee@example.com", "Tessa", PASSWORD, ["trainee"])
    db.session.commit()
    client = app.test_client()
    with time_machine.travel("2026-03-02 09:00Z", tick=False) as traveller:
        _login_with_token(client)
        dashboard = client.get("/trainee/").get_data(as_text=True)
        client.post("/trainee/exams/certification/start", data={"csrf_token": _token(dashboard)})
        page = client.get("/trainee/attempts/1/questions/1").get_data(as_text=True)
        token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                          page).group(1)
        traveller.shift(timedelta(minutes=44, seconds=50))
        item = items(1)[0]
        response = client.post("/trainee/attempts/1/questions/1", data={
            "csrf_token": token, "sequence": "0", "answer": item.option_tokens[0], "go": "next"})
    assert response.status_code == 302
    assert items(1)[0].response == [item.option_order[0]]


def test_sign_in_failure_is_generic_and_sign_in_succeeds(client, users):
    wrong = client.post("/auth/login", data={"email": "trainee@example.com", "password": "nope"})
    unknown = client.post("/auth/login", data={"email": "who@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert b"do not match an active account" in wrong.data
    ok = client.post("/auth/login", data={"email": "TRAINEE@example.com ", "password": PASSWORD})
    assert ok.status_code == 302


def test_next_only_redirects_within_the_site(client, users):
    for target, expected in [("/trainee/history", "/trainee/history"),
                             ("https://evil.example/", "/trainee/"),
                             ("//evil.example/", "/trainee/")]:
        client.post("/auth/logout")
        response = client.post(f"/auth/login?next={target}",
                               data={"email": "trainee@example.com", "password": PASSWORD})
        assert response.location == expected


def test_a_copied_session_cookie_stops_working_after_sign_out(app, auth, client):
    auth.login()
    stolen = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/trainee/").status_code == 302


def test_a_password_change_ends_other_sessions(app, auth, client):
    from quizapp import accounts
    from quizapp.models import utcnow

    auth.login()
    user = user_by_email("trainee@example.com")
    link = accounts.issue_reset_link(None, user, utcnow(), timedelta(hours=1))
    accounts.redeem_reset(link.token, "quiet harbour lantern meadow", utcnow())
    db.session.commit()
    assert client.get("/trainee/").status_code == 302


def test_a_disabled_account_cannot_sign_in_or_keep_its_session(app, auth, client):
    auth.login()
    user = user_by_email("trainee@example.com")
    user.active = False
    db.session.commit()
    assert client.get("/trainee/").status_code == 302
    assert auth.login().status_code == 401


def test_session_cookie_flags(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with app.app_context():
        db.create_all()
        from quizapp.accounts import create_user

        create_user("t@example.com", "T", PASSWORD, ["trainee"])
        db.session.commit()
        response = app.test_client().post(
            "/auth/login", data={"email": "t@example.com", "password": PASSWORD},
            base_url="https://localhost")
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
        db.drop_all()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/auth/login", "/verify/NOPE", "/trainee/"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_in_pages(bank_loaded, client, auth):
    auth.login()
    start(client)
    for path in ["/", "/trainee/", "/trainee/attempts/1/questions/1",
                 "/trainee/attempts/1/summary"]:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son\w+=", html), path


def test_extra_fields_change_nothing(bank_loaded, client, auth):
    """Mass assignment: role, score, correctness or owner fields are ignored."""
    response = client.post("/auth/register", data={
        "name": "Eve", "email": "eve@example.com", "password": "long enough pw",
        "confirm": "long enough pw", "role": "admin", "roles": "admin", "is_admin": "1"})
    assert response.status_code == 302
    assert user_by_email("eve@example.com").roles == {"trainee"}
    client.post("/auth/login", data={"email": "eve@example.com", "password": "long enough pw"})
    attempt_id = start(client)
    item = items(attempt_id)[0]
    client.post(f"/trainee/attempts/{attempt_id}/questions/1", data={
        "answer": item.option_order[0], "sequence": "0", "score": "100", "is_correct": "1",
        "mark": "1", "user_id": "1", "passed": "1"})
    client.post(f"/trainee/attempts/{attempt_id}/submit", data={"score_percent": "100"})
    db.session.expire_all()
    from quizapp.models import Attempt

    done = db.session.get(Attempt, attempt_id)
    assert done.score_percent < 10 and done.user.email == "eve@example.com"


def test_a_manager_cannot_create_an_admin(client, auth):
    auth.login("manager")
    response = client.post("/manager/users/new", data={
        "name": "Sneaky", "email": "sneaky@example.com", "password": "long enough pw",
        "roles": ["admin"]})
    assert response.status_code == 400
    assert user_by_email("sneaky@example.com") is None


def test_error_pages_show_no_internals(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert b"Something went wrong" in response.data
