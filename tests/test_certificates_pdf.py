"""The certificate as a PDF: its text and QR code read back by independent readers,
the same bytes at every download, Unicode names, a fallback when a glyph is missing."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from cert_support import pass_certification, pdf_text, qr_codes
from pypdf import PdfReader

from quizapp import certificate_pdf, certs
from quizapp.extensions import db

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "https://academy.example.com/verify/ABCDEFGHIJKLMNOPQRSTUVWX"


def _fields(**changes) -> certificate_pdf.CertificateFields:
    values = dict(
        holder_name="Zoë Łukasiewicz-Núñez", title="Microneedling Practitioner Certification",
        scope="Has shown the knowledge to perform skin microneedling safely.",
        issuer_name="Microneedling Academy", issued_at=ISSUED,
        expires_at=datetime(2028, 3, 2, 9, 0, tzinfo=UTC),
        code="ABCD-EFGH-IJKL-MNOP-QRST-UVWX", verify_url=URL)
    values.update(changes)
    return certificate_pdf.CertificateFields(**values)


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return certificate_pdf.render(_fields())


def test_the_pdf_prints_every_field_as_text(rendered):
    text = pdf_text(rendered)
    for printed in ("Zoë Łukasiewicz-Núñez", "Microneedling Practitioner Certification",
                    "Has shown the knowledge", "Microneedling Academy", "2 March 2026",
                    "2 March 2028", "ABCD-EFGH-IJKL-MNOP-QRST-UVWX", URL):
        assert printed in text, printed
    assert "could not be shown" not in text and "cannot be shown" not in text


def test_the_qr_code_decodes_to_the_verification_url(rendered):
    assert qr_codes(rendered) == [URL]


def test_the_same_certificate_gives_the_same_bytes(rendered):
    assert certificate_pdf.render(_fields()) == rendered
    assert certificate_pdf.render(_fields(holder_name="Someone Else")) != rendered


def test_the_creation_date_is_the_issue_date(rendered):
    info = PdfReader(io.BytesIO(rendered)).metadata
    assert info["/CreationDate"].startswith("D:20260302090000")
    assert info["/Author"] == "Microneedling Academy"


def test_a4_landscape_by_default_and_letter_as_a_setting(rendered):
    a4 = PdfReader(io.BytesIO(rendered)).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (842, 595)
    letter = certificate_pdf.render(_fields(page_size="Letter"))
    box = PdfReader(io.BytesIO(letter)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (792, 612)
    assert qr_codes(letter) == [URL]
    with pytest.raises(ValueError):
        certificate_pdf.render(_fields(page_size="A5"))


@pytest.mark.parametrize("name", ["Ελένη Παπαδοπούλου", "Анна Сергеевна Иванова",
                                  "Nguyễn Thị Minh Khai", "Søren Ærø Ødegård"])
def test_names_in_other_scripts_print_exactly(name):
    text = pdf_text(certificate_pdf.render(_fields(holder_name=name)))
    assert name in text
    assert "cannot be shown" not in text


def _lines_by_height(pdf: bytes) -> list[tuple[float, str]]:
    """Each piece of text on the page with its height from the foot, top first."""
    pieces: list[tuple[float, str]] = []

    def visit(text, _cm, tm, _font, _size):
        if text.strip():
            pieces.append((tm[5], text.strip()))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return sorted(pieces, reverse=True)


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_the_longest_scope_under_a_long_name_stays_above_the_dates(page_size):
    scope = ("Has shown the knowledge to perform skin microneedling safely, " * 7)[:400]
    # A name at the length accounts allow (120) wraps onto a second line.
    long_name = ("Maximiliana Alexandrina Konstantinopoulou-Vanderbilt de la Fuente y Ortega "
                 * 2)[:120].strip()
    pdf = certificate_pdf.render(_fields(scope=scope, holder_name=long_name,
                                         page_size=page_size))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    lines = _lines_by_height(pdf)
    issued = next(height for height, text in lines if text.startswith("Issued"))
    scope_heights = [height for height, text in lines if "microneedling safely" in text]
    assert scope_heights and min(scope_heights) > issued + 8
    assert "".join(text for _, text in lines if "microneedling" in text
                   ).count("microneedling") >= 6


def test_a_name_the_font_cannot_show_gets_a_note_not_a_crash():
    data = certificate_pdf.render(_fields(holder_name="王小明 (Wang Xiaoming)"))
    text = pdf_text(data)
    assert "(Wang Xiaoming)" in text
    assert "cannot be shown in this document's font" in " ".join(text.split())
    assert qr_codes(data) == [URL]


def test_without_any_unicode_font_the_core_font_still_prints():
    core = certificate_pdf.Fonts(None, None)
    data = certificate_pdf.render(_fields(holder_name="Zoë Łukasiewicz 王"), core)
    text = pdf_text(data)
    assert "Zoë Lukasiewicz" in text  # Ł has no Latin-1 form: its letter without the stroke
    assert "cannot be shown" in " ".join(text.split())


def test_fonts_come_from_the_system_or_the_configuration(tmp_path):
    found = certificate_pdf.find_fonts()
    assert found.regular and found.regular.endswith(".ttf")
    assert certificate_pdf.find_fonts(found.regular) == certificate_pdf.Fonts(
        found.regular, found.regular)
    with pytest.raises(FileNotFoundError):
        certificate_pdf.find_fonts(str(tmp_path / "missing.ttf"))


# --- As issued and downloaded ---------------------------------------------------------


def test_issuing_records_the_pdf_and_its_fingerprint(bank_loaded, users):
    certificate = pass_certification(users["trainee"], ISSUED)
    assert certificate.pdf_sha256 == hashlib.sha256(certificate.pdf).hexdigest()
    assert certificate.verify_url == f"http://localhost:5000/verify/{certificate.code}"
    text = pdf_text(certificate.pdf)
    assert "Tessa Trainee" in text and certs.display_code(certificate.code) in text
    assert certificate.verify_url in text
    assert certificate.scope and certificate.scope[:40] in " ".join(text.split())
    assert qr_codes(certificate.pdf) == [certificate.verify_url]


def test_the_holder_downloads_the_same_bytes_every_time(bank_loaded, users, auth, client):
    certificate = pass_certification(users["trainee"], ISSUED)
    auth.login()
    url = f"/trainee/certificates/{certificate.code}/certificate.pdf"
    first, second = client.get(url), client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.data == second.data == certificate.pdf
    assert hashlib.sha256(first.data).hexdigest() == certificate.pdf_sha256
    page = client.get(f"/trainee/certificates/{certificate.code}").get_data(as_text=True)
    assert "certificate.pdf" in page and "credential.jwt" in page


def test_nobody_else_downloads_the_pdf(bank_loaded, users, auth, client):
    certificate = pass_certification(users["trainee"], ISSUED)
    auth.login("other")
    assert client.get(f"/trainee/certificates/{certificate.code}/certificate.pdf"
                      ).status_code == 404
    assert client.get("/trainee/certificates/NOPE/certificate.pdf").status_code == 404


def test_a_certificate_issued_before_pdfs_were_kept_gets_one_at_first_download(
        bank_loaded, users, auth, client):
    certificate = pass_certification(users["trainee"], ISSUED)
    certificate.pdf = certificate.pdf_sha256 = certificate.verify_url = None
    db.session.commit()
    auth.login()
    data = client.get(f"/trainee/certificates/{certificate.code}/certificate.pdf").data
    db.session.expire_all()
    assert certificate.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert client.get(f"/trainee/certificates/{certificate.code}/certificate.pdf").data == data


def test_the_certificate_page_prints_without_the_site_menu(bank_loaded, users, auth, client):
    certificate = pass_certification(users["trainee"], ISSUED)
    auth.login()
    html = client.get(f"/trainee/certificates/{certificate.code}").get_data(as_text=True)
    assert "certificates.css" in html
    with client.get("/static/certificates.css") as response:
        css = response.get_data(as_text=True)
    assert "@media print" in css and "header.site" in css.split("@media print")[1]
