"""Certificates on their own: codes, expiry arithmetic, status."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from quizapp import certs
from quizapp.models import Certificate

ISSUED = datetime(2026, 1, 31, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2026, 1, 15, tzinfo=UTC), 24, datetime(2028, 1, 15, tzinfo=UTC)),
    (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),  # short month
    (datetime(2027, 1, 31, tzinfo=UTC), 13, datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
    (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 4, 30, tzinfo=UTC)),
    (datetime(2026, 11, 30, tzinfo=UTC), 2, datetime(2027, 1, 30, tzinfo=UTC)),  # new year
    (datetime(2026, 12, 1, tzinfo=UTC), 12, datetime(2027, 12, 1, tzinfo=UTC)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, expected):
    assert certs.add_months(start, months) == expected


def test_add_months_keeps_the_time_of_day():
    assert certs.add_months(ISSUED, 24) == datetime(2028, 1, 31, 10, 30, tzinfo=UTC)


def test_codes_are_long_random_and_read_back_however_typed():
    codes = {certs.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Z2-7]{24}", code)  # 120 bits in base32
    code = next(iter(codes))
    shown = certs.display_code(code)
    assert shown.count("-") == 5 and shown.replace("-", "") == code
    assert certs.normalise_code(f" {shown.lower()} ") == code
    assert certs.normalise_code(code[:8] + " " + code[8:]) == code


def _certificate(expires_at=None, revoked_at=None) -> Certificate:
    return Certificate(code="X", user_id=1, exam_id="certification", attempt_id=1,
                       holder_name="Tessa", title="T", issued_at=ISSUED,
                       expires_at=expires_at, revoked_at=revoked_at)


def test_status_is_valid_until_the_expiry_moment_then_expired():
    expiry = certs.add_months(ISSUED, 24)
    certificate = _certificate(expires_at=expiry)
    assert certificate.status(ISSUED) == "valid"
    assert certificate.status(expiry.replace(second=59, minute=29)) == "valid"
    assert certificate.status(expiry) == "expired"
    assert _certificate().status(datetime(2099, 1, 1, tzinfo=UTC)) == "valid"


def test_revocation_wins_over_everything():
    revoked = _certificate(expires_at=certs.add_months(ISSUED, 24), revoked_at=ISSUED)
    assert revoked.status(ISSUED) == "revoked"
    assert revoked.status(datetime(2099, 1, 1, tzinfo=UTC)) == "revoked"
