"""Throttles on signing in (per email and per client address), registration and
password resets (per address): counted in the database, so two app instances (two
workers) on one database count together; a clear 429 page with Retry-After.
The thresholds are the defaults of quizapp/config.py, as SECURITY.md states them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from support import PASSWORD, make_app, user_by_email

from quizapp import accounts
from quizapp.config import from_environment
from quizapp.extensions import db
from quizapp.models import AuditEvent, User

T0 = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)
TRAINEE = "trainee@example.com"


@pytest.fixture
def second_worker(app, tmp_path):
    """A second app instance on the same database: another worker, another host."""
    other = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    yield other.test_client()
    with other.app_context():
        db.engine.dispose()


def _sign_in(client, email=TRAINEE, password="not the password", **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)


def test_the_documented_thresholds_are_the_defaults(app, monkeypatch):
    for name in ("THROTTLE_ENABLED", "SIGNIN_ACCOUNT_LIMIT", "SIGNIN_ACCOUNT_WINDOW",
                 "SIGNIN_ADDRESS_LIMIT", "SIGNIN_ADDRESS_WINDOW", "REGISTER_RATE_LIMIT",
                 "REGISTER_RATE_WINDOW", "RESET_RATE_LIMIT", "RESET_RATE_WINDOW",
                 "VERIFY_RATE_LIMIT", "VERIFY_RATE_WINDOW", "TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    defaults = from_environment("/tmp")
    assert defaults["THROTTLE_ENABLED"] is True
    assert (defaults["SIGNIN_ACCOUNT_LIMIT"], defaults["SIGNIN_ACCOUNT_WINDOW"]) == (10, 900)
    assert (defaults["SIGNIN_ADDRESS_LIMIT"], defaults["SIGNIN_ADDRESS_WINDOW"]) == (50, 900)
    assert (defaults["REGISTER_RATE_LIMIT"], defaults["REGISTER_RATE_WINDOW"]) == (20, 3600)
    assert (defaults["RESET_RATE_LIMIT"], defaults["RESET_RATE_WINDOW"]) == (10, 3600)
    assert (defaults["VERIFY_RATE_LIMIT"], defaults["VERIFY_RATE_WINDOW"]) == (30, 60)
    assert defaults["TRUSTED_PROXIES"] == 0
    # The tests below run on exactly these (the test app overrides none of them).
    for key in ("SIGNIN_ACCOUNT_LIMIT", "SIGNIN_ADDRESS_LIMIT", "REGISTER_RATE_LIMIT",
                "RESET_RATE_LIMIT"):
        assert app.config[key] == defaults[key]


def test_fifty_wrong_passwords_over_two_workers_are_throttled_and_the_right_one_too(
        client, second_worker, users):
    with time_machine.travel(T0, tick=False) as clock:
        statuses = [_sign_in(client if n % 2 else second_worker).status_code
                    for n in range(50)]
        # Ten failures count (on either worker); the rest are refused unchecked.
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429] * 40
        refused = _sign_in(client, password=PASSWORD)
        assert refused.status_code == 429
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 2 * 900
        html = refused.get_data(as_text=True)
        assert "Too many sign-in attempts" in html and "Try again in" in html and "UTC" in html
        assert "<h1>Too many attempts</h1>" in html
        assert _sign_in(second_worker, password=PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=retry - 1))
        assert _sign_in(second_worker, password=PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=1))
        assert _sign_in(second_worker, password=PASSWORD).status_code == 302
    # The ten failures are in the trail; the refusals were not checked.
    failures = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == "auth.signin_failed"))
    assert failures == 10


def test_only_failures_count_and_hammering_does_not_prolong_the_pause(client, users):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(12):  # signing in and out all day is no attack
            assert _sign_in(client, password=PASSWORD).status_code == 302
            client.post("/auth/logout")
        for _ in range(10):
            assert _sign_in(client).status_code == 401
        first = _sign_in(client)
        assert first.status_code == 429
        retry = int(first.headers["Retry-After"])
        for _ in range(30):  # refused attempts are not counted
            clock.shift(timedelta(seconds=retry / 60))
            assert _sign_in(client).status_code == 429
        clock.shift(timedelta(seconds=retry / 2 + 1))
        assert _sign_in(client, password=PASSWORD).status_code == 302


def test_an_unknown_email_is_throttled_like_a_known_one(client, users):
    with time_machine.travel(T0, tick=False):
        known = [_sign_in(client).status_code for _ in range(12)]
        unknown = [_sign_in(client, email="nobody@example.com").status_code
                   for _ in range(12)]
    assert known == unknown == [401] * 10 + [429] * 2


def test_one_address_is_throttled_across_emails_and_other_addresses_are_not(
        client, second_worker, users):
    with time_machine.travel(T0, tick=False):
        statuses = [_sign_in(client if n % 2 else second_worker,
                             email=f"guess{n}@example.com").status_code for n in range(52)]
        assert statuses[:50] == [401] * 50 and statuses[50:] == [429, 429]
        assert _sign_in(client, password=PASSWORD).status_code == 429
        elsewhere = _sign_in(client, password=PASSWORD,
                             environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert elsewhere.status_code == 302


def test_registration_is_throttled_per_address(client, second_worker, users):
    with time_machine.travel(T0, tick=False):
        statuses = [(client if n % 2 else second_worker).post("/auth/register", data={
            "name": f"Person {n}", "email": f"p{n}@example.com",
            "password": "amber falcon orchard tide", "confirm": "amber falcon orchard tide",
        }).status_code for n in range(21)]
        refused = client.post("/auth/register", data={})
    assert statuses == [302] * 20 + [429]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many registrations" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == len(users) + 20


def test_password_reset_requests_and_redemptions_share_a_limit_per_address(client, users):
    link = accounts.issue_reset_link(None, users["trainee"], datetime.now(UTC),
                                     timedelta(hours=1))
    db.session.commit()
    with time_machine.travel(datetime.now(UTC), tick=False):
        asked = [client.post("/auth/forgot", data={"email": f"x{n}@example.com"}).status_code
                 for n in range(10)]
        refused = client.post(f"/auth/reset/{link.token}", data={
            "password": "amber falcon orchard tide", "confirm": "amber falcon orchard tide"})
        also = client.post("/auth/forgot", data={"email": TRAINEE},
                           headers={"Accept": "application/json"})
    assert asked == [302] * 10
    assert refused.status_code == 429 and refused.headers["Cache-Control"] == "no-store"
    assert "Too many password-reset attempts" in refused.get_data(as_text=True)
    assert also.status_code == 429 and also.get_json()["retry_after"] > 0
    assert user_by_email(TRAINEE).check_password(PASSWORD)  # the refused reset did nothing


@pytest.mark.parametrize("app_config", [{"THROTTLE_ENABLED": False}])
def test_the_throttles_can_be_turned_off(client, users):
    with time_machine.travel(T0, tick=False):
        assert {_sign_in(client).status_code for _ in range(60)} == {401}
        assert _sign_in(client, password=PASSWORD).status_code == 302


def test_the_client_address_is_the_connection_unless_proxies_are_trusted(app, client,
                                                                         tmp_path, users):
    forged = {"X-Forwarded-For": "203.0.113.50"}
    with time_machine.travel(T0, tick=False):
        for n in range(50):
            _sign_in(client, email=f"g{n}@example.com", headers=forged)
        # Without TRUSTED_PROXIES a forged header changes nothing: this address is spent.
        assert _sign_in(client, password=PASSWORD, headers=forged).status_code == 429
    proxied = make_app(tmp_path, TRUSTED_PROXIES=1,
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        behind = proxied.test_client()
        with time_machine.travel(T0, tick=False):
            ok = _sign_in(behind, password=PASSWORD, headers={"X-Forwarded-For": "192.0.2.9"})
            assert ok.status_code == 302
            with proxied.app_context():
                event = db.session.scalars(select(AuditEvent).where(
                    AuditEvent.kind == "auth.signin")).all()[-1]
                assert event.data["address"] == "192.0.2.9"
    finally:
        with proxied.app_context():
            db.engine.dispose()
