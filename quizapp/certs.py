"""Certificates: issuing on a pass, codes that cannot be guessed, the PDF and the signed
credential, status, recertification, suspension and revocation, reminders, name
corrections.

The PDF (`certificate_pdf`) and the credential (`credentials`) are made by pure modules
from the values gathered here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app, has_request_context, request
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import contains_eager

from quizapp import audit, certificate_pdf, credentials
from quizapp.cohorts import visible_trainee_ids
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Attempt, Certificate, Exam, NameCorrection, User

CODE_BYTES = 15  # 120 bits from `secrets`, well above the 80 a verifier can rely on
ISSUER_NAME = "Microneedling Academy"
# Why a certificate is suspended or revoked: shown on the verification page and in
# the machine-readable status (the manager's note is kept for the audit trail only).
REASON_CATEGORIES = {
    "issued_in_error": "Issued in error",
    "exam_integrity": "Exam integrity concern",
    "practice_concern": "Concern about the holder's practice",
    "identity": "Identity not confirmed",
    "holder_request": "At the holder's request",
    "other": "Other",
}
STATUS_LABELS = {
    "valid": "Valid",
    "expiring_soon": "Valid, expiring soon",
    "expired": "Expired",
    "suspended": "Suspended",
    "revoked": "Revoked",
    "superseded": "Superseded by a newer certificate",
}


class CertificateError(ServiceError):
    """A certificate action the certificate's state does not allow."""


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


# --- Addresses ----------------------------------------------------------------------


def public_base_url() -> str:
    """Where the site is reached from outside: `PUBLIC_BASE_URL`, else the address of
    the request being served, else the development server's."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return "http://localhost:5000"


def base_of(certificate: Certificate) -> str:
    """The site address the certificate was issued under (its printed URL's)."""
    if certificate.verify_url:
        return certificate.verify_url.rsplit("/verify/", 1)[0]
    return public_base_url()


def verify_url(certificate: Certificate) -> str:
    return certificate.verify_url or f"{public_base_url()}/verify/{certificate.code}"


def credential_url(certificate: Certificate) -> str:
    return f"{base_of(certificate)}/verify/{certificate.code}/credential.jwt"


def status_url(certificate: Certificate) -> str:
    return f"{base_of(certificate)}/verify/{certificate.code}/status.json"


def issuer_id(base: str) -> str:
    return f"{base}/issuer.json"


# --- Issuing ------------------------------------------------------------------------


def _fields(certificate: Certificate) -> certificate_pdf.CertificateFields:
    return certificate_pdf.CertificateFields(
        holder_name=certificate.holder_name, title=certificate.title,
        scope=certificate.scope, issuer_name=certificate.issuer_name,
        issued_at=certificate.issued_at, expires_at=certificate.expires_at,
        code=display_code(certificate.code), verify_url=verify_url(certificate),
        page_size=current_app.config.get("CERTIFICATE_PAGE_SIZE", "A4"),
    )


def _render(certificate: Certificate) -> None:
    """Make the PDF, once, and record it with its SHA-256."""
    certificate.verify_url = verify_url(certificate)
    fonts = certificate_pdf.find_fonts(current_app.config.get("CERTIFICATE_FONT"))
    certificate.pdf = certificate_pdf.render(_fields(certificate), fonts)
    certificate.pdf_sha256 = hashlib.sha256(certificate.pdf).hexdigest()


def _active(user_id: int, exam_id: str) -> Select:
    return select(Certificate).where(
        Certificate.user_id == user_id, Certificate.exam_id == exam_id,
        Certificate.revoked_at.is_(None), Certificate.suspended_at.is_(None),
        Certificate.superseded_at.is_(None))


def _supersede(new: Certificate, now: datetime) -> None:
    """Mark the holder's earlier certificates for the exam superseded by `new` (or
    `new` superseded, when a regrade issues it after a later one)."""
    others = [c for c in db.session.scalars(_active(new.user_id, new.exam_id))
              if c is not new]
    later = [c for c in others if c.issued_at > new.issued_at]
    for old in others:
        if old.issued_at <= new.issued_at:
            old.superseded_at, old.superseded_by = now, new
    if later:
        new.superseded_at = now
        new.superseded_by = max(later, key=lambda c: c.issued_at)


def issue(attempt: Attempt, now: datetime) -> Certificate:
    """Issue the certificate for a passed attempt (in the caller's transaction): the
    printed fields from the exam's rules, the PDF and its fingerprint; earlier
    certificates for the exam are superseded."""
    rules = attempt.rules
    months = rules.certificate_validity_months
    expires_at = add_months(now, months) if months else None
    certificate = Certificate(
        code=new_code(),
        user_id=attempt.user_id,
        exam_id=attempt.exam_id,
        attempt_id=attempt.id,
        holder_name=attempt.user.name,
        title=rules.title,
        scope=rules.certificate_scope,
        issuer_name=current_app.config.get("CERTIFICATE_ISSUER_NAME") or ISSUER_NAME,
        issued_at=now,
        expires_at=expires_at,
        renew_from=(expires_at - timedelta(days=rules.recertify_window_days)
                    if expires_at else None),
    )
    _render(certificate)
    db.session.add(certificate)
    db.session.flush()
    _supersede(certificate, now)
    return certificate


def pdf_of(certificate: Certificate) -> bytes:
    """The certificate's PDF as issued (made and recorded now for one issued before
    PDFs were kept)."""
    if certificate.pdf is None:
        _render(certificate)
        db.session.commit()
    return certificate.pdf


def pdf_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.code}.pdf"


def matches_pdf(certificate: Certificate, data: bytes) -> bool:
    """Whether `data` is, byte for byte, the PDF we issued for this certificate."""
    if certificate.pdf_sha256 is None:
        pdf_of(certificate)
    return hmac.compare_digest(hashlib.sha256(data).hexdigest(), certificate.pdf_sha256)


# --- Finding ------------------------------------------------------------------------


def held_by(user_id: int) -> list[Certificate]:
    """A person's certificates, newest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ))


def find(code: str) -> Certificate | None:
    code = normalise_code(code)
    if not code or len(code) > 40:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def valid_certificate(user_id: int, exam_id: str, now: datetime) -> Certificate | None:
    held = db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id, Certificate.exam_id == exam_id)
    )
    return next((c for c in held if c.is_valid(now)), None)


# --- Recertification ----------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    reason: str
    opens_at: datetime | None = None  # None: not by waiting


def renewal_blocker(user_id: int, exam_id: str, now: datetime) -> Blocker | None:
    """What keeps a holder from sitting the certification again, if anything: a valid
    certificate outside its recertification window, or a suspended one."""
    held = db.session.scalars(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.exam_id == exam_id,
        Certificate.revoked_at.is_(None), Certificate.superseded_at.is_(None)))
    for certificate in held:
        status = certificate.status(now)
        if status == "suspended":
            return Blocker("Your certificate is suspended; the certification exam opens"
                           " again if it is reinstated.")
        if status == "valid":
            if certificate.renew_from is None:
                return Blocker("You already hold a valid certificate for this exam.")
            return Blocker(
                "You already hold a valid certificate for this exam, until"
                f" {certificate_pdf.day(certificate.expires_at)}. You may recertify from"
                f" {certificate_pdf.day(certificate.renew_from)}.",
                certificate.renew_from)
    return None


def since_last_pass(finished: list[Attempt]) -> list[Attempt]:
    """The attempts (oldest first) after the last pass: a certification's attempts
    count again from zero for recertification."""
    last_pass = max((n for n, a in enumerate(finished) if a.passed), default=-1)
    return finished[last_pass + 1:]


# --- The signed credential and the status -------------------------------------------


def key_folder() -> Path:
    """Where the issuer's keys are kept: `ISSUER_KEY_DIR`, else instance/issuer_keys."""
    configured = current_app.config.get("ISSUER_KEY_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "issuer_keys"


def issuer_keys() -> credentials.IssuerKeys:
    """The issuer's keys: `ISSUER_SIGNING_KEY` (a PEM) or the key folder's."""
    return credentials.load_keys(key_folder(), current_app.config.get("ISSUER_SIGNING_KEY"))


def public_key_pems() -> list[str]:
    """Every public key a credential of this installation may be signed with (PEM)."""
    return [key.as_pem(private=False).decode("ascii") for key in issuer_keys().public]


def keep_issuer_keys(pems: list[str]) -> int:
    """Keep another installation's public keys (from `data import`) so the credentials
    it issued verify here; how many were new. Every key is checked before any is kept.

    :raise credentials.CredentialError: one of them is not an RSA public key."""
    keys = [credentials.public_key(pem) for pem in pems]
    signing = issuer_keys().signing
    return sum(credentials.keep_public(key_folder(), key, signing) for key in keys)


def issuer_profile(base: str) -> dict:
    name = current_app.config.get("CERTIFICATE_ISSUER_NAME") or ISSUER_NAME
    return {"@context": list(credentials.CONTEXTS), "id": issuer_id(base),
            "type": ["Profile"], "name": name, "url": base + "/",
            "publicKeys": f"{base}/.well-known/jwks.json"}


def _facts(certificate: Certificate) -> credentials.CredentialFacts:
    base = base_of(certificate)
    exam = db.session.get(Exam, certificate.exam_id)
    rules = exam.rules if exam is not None else None
    criteria = (rules.description if rules and rules.description
                else f"Passed the {certificate.title} exam.")
    return credentials.CredentialFacts(
        credential_id=credential_url(certificate),
        issuer_id=issuer_id(base),
        issuer_name=certificate.issuer_name,
        issuer_url=base + "/",
        achievement_id=f"{issuer_id(base)}#achievement-{certificate.exam_id}",
        title=certificate.title,
        description=certificate.scope or certificate.title,
        criteria=criteria,
        holder_name=certificate.holder_name,
        holder_email=certificate.user.email,
        # The salt is public in the credential; it only has to differ per credential.
        salt=hashlib.sha256(f"salt:{certificate.code}".encode()).hexdigest()[:16],
        valid_from=certificate.issued_at,
        valid_until=certificate.expires_at,
        status_url=status_url(certificate),
    )


def signed_credential(certificate: Certificate) -> str:
    """The certificate's Open Badges 3.0 credential as a VC-JWT."""
    return credentials.sign(_facts(certificate), issuer_keys())


def credential_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.code}.jwt"


def check_credential(certificate: Certificate, token: str) -> bool:
    """Whether `token` is a credential we signed for this very certificate."""
    try:
        claims = credentials.verify(token, issuer_keys().jwks())
    except credentials.CredentialError:
        return False
    return claims.get("jti") == credential_url(certificate)


def status_document(certificate: Certificate, now: datetime) -> dict:
    """The certificate's status for machines, linked from its credential as its
    `credentialStatus`. `revokedCredentials` (the 1EdTech revocation list's member)
    lists the credential while it is revoked or suspended."""
    status = certificate.status(now)
    document = {
        "id": status_url(certificate),
        "type": credentials.STATUS_TYPE,
        "issuer": issuer_id(base_of(certificate)),
        "credential": credential_url(certificate),
        "status": status,
        "label": STATUS_LABELS[status],
        "validFrom": credentials.timestamp(certificate.issued_at),
        "validUntil": (credentials.timestamp(certificate.expires_at)
                       if certificate.expires_at else None),
        "checkedAt": credentials.timestamp(now),
        "verificationPage": verify_url(certificate),
        "revokedCredentials": [],
    }
    if status in ("revoked", "suspended"):
        at = certificate.revoked_at if status == "revoked" else certificate.suspended_at
        category = (certificate.revoked_category if status == "revoked"
                    else certificate.suspended_category) or "other"
        document.update({"since": credentials.timestamp(at), "reasonCategory": category,
                         "reason": REASON_CATEGORIES.get(category, category)})
        document["revokedCredentials"] = [{
            "id": credential_url(certificate), "revoked": True,
            "revocationReason": REASON_CATEGORIES.get(category, category)}]
    elif status == "superseded":
        document["since"] = credentials.timestamp(certificate.superseded_at)
        if certificate.superseded_by is not None:
            document["supersededBy"] = credential_url(certificate.superseded_by)
    return document


def linkedin_url(certificate: Certificate) -> str:
    """LinkedIn's "add a certification to your profile" link, filled in."""
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.title,
        "organizationName": certificate.issuer_name,
        "issueYear": certificate.issued_at.year,
        "issueMonth": certificate.issued_at.month,
        "certUrl": verify_url(certificate),
        "certId": display_code(certificate.code),
    }
    if certificate.expires_at is not None:
        params.update(expirationYear=certificate.expires_at.year,
                      expirationMonth=certificate.expires_at.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


# --- Managers: who sees what, suspension and revocation -----------------------------


def visible(viewer: User, certificate_id: int) -> Certificate | None:
    """A certificate of a trainee the viewer sees, else None (the view's 404)."""
    return db.session.scalar(select(Certificate).where(
        Certificate.id == certificate_id,
        Certificate.user_id.in_(visible_trainee_ids(viewer))))


def _status_condition(status: str, now: datetime):
    live = and_(Certificate.revoked_at.is_(None), Certificate.suspended_at.is_(None),
                Certificate.superseded_at.is_(None))
    unexpired = or_(Certificate.expires_at.is_(None), Certificate.expires_at > now)
    return {
        "revoked": Certificate.revoked_at.is_not(None),
        "suspended": and_(Certificate.revoked_at.is_(None),
                          Certificate.suspended_at.is_not(None)),
        "superseded": and_(Certificate.revoked_at.is_(None),
                           Certificate.suspended_at.is_(None),
                           Certificate.superseded_at.is_not(None)),
        "expired": and_(live, Certificate.expires_at <= now),
        "expiring_soon": and_(live, unexpired, Certificate.renew_from <= now),
        "valid": and_(live, unexpired, or_(Certificate.renew_from.is_(None),
                                           Certificate.renew_from > now)),
    }[status]


def listing(viewer: User, now: datetime, status: str | None = None,
            cohort_id: int | None = None) -> Select:
    """The certificates of the trainees the viewer sees, newest first, optionally of
    one status or one cohort (paginate the query)."""
    query = select(Certificate).where(
        Certificate.user_id.in_(visible_trainee_ids(viewer, cohort_id)))
    if status:
        query = query.where(_status_condition(status, now))
    return query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())


def _record(actor: User, certificate: Certificate, kind: str, message: str,
            **data) -> None:
    audit.record(actor, audit.subject("certificate", certificate.id), kind, message,
                 {"code": certificate.code, "user_id": certificate.user_id, **data})


def _category(category: str) -> str:
    if category not in REASON_CATEGORIES:
        raise CertificateError("Choose a reason category.", status=400)
    return category


def suspend(certificate: Certificate, actor: User, category: str, note: str,
            now: datetime) -> None:
    """Suspend a certificate until a manager reinstates it (shown at once on the
    verification page and in the status)."""
    _category(category)
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate is revoked; it cannot be suspended.")
    if certificate.suspended_at is not None:
        raise CertificateError("This certificate is already suspended.")
    certificate.suspended_at, certificate.suspended_category = now, category
    certificate.suspended_note = note
    _record(actor, certificate, "certificate_suspended",
            f"Certificate suspended ({REASON_CATEGORIES[category]}): {note}".rstrip(": "),
            category=category)


def reinstate(certificate: Certificate, actor: User, note: str, now: datetime) -> None:
    """Lift a suspension."""
    if certificate.revoked_at is not None or certificate.suspended_at is None:
        raise CertificateError("Only a suspended certificate can be reinstated.")
    category = certificate.suspended_category
    certificate.suspended_at = certificate.suspended_category = None
    certificate.suspended_note = None
    _record(actor, certificate, "certificate_reinstated",
            f"Certificate reinstated: {note}".rstrip(": "), category=category)


def revoke(certificate: Certificate, actor: User, category: str, note: str,
           now: datetime) -> None:
    """Revoke a certificate for good."""
    _category(category)
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate is already revoked.")
    certificate.revoked_at, certificate.revoked_category = now, category
    certificate.revoked_reason = note
    _record(actor, certificate, "certificate_revoked",
            f"Certificate revoked ({REASON_CATEGORIES[category]}): {note}".rstrip(": "),
            category=category)


# --- Name corrections ---------------------------------------------------------------


def request_name_correction(certificate: Certificate, holder: User, name: str,
                            reason: str, now: datetime) -> NameCorrection:
    """The holder asks for the printed name to be corrected; a manager decides."""
    name = " ".join(name.split())
    if not certificate.is_valid(now):
        raise CertificateError("Only a valid certificate can have its name corrected.")
    if not name or name == certificate.holder_name:
        raise CertificateError("Give the name as it should be printed.", status=400)
    if pending_correction(certificate) is not None:
        raise CertificateError("A correction of this certificate is already waiting for a"
                               " manager.")
    correction = NameCorrection(certificate_id=certificate.id, requested_name=name,
                                reason=reason, requested_at=now)
    db.session.add(correction)
    db.session.flush()
    _record(holder, certificate, "name_correction_requested",
            f"Name correction requested: {certificate.holder_name} -> {name}",
            correction=correction.id)
    return correction


def pending_correction(certificate: Certificate) -> NameCorrection | None:
    return db.session.scalar(select(NameCorrection).where(
        NameCorrection.certificate_id == certificate.id, NameCorrection.decided_at.is_(None)))


def pending_corrections(viewer: User) -> list[NameCorrection]:
    """Requests awaiting a decision, for trainees the viewer sees, oldest first."""
    return list(db.session.scalars(
        select(NameCorrection).join(Certificate)
        .options(contains_eager(NameCorrection.certificate))  # the page shows each one's
        .where(NameCorrection.decided_at.is_(None),
               Certificate.user_id.in_(visible_trainee_ids(viewer)))
        .order_by(NameCorrection.requested_at)))


def visible_correction(viewer: User, correction_id: int) -> NameCorrection | None:
    return db.session.scalar(
        select(NameCorrection).join(Certificate)
        .where(NameCorrection.id == correction_id,
               Certificate.user_id.in_(visible_trainee_ids(viewer))))


def decide_name_correction(correction: NameCorrection, manager: User, approve: bool,
                           note: str, now: datetime) -> Certificate | None:
    """Approve (reissue the certificate with the corrected name, same dates, and
    supersede the old one) or decline a request. Returns the new certificate."""
    if correction.decided_at is not None:
        raise CertificateError("This request has already been decided.")
    old = correction.certificate
    correction.decided_at, correction.decided_by_id = now, manager.id
    correction.approved, correction.decision_note = approve, note
    if not approve:
        _record(manager, old, "name_correction_declined",
                f"Name correction declined: {note}".rstrip(": "), correction=correction.id)
        return None
    if not old.is_valid(now):
        raise CertificateError("Only a valid certificate can be reissued.")
    new = Certificate(
        code=new_code(), user_id=old.user_id, exam_id=old.exam_id, attempt_id=None,
        holder_name=correction.requested_name, title=old.title, scope=old.scope,
        issuer_name=old.issuer_name, issued_at=old.issued_at, expires_at=old.expires_at,
        renew_from=old.renew_from, reminded_at=old.reminded_at,
    )
    _render(new)
    db.session.add(new)
    db.session.flush()
    old.superseded_at, old.superseded_by = now, new
    _record(manager, old, "certificate_reissued",
            f"Reissued with the corrected name {new.holder_name} as {display_code(new.code)}"
            + (f": {note}" if note else "."), correction=correction.id, new_code=new.code)
    return new


# --- Reminders ----------------------------------------------------------------------


def due_reminders(now: datetime) -> list[Certificate]:
    """Valid certificates inside their recertification window whose holder has not
    been reminded yet."""
    return list(db.session.scalars(
        select(Certificate).join(User, User.id == Certificate.user_id)
        .where(_status_condition("expiring_soon", now), Certificate.reminded_at.is_(None),
               User.active.is_(True))
        .order_by(Certificate.expires_at)))


def reminder_text(certificate: Certificate, base: str) -> tuple[str, str]:
    """The reminder's subject and body."""
    subject = f"Your {certificate.title} expires on {certificate_pdf.day(certificate.expires_at)}"
    body = (
        f"Dear {certificate.holder_name},\n\n"
        f"your certificate \"{certificate.title}\" ({display_code(certificate.code)}) expires"
        f" on {certificate_pdf.day(certificate.expires_at)}.\n\n"
        "You can recertify now: sign in and take the certification exam again. Passing"
        " it issues a new certificate, valid from that day.\n\n"
        f"Sign in: {base}/auth/login\n"
        f"Your certificate as anyone can check it: {verify_url(certificate)}\n\n"
        f"{certificate.issuer_name}\n"
    )
    return subject, body


# --- Bulk download ------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (for a ZIP made
    while it is sent)."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def zip_stream(certificates: list[Certificate]) -> Iterator[bytes]:
    """The certificates' PDFs as one ZIP, made piece by piece while it is sent."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            name = re.sub(r"[^A-Za-z0-9]+", "-", certificate.holder_name).strip("-")
            archive.writestr(f"{name or 'holder'}-{certificate.code}.pdf",
                             pdf_of(certificate))
            yield pipe.take()
    yield pipe.take()
