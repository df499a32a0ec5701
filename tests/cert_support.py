"""What the certificate tests share: passing the certification through the services
(quicker than page by page; test_attempts covers the pages), a reader for the PDF's
text and QR code, and a counter of SQL statements.

pypdf and zxing-cpp are imported here, at collection, not inside a test: pygal (the
console's charts) installs an old-style import hook whose ImportWarning, an error in
this suite, fires when pypdf later looks for its optional modules."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import zxingcpp
from helpers import right_answer, tokens, wrong_answer
from pypdf import PdfReader
from sqlalchemy import select

from quizapp import attempts
from quizapp.extensions import db
from quizapp.models import Certificate, Exam, User

GRACE = timedelta(seconds=30)


def sit_certification(user: User, now: datetime, wrong: int = 0):
    """Sit the certification as `user` starting at `now`, answering all but `wrong`
    questions right (non-safety-critical ones wrong first); return the attempt."""
    exam = db.session.get(Exam, "certification")
    attempt = attempts.start(user, exam, now, GRACE)
    missable = [i for i in attempt.items if not i.version.content["safety_critical"]]
    to_miss = {i.position for i in missable[:wrong]}
    for item in attempt.items:
        choice = wrong_answer(item) if item.position in to_miss else right_answer(item)
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(tokens(item, choice)), item.sequence),
                             now + timedelta(minutes=5), GRACE)
    return attempts.finish(attempt, now + timedelta(minutes=10))


def pass_certification(user: User, now: datetime) -> Certificate:
    attempt = sit_certification(user, now)
    assert attempt.passed, attempt.fail_reasons
    return certificate_of(attempt.id)


def certificate_of(attempt_id: int) -> Certificate:
    db.session.expire_all()
    return db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt_id))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qr_codes(data: bytes) -> list[str]:
    """Every QR code in the PDF's images, read by zxing-cpp (a decoder we did not
    write, from its own project)."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


