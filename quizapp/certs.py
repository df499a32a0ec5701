"""Certificates: issuing on a pass, codes that cannot be guessed, status."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Certificate

CODE_BYTES = 15  # 120 bits from `secrets`, well above the 80 a verifier can rely on


def new_code() -> str:
    """An unguessable code, written in base32 so it reads aloud and types easily."""
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode().rstrip("=")


def normalise_code(code: str) -> str:
    """Accept a code however it was typed: any case, with spaces or hyphens."""
    return re.sub(r"[\s-]", "", code).upper()


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    # The 31st of a shorter month becomes that month's last day.
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(moment)


def issue(attempt: Attempt, now: datetime) -> Certificate:
    """Issue the certificate for a passed attempt (in the caller's transaction)."""
    months = attempt.rules.certificate_validity_months
    certificate = Certificate(
        code=new_code(),
        user_id=attempt.user_id,
        exam_id=attempt.exam_id,
        attempt_id=attempt.id,
        holder_name=attempt.user.name,
        title=attempt.rules.title,
        issued_at=now,
        expires_at=add_months(now, months) if months else None,
    )
    db.session.add(certificate)
    return certificate


def held_by(user_id: int) -> list[Certificate]:
    """A person's certificates, newest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc())
    ))


def find(code: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.code == normalise_code(code)))


def valid_certificate(user_id: int, exam_id: str, now: datetime) -> Certificate | None:
    held = db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id, Certificate.exam_id == exam_id)
    )
    return next((c for c in held if c.status(now) == "valid"), None)
