"""The certificate as a PDF: the printed fields and a QR code of the verification URL.

No Flask and no database: `render` takes the fields as values and returns the PDF's
bytes. The same fields give the same bytes (the creation date is the issue date; fpdf2's
file identifier is a hash of the content), so a certificate can be fingerprinted.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

PAGE_SIZES = ("A4", "Letter")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
# Unicode TrueType fonts from the operating system's packages, first found wins:
# Debian's fonts-dejavu-core (DejaVu covers Latin, Greek, Cyrillic and more), then
# Liberation and FreeFont. `CERTIFICATE_FONT` in the configuration names another.
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/freefont/FreeSans.ttf",
     "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf"),
)
# Letters with no decomposition, written the way their languages spell them in ASCII.
SPELLED = {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
           "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th",
           "ı": "i"}
NAME_NOTE = ("Some characters of the holder's name cannot be shown in this document's"
             " font; the verification page shows the name exactly as issued.")


@dataclass(frozen=True)
class CertificateFields:
    """What a certificate prints."""

    holder_name: str
    title: str
    scope: str
    issuer_name: str
    issued_at: datetime
    expires_at: datetime | None
    code: str  # as printed (grouped with hyphens)
    verify_url: str
    page_size: str = "A4"


def day(moment: datetime | None) -> str:
    """A date as printed, the same in every locale: 31 January 2026."""
    if moment is None:
        return "no expiry"
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


@dataclass(frozen=True)
class Fonts:
    regular: str | None  # a TTF path; None: the PDF core font (Latin-1 only)
    bold: str | None


def find_fonts(configured: str | None = None) -> Fonts:
    """The configured TTF (used for both weights), else the first installed pair."""
    if configured:
        if not Path(configured).is_file():
            raise FileNotFoundError(f"CERTIFICATE_FONT: no font file at {configured}")
        return Fonts(configured, configured)
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            return Fonts(regular, bold if Path(bold).is_file() else regular)
    return Fonts(None, None)


@cache
def _covered(font_path: str | None) -> frozenset[int]:
    """The code points a font has glyphs for (Latin-1 for the core font)."""
    if font_path is None:
        return frozenset(range(32, 256))
    with TTFont(font_path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable_text(text: str, font_path: str | None) -> tuple[str, bool]:
    """`text` as the font can print it, and whether anything had to change.

    Characters the font lacks are replaced by their letters without accents where
    that helps (a rare accented letter; Ł as L), else by "?"; the caller then prints a
    note that the verification page has the exact text."""
    covered = _covered(font_path)
    if all(ord(c) in covered or c in "\n" for c in text):
        return text, False
    out = []
    for char in text:
        if ord(char) in covered:
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", SPELLED.get(char, char))
                        if not unicodedata.combining(c) and ord(c) in covered)
        out.append(plain or "?")
    return "".join(out), True


# Line height of the scope, in mm per point of font size.
SCOPE_LEADING = 0.48


class _Document(FPDF):
    def __init__(self, fields: CertificateFields, fonts: Fonts):
        if fields.page_size not in PAGE_SIZES:
            raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}")
        super().__init__(orientation="landscape", unit="mm", format=fields.page_size.lower())
        self.font_files = fonts
        if fonts.regular:
            self.add_font("Body", "", fonts.regular)
            self.add_font("Body", "B", fonts.bold)
            self.body_font = "Body"
        else:
            self.body_font = "Helvetica"
        self.set_auto_page_break(False)
        self.set_creation_date(fields.issued_at)
        self.set_title(f"{fields.title}: {fields.holder_name}")
        self.set_author(fields.issuer_name)
        self.set_subject(f"Certificate {fields.code}; verify at {fields.verify_url}")
        self.set_creator(fields.issuer_name)

    def text_line(self, text: str, size: float, bold: bool = False, height: float = 0,
                  colour: tuple[int, int, int] = (29, 36, 48)) -> bool:
        """One centred block of text; says whether it had to be simplified."""
        font = self.font_files.bold if bold else self.font_files.regular
        shown, changed = printable_text(text, font)
        self.set_font(self.body_font, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, height or size * 0.5, shown, align="C",
                        new_x="LMARGIN", new_y="NEXT")
        return changed

    def fitted_size(self, text: str, sizes: tuple[float, ...], bottom: float) -> float:
        """The largest of `sizes` at which `text`, set as `text_line` sets it from
        here, ends above `bottom` (the smallest when none does)."""
        shown, _ = printable_text(text, self.font_files.regular)
        for size in sizes:
            self.set_font(self.body_font, "", size)
            lines = self.multi_cell(0, size * SCOPE_LEADING, shown, align="C", dry_run=True,
                                    output=MethodReturnValue.LINES)
            if self.get_y() + len(lines) * size * SCOPE_LEADING <= bottom:
                return size
        return sizes[-1]


def render(fields: CertificateFields, fonts: Fonts | None = None) -> bytes:
    """The certificate's PDF (one landscape page)."""
    fonts = fonts or find_fonts()
    pdf = _Document(fields, fonts)
    pdf.set_margins(25, 20, 25)
    pdf.add_page()
    width, height = pdf.w, pdf.h
    pdf.set_draw_color(47, 93, 138)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, width - 26, height - 26)

    muted = (91, 101, 116)
    pdf.set_y(26)
    pdf.text_line(fields.issuer_name, 14, bold=True, colour=(47, 93, 138))
    pdf.ln(6)
    pdf.text_line("Certificate", 30, bold=True, height=14)
    pdf.ln(5)
    pdf.text_line("This certifies that", 12, colour=muted)
    pdf.ln(3)
    name_changed = pdf.text_line(fields.holder_name, 26, bold=True, height=12)
    if name_changed:
        pdf.text_line(NAME_NOTE, 8, colour=muted, height=4)
    pdf.ln(5)
    pdf.text_line("holds the certification", 12, colour=muted)
    pdf.ln(1)
    pdf.text_line(fields.title, 17, bold=True, height=9)
    # The facts and the QR code along the foot of the page.
    qr_size = 38
    foot = height - 22 - qr_size
    if fields.scope:
        # A long scope (the rules allow SCOPE_LIMIT characters) or a name that wraps
        # is set smaller rather than run into the facts below.
        pdf.ln(3)
        pdf.set_x(45)
        pdf.set_right_margin(45)
        size = pdf.fitted_size(fields.scope, (10.5, 9.5, 8.5, 7.5), foot - 3)
        pdf.text_line(fields.scope, size, height=size * SCOPE_LEADING)
        pdf.set_right_margin(25)
    pdf.set_xy(25, foot)
    rows = (("Issued", day(fields.issued_at)), ("Expires", day(fields.expires_at)),
            ("Issuer", fields.issuer_name), ("Code", fields.code))
    for label, value in rows:
        pdf.set_x(25)
        pdf.set_font(pdf.body_font, "", 10)
        pdf.set_text_color(*muted)
        pdf.cell(22, 6.5, label)
        pdf.set_font(pdf.body_font, "B", 11)
        pdf.set_text_color(29, 36, 48)
        pdf.cell(0, 6.5, printable_text(value, fonts.bold)[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(25)
    pdf.set_font(pdf.body_font, "", 9)
    pdf.set_text_color(*muted)
    pdf.cell(0, 6, "Check this certificate, without signing in, at:",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(25)
    pdf.set_text_color(47, 93, 138)
    pdf.cell(width - 50 - qr_size - 6, 5, fields.verify_url, link=fields.verify_url)

    qr = io.BytesIO()
    segno.make(fields.verify_url, error="m").save(qr, kind="png", scale=8, border=4)
    pdf.image(qr, x=width - 25 - qr_size, y=foot - 2, w=qr_size, h=qr_size,
              link=fields.verify_url, alt_text="QR code of the verification address")
    return bytes(pdf.output())
