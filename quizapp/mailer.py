"""Sending email through the SMTP server the configuration names (`MAIL_SERVER`).

Without `MAIL_SERVER` nothing is sent and `configured` says so, so a command can tell
its user instead of pretending.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def configured(config: Mapping) -> bool:
    return bool(config.get("MAIL_SERVER"))


def _message(config: Mapping, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    sender = config.get("MAIL_FROM") or "noreply@localhost"
    name = config.get("MAIL_FROM_NAME")
    message["From"] = formataddr((name, sender)) if name else sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    return message


def send(config: Mapping, mails: Iterable[Mail], sent=None) -> int:
    """Send each mail over one connection; call `sent(mail)` after each is accepted
    (so a caller records it at once, and a failure halfway resends none of them).
    Returns how many were sent."""
    count = 0
    port = int(config.get("MAIL_PORT") or 25)
    with smtplib.SMTP(config["MAIL_SERVER"], port, timeout=30) as server:
        if config.get("MAIL_USE_TLS"):
            server.starttls()
        if config.get("MAIL_USERNAME"):
            server.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        for mail in mails:
            server.send_message(_message(config, mail))
            count += 1
            if sent is not None:
                sent(mail)
    return count
