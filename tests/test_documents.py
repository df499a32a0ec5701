"""Reading a trainer's document (plain text, Markdown, PDF) into a title and sections."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import BANK_PATH

from quizapp.bank import load_bank
from quizapp.bank.documents import (
    MAX_BYTES,
    MAX_SECTIONS,
    DocumentError,
    Section,
    clean_text,
    read_document,
    section_fingerprint,
    sentences,
)

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(os.environ.get("SOURCE_DOCUMENTS_PATH",
                              ROOT.parent / "shared" / "source-documents"))
needs_articles = pytest.mark.skipif(
    not (SOURCES / "README.md").is_file(),
    reason=f"the source articles are not in {SOURCES} (set SOURCE_DOCUMENTS_PATH)",
)


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry, top to bottom; a page
    given no lines has no content stream at all."""
    bodies: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    contents = []
    for lines in pages:
        if not lines:
            contents.append(None)
            continue
        ops = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(b"(" + escaped.encode("cp1252") + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        contents.append(len(bodies))
    first_page = len(bodies) + 1
    pages_id = first_page + len(pages)
    for content in contents:
        page = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792]" % pages_id
        if content:
            page += b" /Contents %d 0 R" % content
        bodies.append(page + b" /Resources << /Font << /F1 1 0 R >> >> >>")
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(len(pages)))
    bodies.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    bodies.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1, len(bodies), xref)
    return bytes(out)


# --- The shipped articles -----------------------------------------------------------


def documented_sections() -> dict[str, tuple[str, list[str]]]:
    """doc id -> (file, section headings) from the table in the articles' README."""
    table = {}
    for line in (SOURCES / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("doc-"):
            table[cells[0]] = (cells[1], [h.strip() for h in cells[3].split(";")])
    return table


@needs_articles
@pytest.mark.parametrize("doc_id", ["doc-000", "doc-001", "doc-002"])
def test_each_article_splits_into_exactly_the_documented_sections(doc_id):
    file, expected = documented_sections()[doc_id]
    data = (SOURCES / file).read_bytes()

    parsed = read_document(file, data)
    # The heading rule alone finds the same sections, in order; a heading line
    # with a subtitle ("Targeted Skin Concerns: Addressing ...") is kept whole ...
    assert len(parsed.sections) == len(expected)
    for found, name in zip(parsed.headings, expected, strict=True):
        assert found == name or found.startswith(name + ": ")
    assert all(section.text for section in parsed.sections)
    # ... and is named as the citations name it when the known headings are given.
    named = read_document(file, data, known_headings=expected)
    assert named.headings == tuple(expected)
    assert [s.text for s in named.sections] == [s.text for s in parsed.sections]


@needs_articles
def test_the_articles_read_as_the_bank_cites_them():
    bank, _ = load_bank(BANK_PATH)
    for document in bank.documents.values():
        parsed = read_document(document.file, (SOURCES / document.file).read_bytes(),
                               known_headings=document.sections)
        assert parsed.headings == document.sections
        assert parsed.kind == "text"
    titles = {d.id: read_document(d.file, (SOURCES / d.file).read_bytes()).title
              for d in bank.documents.values()}
    assert titles["doc-000"] == "Understanding the Process of Microneedling"
    assert titles["doc-002"] == "Beyond the Surface: Micro Needling for Lasting Radiance"
    # doc-001 opens on a paragraph, so its title comes from the file name.
    assert titles["doc-001"] == "001 d3714ff1bf6c8835"


@needs_articles
def test_article_text_keeps_its_sentences_and_drops_nothing_but_headings():
    _, expected = documented_sections()["doc-001"]
    file = documented_sections()["doc-001"][0]
    parsed = read_document(file, (SOURCES / file).read_bytes(), known_headings=expected)
    procedure = parsed.section("What the Procedure Looks Like")
    assert any("30 to 45 minutes" in s for s in sentences(procedure.text))
    skip = parsed.section("Who Should Skip It")
    assert sentences(skip.text)[0] == "Microneedling is safe for most people."
    assert "Who Should Skip It" not in parsed.section("What It Can Fix").text


# --- The heading rule ---------------------------------------------------------------


def test_plain_text_fixture():
    parsed = read_document("numbing_protocol.txt",
                           (FIXTURES / "numbing_protocol.txt").read_bytes())
    assert parsed.kind == "text"
    assert parsed.title == "Numbing and Aftercare Protocol"
    assert parsed.preamble.startswith("This sheet is our clinic's own summary")
    assert parsed.headings == (
        "Before the Session", "Who We Do Not Treat", "Spacing and Results", "Aftercare",
    )
    before = parsed.section("Before the Session").text
    # Lines wrapped mid-sentence are joined; a line that ends a sentence ends a paragraph.
    assert before == (
        "Check the consultation notes and confirm that nothing has changed since the last"
        " visit.\n\nApply the numbing cream 30 to 45 minutes before treatment. Wipe every"
        " trace of it away before the needling starts."
    )


def test_markdown_fixture():
    parsed = read_document("numbing_protocol.md",
                           (FIXTURES / "numbing_protocol.md").read_bytes())
    assert parsed.kind == "markdown"
    # The only level-1 heading, first in the file, is the title (over the front matter).
    assert parsed.title == "Numbing and Aftercare Protocol"
    # "##", a setext heading and "###" all start sections; "#" in a code block does not.
    assert parsed.headings == (
        "Before the Session", "Who We Do Not Treat", "Spacing and Results", "Aftercare",
    )
    # Link text kept, its address, emphasis and the image dropped.
    assert parsed.preamble.endswith("See the consent form first.")
    before = parsed.section("Before the Session").text
    assert "30 to 45 minutes" in before and "**" not in before and "cream.png" not in before
    assert parsed.section("Who We Do Not Treat").text.endswith(
        "\n\n- eczema\n- psoriasis\n- active cold sores")
    assert "Keep make-up off for 24 hours." in parsed.section("Aftercare").text


def test_markdown_with_several_top_headings_keeps_them_all_as_sections():
    text = "---\ntitle: Clinic handbook\n---\n# Numbing\nApply it early.\n# Aftercare\nNo sun.\n"
    parsed = read_document("handbook.md", text.encode())
    assert parsed.title == "Clinic handbook"
    assert parsed.headings == ("Numbing", "Aftercare")
    plain = read_document("handbook-2.md", b"# Numbing\nApply.\n\n# Aftercare\nRest.\n")
    assert plain.title == "Handbook 2"


def test_short_lines_in_a_run_are_not_headings_and_web_furniture_never_is():
    text = (
        "Clinic Notes\n\nBefore You Start\nCleanse the skin well. Then wait.\n\n"
        "Visit our helpful guide\n\nFind more insights here\n\n"
        "Leave a comment\n\nPlease note, comments are moderated before they appear.\n"
    )
    parsed = read_document("notes.txt", text.encode())
    assert parsed.headings == ("Before You Start",)
    assert "Leave a comment" in parsed.section("Before You Start").text


def test_a_heading_does_not_interrupt_a_sentence_or_swallow_a_wrapped_line():
    text = (
        "Protocol\n\nNumbing\nThe cream goes on well ahead of the needling and is usually left"
        " on for about\n"
        "Thirty Minutes In Most Clinics\nBefore anything else, the skin is cleansed.\n"
        "Apply the cream 30 to 45\nminutes before treatment.\n"
    )
    parsed = read_document("protocol.txt", text.encode())
    assert parsed.headings == ("Numbing",)
    assert parsed.section("Numbing").text == (
        "The cream goes on well ahead of the needling and is usually left on for about"
        " Thirty Minutes In Most Clinics"
        " Before anything else, the skin is cleansed.\n\n"
        "Apply the cream 30 to 45 minutes before treatment."
    )


def test_a_document_without_headings_is_one_section_named_after_its_title():
    text = b"Apply the numbing cream 30 to 45 minutes before treatment. Then wait."
    parsed = read_document("C:\\Users\\trainer\\quick_notes.txt", text)
    assert parsed.title == "Quick notes"
    assert parsed.headings == ("Quick notes",)
    assert parsed.preamble == ""


def test_repeated_headings_are_told_apart():
    parsed = read_document("x.md", b"## Notes\nOne.\n## Notes\nTwo.\n")
    assert parsed.headings == ("Notes", "Notes (2)")


# --- PDF ----------------------------------------------------------------------------


def test_pdf_text_is_read_per_page_then_split_by_the_heading_rule():
    header = "Riverside Clinic Trainee Handout"
    data = make_pdf([
        [header, "Numbing Protocol", "Before the Session",
         "Apply the numbing cream 30 to 45", "minutes before treatment. Keep the treat-",
         "ment area clean.", "1"],
        [header, "Aftercare", "Keep make-up off for 24 hours.", "Page 2 of 2"],
    ])
    parsed = read_document("protocol.pdf", data)
    assert parsed.kind == "pdf"
    assert parsed.title == "Numbing Protocol"
    assert parsed.headings == ("Before the Session", "Aftercare")
    assert parsed.section("Before the Session").text == (
        "Apply the numbing cream 30 to 45 minutes before treatment. Keep the treatment area"
        " clean."
    )
    assert parsed.section("Aftercare").text == "Keep make-up off for 24 hours."


def test_a_pdf_without_text_is_refused():
    with pytest.raises(DocumentError, match="no text that can be extracted"):
        read_document("scan.pdf", make_pdf([[], []]))


def test_a_file_that_is_not_a_pdf_or_is_broken_is_refused():
    with pytest.raises(DocumentError, match="not a PDF file"):
        read_document("notes.pdf", b"Just some text, renamed.")
    with pytest.raises(DocumentError, match="could not be read as a PDF"):
        read_document("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog\n%%EOF")


# --- Errors and cleaning ------------------------------------------------------------


def test_an_empty_file_is_refused():
    with pytest.raises(DocumentError, match="'empty.txt' is empty"):
        read_document("empty.txt", b"")
    with pytest.raises(DocumentError, match="holds no text"):
        read_document("blank.md", b"  \n\t\n\x07\n")


def test_an_unknown_type_is_refused_with_the_types_that_are_read():
    with pytest.raises(DocumentError, match=r"\.docx.*\.txt.*\.md.*\.pdf"):
        read_document("protocol.docx", b"PK\x03\x04 something")
    with pytest.raises(DocumentError, match=r"\(none\)"):
        read_document("README", b"text")


def test_a_binary_file_named_as_text_is_refused():
    with pytest.raises(DocumentError, match="binary"):
        read_document("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_an_oversized_upload_is_refused():
    assert MAX_BYTES == 2 * 1024 * 1024
    read_document("big.txt", b"a" * MAX_BYTES)  # at the limit: fine
    with pytest.raises(DocumentError, match=r"over the 2 MB limit \(2,097,153 bytes\)"):
        read_document("big.txt", b"a" * (MAX_BYTES + 1))


def test_too_many_sections_are_refused():
    many = "".join(f"## Part {n}\nText {n}.\n" for n in range(MAX_SECTIONS + 1))
    with pytest.raises(DocumentError, match=f"has {MAX_SECTIONS + 1} sections; the limit is"):
        read_document("long.md", many.encode())
    fine = "".join(f"## Part {n}\nText {n}.\n" for n in range(MAX_SECTIONS))
    assert len(read_document("long.md", fine.encode()).sections) == MAX_SECTIONS


def test_odd_unicode_is_normalised_and_control_characters_dropped():
    raw = ("\ufeffCafe\u0301 Notes\r\n\r\nBefore the Session\r\nThe \ufb01rst\u00a0step:"
           " cleanse\u200b the skin\x07 well.\x1b\u00ad Then wait.\u2028Done.\r\n")
    parsed = read_document("notes.txt", raw.encode("utf-8"))
    assert parsed.title == "Café Notes"
    assert parsed.section("Before the Session").text == (
        "The first step: cleanse the skin well. Then wait.\n\nDone."
    )
    assert clean_text("e\u0301\tx\x00y") == "\u00e9 xy"


def test_text_in_older_encodings_is_read():
    assert read_document("old.txt", "Caf\u00e9 au lait".encode("cp1252")).title == "Café au lait"
    utf16 = "Notes\nKeep it simple.".encode("utf-16")
    assert read_document("u16.txt", utf16).title == "Notes"


# --- Sentences and fingerprints -----------------------------------------------------


def test_sentences_split_on_full_stops_but_not_abbreviations_or_decimals():
    text = (
        'Use a 0.5 mm depth, e.g. on the forehead. Dr. Lee says "wait." Then rest!\n'
        "- eczema\n- psoriasis\n\nIs it safe? Mostly."
    )
    assert sentences(text) == [
        "Use a 0.5 mm depth, e.g. on the forehead.",
        'Dr. Lee says "wait."',
        "Then rest!",
        "eczema",
        "psoriasis",
        "Is it safe?",
        "Mostly.",
    ]


def test_section_fingerprint_is_stable_ignores_layout_and_sees_words():
    text = "Apply the cream.\n\n  Wait."
    assert section_fingerprint(text) == (
        "e9ea531d62cdaffc13287de9b2bc2e0ea9e130b3362487246abe555e48245e64"
    )
    assert section_fingerprint("Apply  the cream.\nWait. ") == section_fingerprint(text)
    assert section_fingerprint("Apply the cream.\nWait longer.") != section_fingerprint(text)
    assert section_fingerprint("Cafe\u0301") == section_fingerprint("Café")
    assert Section("Numbing", text).fingerprint == section_fingerprint(text)
