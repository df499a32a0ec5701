"""No account enumeration: signing in does the same hash work for an unknown email;
registration and "forgot your password?" answer the same for a known and an unknown
email. (The timing itself is measured in benchmarks/bench_signin.py, not here.)"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from support import PASSWORD, user_by_email

from quizapp import accounts
from quizapp.auth import views as auth_views
from quizapp.extensions import db
from quizapp.models import AuditEvent, PasswordReset, User

KNOWN, UNKNOWN = "trainee@example.com", "nobody@example.com"
GOOD = "amber falcon orchard tide"


def _text(response, email: str = "") -> str:
    """The page as a person reads it, without the per-response CSRF token and with the
    email they typed (echoed in the form) blanked."""
    html = response.get_data(as_text=True)
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", html)
    return html.replace(email, "EMAIL") if email else html


def _flashes(client) -> list:
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


@pytest.fixture
def hash_checks(monkeypatch):
    """The hashes sign-in checked passwords against."""
    checked = []
    real = accounts.check_password_hash

    def spy(hashed, password):
        checked.append(hashed)
        return real(hashed, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    return checked


def test_an_unknown_email_is_checked_against_a_dummy_hash(client, users, hash_checks):
    known = client.post("/auth/login", data={"email": KNOWN, "password": "wrong one"})
    unknown = client.post("/auth/login", data={"email": UNKNOWN, "password": "wrong one"})
    again = client.post("/auth/login", data={"email": "else@example.com", "password": "x"})
    assert known.status_code == unknown.status_code == again.status_code == 401
    assert _text(known, KNOWN) == _text(unknown, UNKNOWN)
    assert len(hash_checks) == 3
    assert hash_checks[0] == users["trainee"].password_hash
    # One dummy, made once, with the method passwords are hashed with.
    assert hash_checks[1] == hash_checks[2] != hash_checks[0]
    assert hash_checks[1].split("$")[0] == users["trainee"].password_hash.split("$")[0]


def test_the_dummy_hash_uses_the_real_method_outside_tests(app, client, users, hash_checks):
    del app.config["PASSWORD_HASH_METHOD"]  # werkzeug's default: scrypt
    client.post("/auth/login", data={"email": UNKNOWN, "password": "wrong one"})
    assert hash_checks[0].startswith("scrypt:")


def test_a_deactivated_account_is_refused_like_any_other(client, users, hash_checks):
    users["trainee"].active = False
    db.session.commit()
    deactivated = client.post("/auth/login", data={"email": KNOWN, "password": PASSWORD})
    unknown = client.post("/auth/login", data={"email": UNKNOWN, "password": PASSWORD})
    assert deactivated.status_code == unknown.status_code == 401
    assert _text(deactivated, KNOWN) == _text(unknown, UNKNOWN) and len(hash_checks) == 2


def test_sign_ins_are_in_the_trail_without_the_password(client, users):
    client.post("/auth/login", data={"email": KNOWN, "password": "my secret guess"})
    client.post("/auth/login", data={"email": UNKNOWN, "password": "another secret"})
    client.post("/auth/login", data={"email": "my secret password", "password": "x"})
    client.post("/auth/login", data={"email": KNOWN, "password": PASSWORD})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind.like("auth.%"))
                                .order_by(AuditEvent.id)).all()
    assert [e.kind for e in events] == ["auth.signin_failed"] * 3 + ["auth.signin"]
    trainee = f"user:{users['trainee'].id}"
    assert [e.subject for e in events] == [trainee, "signin:unknown", "signin:unknown",
                                           trainee]
    assert events[0].data == {"address": "127.0.0.1", "reason": "wrong password"}
    assert events[1].data["email"] == UNKNOWN
    # A password typed into the email box is not kept either.
    assert events[2].data["email"] == "(not an email address)"
    assert events[3].actor_id == users["trainee"].id
    everything = json.dumps([[e.message, e.data] for e in events])
    for secret in ("my secret guess", "another secret", "my secret password", PASSWORD):
        assert secret not in everything


def test_registration_answers_the_same_for_a_taken_email(client, users):
    def register(email, name="Eve Example"):
        return client.post("/auth/register", data={"name": name, "email": email,
                                                   "password": GOOD, "confirm": GOOD})

    before = db.session.scalar(select(func.count()).select_from(User))
    new = register("eve@example.com")
    new_flash = _flashes(client)
    taken = register(KNOWN)
    taken_flash = _flashes(client)
    assert (new.status_code, new.location) == (taken.status_code, taken.location) \
        == (302, "/auth/login")
    assert new_flash == taken_flash and "If this email was new to us" in new_flash[0][1]
    assert db.session.scalar(select(func.count()).select_from(User)) == before + 1
    assert user_by_email(KNOWN).check_password(PASSWORD)  # the taken account is untouched
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "account.register_existing")).one()
    assert event.subject == f"user:{users['trainee'].id}"
    # The same refusals either way: a weak password, a name with control characters.
    for data in ({"password": "password123", "confirm": "password123"},
                 {"name": "Eve\u202egnp"}):
        refusals = [client.post("/auth/register", data={
            "name": "Eve Example", "email": email, "password": GOOD, "confirm": GOOD,
            **data}) for email in ("fresh@example.com", KNOWN)]
        assert [r.status_code for r in refusals] == [400, 400]
        assert _text(refusals[0], "fresh@example.com") == _text(refusals[1], KNOWN)


def test_forgot_password_answers_the_same_and_without_mail_tells_an_admin(app, client,
                                                                          users):
    assert client.get("/auth/forgot").status_code == 200
    known = client.post("/auth/forgot", data={"email": KNOWN})
    known_flash = _flashes(client)
    unknown = client.post("/auth/forgot", data={"email": UNKNOWN})
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location) \
        == (302, "/auth/login")
    assert known_flash == _flashes(client) and "an admin" in known_flash[0][1]
    asked = db.session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "account.reset_requested").order_by(AuditEvent.id)).all()
    assert [e.subject for e in asked] == [f"user:{users['trainee'].id}", "signin:unknown"]
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0
    # The admin sees the request on the account's page, where the reset link is made.
    admin = app.test_client()
    admin.post("/auth/login", data={"email": "admin@example.com", "password": PASSWORD})
    page = admin.get(f"/manager/users/{users['trainee'].id}").get_data(as_text=True)
    assert "Asked for a password reset" in page


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": "mail.example.com",
                                         "MAIL_FROM": "academy@example.com"}])
def test_forgot_password_mails_a_one_time_link_to_a_known_account_only(client, users,
                                                                       monkeypatch):
    sent = []
    monkeypatch.setattr(auth_views, "_send_in_background", sent.append)
    known = client.post("/auth/forgot", data={"email": KNOWN.upper()})
    known_flash = _flashes(client)
    unknown = client.post("/auth/forgot", data={"email": UNKNOWN})
    assert known.location == unknown.location and known_flash == _flashes(client)
    assert "we have sent it a link" in known_flash[0][1]
    assert [mail.to for mail in sent] == [KNOWN]
    link = re.search(r"http://localhost(/auth/reset/\S+)", sent[0].body).group(1)
    assert client.get(link).status_code == 200
    done = client.post(link, data={"password": GOOD, "confirm": GOOD})
    assert done.status_code == 302 and user_by_email(KNOWN).check_password(GOOD)
    assert client.get(link).status_code == 410
