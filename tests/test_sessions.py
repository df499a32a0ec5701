"""Sessions per device: signing out ends this device's session only, "sign out
everywhere" ends all, and a new password, deactivation or a change of roles ends the
others at once. The user loader checks the session row in one query."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_login import current_user
from helpers import statements
from sqlalchemy import func, select
from support import PASSWORD, PEOPLE

from quizapp import accounts
from quizapp.extensions import db
from quizapp.models import AuditEvent, UserSession

FIREFOX = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101"
           " Firefox/131.0")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
          " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _device(app, who="trainee", agent=FIREFOX):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    response = client.post("/auth/login", data={"email": PEOPLE[who][0],
                                                "password": PASSWORD})
    assert response.status_code == 302
    return client


def _signed_in(client, home="/trainee/") -> bool:
    return client.get(home).status_code == 200


def _sessions(user) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id))


def test_signing_out_ends_this_device_only(app, users):
    laptop, phone = _device(app), _device(app, agent=IPHONE)
    laptop.post("/auth/logout")
    assert not _signed_in(laptop) and _signed_in(phone)
    assert _sessions(users["trainee"]) == 1


def test_sign_out_everywhere_ends_every_session_and_is_recorded(app, users):
    laptop, phone = _device(app), _device(app, agent=IPHONE)
    other = _device(app, who="other")
    page = laptop.get("/auth/account").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert page.count(">this device<") == 1 and "<h1>Your account</h1>" in page
    assert "Sign out everywhere" in page
    response = phone.post("/auth/logout-everywhere")
    assert response.status_code == 302 and response.location == "/auth/login"
    assert not _signed_in(laptop) and not _signed_in(phone) and _signed_in(other)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "auth.signout_everywhere")).one()
    assert event.subject == f"user:{users['trainee'].id}" and event.data == {"sessions": 2}


def test_the_account_page_is_for_signed_in_people(app, client, users):
    assert client.get("/auth/account").status_code == 302
    assert client.post("/auth/logout-everywhere").status_code == 302
    for who, home in (("trainer", "/trainer/questions"), ("admin", "/manager/users")):
        device = _device(app, who=who)
        assert device.get("/auth/account").status_code == 200
        assert _signed_in(device, home)


def test_a_new_password_ends_every_session(app, users):
    laptop, phone = _device(app), _device(app, agent=IPHONE)
    link = accounts.issue_reset_link(None, users["trainee"], datetime.now(UTC),
                                     timedelta(hours=1))
    db.session.commit()
    response = phone.post(f"/auth/reset/{link.token}", data={
        "password": "amber falcon orchard tide", "confirm": "amber falcon orchard tide"})
    assert response.status_code == 302
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _sessions(users["trainee"]) == 0


def test_deactivation_ends_the_sessions_at_once(app, users):
    laptop = _device(app)
    admin = _device(app, who="admin")
    admin.post(f"/manager/users/{users['trainee'].id}/deactivate")
    assert not _signed_in(laptop) and _sessions(users["trainee"]) == 0


def test_a_change_of_roles_ends_the_others_but_the_admin_keeps_this_session(app, users):
    trainee = _device(app)
    admin_here, admin_phone = _device(app, who="admin"), _device(app, "admin", IPHONE)
    admin_here.post(f"/manager/users/{users['trainee'].id}/roles",
                    data={"roles": ["trainee", "trainer"]})
    assert not _signed_in(trainee)
    admin_id = users["admin"].id
    response = admin_here.post(f"/manager/users/{admin_id}/roles",
                               data={"roles": ["admin", "trainer"]})
    assert response.status_code == 302
    assert _signed_in(admin_here, "/trainer/questions")
    assert not _signed_in(admin_phone, "/manager/users")
    assert _sessions(users["admin"]) == 1


def test_only_the_hash_of_a_session_token_is_stored(app, users):
    laptop = _device(app)
    token = _cookie_token(app, laptop)
    row = db.session.scalars(select(UserSession)).one()
    assert row.id == hashlib.sha256(token.encode()).hexdigest() and len(token) >= 43
    assert row.user_agent == "Firefox on Windows"
    assert row.user_id == users["trainee"].id


def _cookie_token(app, client) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)["_user_id"]


def test_the_user_loader_takes_one_query(app, users):
    @app.get("/whoami-for-test")
    def whoami():
        return f"{current_user.name} {sorted(current_user.roles)}"

    laptop = _device(app)
    with statements() as count:
        response = laptop.get("/whoami-for-test")
    assert response.get_data(as_text=True) == "Tessa Trainee ['trainee']"
    assert len(count) == 1


def test_last_seen_is_written_every_few_minutes_not_every_request(app, users):
    with time_machine.travel(T0, tick=False) as clock:
        laptop = _device(app)
        clock.shift(timedelta(minutes=2))
        assert _signed_in(laptop)
        db.session.expire_all()
        assert db.session.scalars(select(UserSession)).one().last_seen_at == T0
        clock.shift(timedelta(minutes=4))
        assert _signed_in(laptop)
        db.session.expire_all()
        assert db.session.scalars(select(UserSession)).one().last_seen_at == T0 + timedelta(
            minutes=6)


@pytest.mark.parametrize("app_config", [{"SESSION_IDLE_DAYS": 14}])
def test_an_idle_session_ends_when_a_limit_is_set(app, users):
    with time_machine.travel(T0, tick=False) as clock:
        laptop = _device(app)
        clock.shift(timedelta(days=13))
        assert _signed_in(laptop)
        clock.shift(timedelta(days=14, minutes=1))
        assert not _signed_in(laptop)


def test_a_cookie_of_the_old_kind_signs_no_one_in(app, client, users):
    with client.session_transaction() as session:
        session["_user_id"] = f"{users['trainee'].id}:1"
    assert not _signed_in(client)
