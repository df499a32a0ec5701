"""`flask certs remind`: an email to each holder whose certificate entered its
recertification window, once, through a real SMTP server started here (aiosmtpd);
without SMTP it says that nothing was sent."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from cert_support import pass_certification

from quizapp import certs
from quizapp.extensions import db

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos,
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def app_config():
    return {"PUBLIC_BASE_URL": "https://academy.example.com"}


@pytest.fixture
def holders(bank_loaded, users):
    """Tessa's certificate, and Oscar's issued a month later (its window opens later)."""
    return (pass_certification(users["trainee"], ISSUED),
            pass_certification(users["other"], ISSUED + timedelta(days=31)))


def _remind(app, runner, smtp=None):
    if smtp is not None:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                          MAIL_FROM="academy@example.com")
    return runner.invoke(args=["certs", "remind"])


def test_reminders_are_sent_once_to_certificates_entering_the_window(app, runner, holders,
                                                                     smtp):
    controller, inbox = smtp
    tessa, oscar = holders
    with time_machine.travel(tessa.renew_from + timedelta(days=1)):
        result = _remind(app, runner, controller)
        assert result.exit_code == 0, result.output
        assert "Sent 1 reminder(s)." in result.output
        assert _remind(app, runner, controller).output.strip() == "Sent 0 reminder(s)."
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["trainee@example.com"]
    assert message["From"] == "academy@example.com"
    assert message["Subject"] == ("Your Microneedling Practitioner Certification expires on"
                                  " 2 March 2028")
    body = message.get_content()
    assert "Dear Tessa Trainee" in body and "You can recertify now" in body
    assert f"https://academy.example.com/verify/{tessa.code}" in body
    db.session.expire_all()
    assert tessa.reminded_at is not None and oscar.reminded_at is None
    # Oscar's window opens a month later: his reminder then, Tessa's not again.
    with time_machine.travel(oscar.renew_from + timedelta(days=1)):
        assert "Sent 1 reminder(s)." in _remind(app, runner, controller).output
    assert [m[0] for m in inbox.messages] == [["trainee@example.com"], ["other@example.com"]]


def test_no_reminder_for_revoked_superseded_or_expired_certificates(app, runner, holders,
                                                                   smtp, users):
    controller, inbox = smtp
    tessa, oscar = holders
    certs.revoke(oscar, users["admin"], "issued_in_error", "", ISSUED)
    db.session.commit()
    with time_machine.travel(tessa.expires_at + timedelta(days=1)):
        assert "Sent 0 reminder(s)." in _remind(app, runner, controller).output
    assert inbox.messages == []


def test_without_smtp_it_says_nothing_was_sent(app, runner, holders):
    tessa, _oscar = holders
    with time_machine.travel(tessa.renew_from + timedelta(days=1)):
        result = _remind(app, runner)
    assert result.exit_code == 0
    assert "Nothing was sent: no SMTP server is configured (MAIL_SERVER)." in result.output
    assert "1 certificate holder(s) are due a reminder." in result.output
    db.session.expire_all()
    assert tessa.reminded_at is None


def test_an_unreachable_server_is_a_clear_error(app, runner, holders):
    tessa, _oscar = holders
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    with time_machine.travel(tessa.renew_from + timedelta(days=1)):
        result = runner.invoke(args=["certs", "remind"])
    assert result.exit_code == 1 and "Sending stopped" in result.output
    db.session.expire_all()
    assert tessa.reminded_at is None
