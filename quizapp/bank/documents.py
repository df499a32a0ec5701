"""Training documents: from an uploaded file to a title and its ordered sections.

A trainer uploads plain text (`.txt`), Markdown (`.md`) or PDF (`.pdf`);
`read_document` returns a `ParsedDocument` whose sections questions and facts cite
by heading, as they cite the shipped articles. No Flask, no database: the app stores
what this returns.

Text is cleaned first: Unicode is normalised to NFC, the ligatures PDFs produce
("ﬁ") are spelled out, control and invisible format characters (zero-width spaces,
soft hyphens, byte-order marks) are dropped, tabs and odd spaces become spaces.

**Markdown.** Every ATX (`#` to `######`) or setext (underlined with `===` or
`---`) heading starts a section; sections are flat, whatever their level. When the
document's first element is a level-1 heading and no other level-1 heading
follows, that heading is the title. Links keep their text, images and HTML are
dropped, emphasis and code marks are removed, list items stay one per line.

**Plain text, and the text of a PDF.** The heading rule: a line is a heading when

1. it is *heading-shaped*: at most 12 words and 100 characters; it starts with a
   capital letter or a digit; it does not end with sentence punctuation
   (`. , ; : !`; a closing `?` is allowed, as in "What is Microneedling?"); it is
   not a list item (`•`, `-`, `*`, `1.` ...); and it is not web-page furniture
   such as "Leave a comment" or "Related posts" (`NEVER_HEADINGS`);
2. the next non-blank line starts a paragraph: it does not start with a lower-case
   letter (which would make it the rest of a sentence wrapped across lines, as PDF
   text often is), and it is not a heading-shaped line standing alone (so a run of
   short lines, such as a list of links or image captions, holds no heading; a
   short line that a lower-case line continues is wrapped prose, and counts);
3. the line just before it, unless a blank line separates them, ends a sentence
   (`. ! ? : ;`, or a closing quote after them) or is a list item: a heading does
   not interrupt a sentence.

The first non-blank line is the title when it is heading-shaped (whatever follows
it); otherwise the title is made from the file name. Text before the first heading
is the `preamble` (an introduction, not a citable section). A document without
any heading is one section named after its title. Two sections with the same
heading are told apart as "Heading (2)". A PDF's pages are read in order with
pypdf; page-number lines and a running header or footer repeated on every page are
dropped, and a word hyphenated across a line break is joined.

Subtitles: a heading written "Short Name: a longer subtitle" is kept whole, but
`read_document(..., known_headings=...)` names it by a known heading that it
starts with followed by a colon, so a re-uploaded article keeps the section names
its citations already use (the shipped bank cites "Targeted Skin Concerns" for the
line "Targeted Skin Concerns: Addressing Fine Lines, Wrinkles, and Scars").
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_BYTES = 2 * 1024 * 1024  # 2 MB
MAX_SECTIONS = 50
MAX_HEADING_WORDS = 12
MAX_HEADING_CHARS = 100
KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}
# Lines pasted from web pages that look like headings but head nothing.
NEVER_HEADINGS = frozenset([
    "leave a comment", "leave a reply", "comments", "related posts", "related articles",
    "you may also like", "share this", "share this article", "share this post",
    "read more", "subscribe", "advertisement", "post navigation",
])
LIGATURES = str.maketrans({
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "st", "\ufb06": "st",
})
ABBREVIATIONS = frozenset([
    "e.g", "i.e", "etc", "approx", "dr", "mr", "mrs", "ms", "st", "vs", "no", "fig", "ca",
])

BULLET = re.compile(r"^(?:[•·▪◦‣●○■□*+\-–—]|\d{1,3}[.)])\s+")
SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s+of\s+\d{1,4})?$", re.I)


class DocumentError(ValueError):
    """An upload that cannot be turned into a document; the message says why."""


@dataclass(frozen=True)
class Section:
    heading: str
    text: str  # paragraphs separated by a blank line, list items one per line ("- ...")

    @property
    def fingerprint(self) -> str:
        return section_fingerprint(self.text)


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    kind: str  # "text", "markdown" or "pdf"
    sections: tuple[Section, ...]
    preamble: str = ""  # text before the first heading

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(section.heading for section in self.sections)

    def section(self, heading: str) -> Section | None:
        return next((s for s in self.sections if s.heading == heading), None)


# --- Public helpers -----------------------------------------------------------------


def section_fingerprint(text: str) -> str:
    """A stable hash of a section's text: NFC-normalised, whitespace collapsed, so
    reflowing a paragraph changes nothing but changing a word does."""
    canonical = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    """The sentences of a section's text, in order. Each line (a paragraph or a list
    item) is split on its own; a sentence ends at `.`, `!` or `?` followed by a space
    and a capital or a digit, except after a common abbreviation (e.g., Dr., approx.).
    A list item without final punctuation is one sentence."""
    found: list[str] = []
    for line in text.split("\n"):
        line = BULLET.sub("", line.strip()).strip()
        if not line:
            continue
        start = 0
        for match in _BOUNDARY.finditer(line):
            before = line[start:match.start()].rstrip(".!?\"'”’)]")
            last_word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
            if last_word in ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
                continue  # "e.g. Dr. Smith", an initial
            found.append(line[start:match.start()].strip() + match.group(0).rstrip())
            start = match.end()
        rest = line[start:].strip()
        if rest:
            found.append(rest)
    return [s for s in (" ".join(s.split()) for s in found) if s]


def clean_text(text: str) -> str:
    """NFC, ligatures spelled out, control and format characters dropped, every kind
    of line break made a newline and every kind of space a space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text).translate(LIGATURES)
    kept = []
    for char in text:
        if char == "\n":
            kept.append(char)
            continue
        category = unicodedata.category(char)
        if category in ("Zl", "Zp"):
            kept.append("\n")
        elif char == "\t" or category == "Zs":
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co"):
            continue
        else:
            kept.append(char)
    return "".join(kept)


# --- Reading ------------------------------------------------------------------------


def read_document(
    filename: str, data: bytes, *, known_headings: Iterable[str] = ()
) -> ParsedDocument:
    """Turn an uploaded file into a title and its sections, or raise DocumentError."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    kind = KINDS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        suffix = PurePosixPath(name).suffix or "(none)"
        raise DocumentError(
            f"'{name}' is not a type that can be read (file type {suffix}): upload plain"
            " text (.txt), Markdown (.md) or PDF (.pdf)."
        )
    if not data:
        raise DocumentError(f"'{name}' is empty.")
    if len(data) > MAX_BYTES:
        raise DocumentError(
            f"'{name}' is over the {MAX_BYTES // 1024 // 1024} MB limit ({len(data):,}"
            " bytes). Upload the part the questions will cover."
        )
    if kind == "pdf":
        pages = [clean_text(page) for page in _pdf_pages(name, data)]
        if not any(page.strip() for page in pages):
            raise DocumentError(
                f"'{name}' has no text that can be extracted: it may be a scan or an image."
                " Upload a PDF with selectable text, or the text itself."
            )
        text = _join_pages(pages)
    else:
        text = clean_text(_decode(name, data))
        if not text.strip():
            raise DocumentError(f"'{name}' holds no text, only blank space.")
    fallback_title = _title_from_filename(name)
    if kind == "markdown":
        title, preamble, sections = _parse_markdown(text, fallback_title)
    else:
        title, preamble, sections = _parse_plain(text, fallback_title)
    if len(sections) > MAX_SECTIONS:
        raise DocumentError(
            f"'{name}' has {len(sections)} sections; the limit is {MAX_SECTIONS}."
            " Split it into several documents, or use fewer headings."
        )
    sections = _distinct(_canonical(sections, tuple(known_headings)))
    return ParsedDocument(title=title, kind=kind, sections=tuple(sections), preamble=preamble)


def _decode(name: str, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DocumentError(f"'{name}' is not valid UTF-16 text.") from error
    if b"\x00" in data:
        raise DocumentError(f"'{name}' looks like a binary file, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # text saved by older Windows editors
    except UnicodeDecodeError as error:
        raise DocumentError(f"'{name}' is not UTF-8 text; save it as UTF-8.") from error


def _pdf_pages(name: str, data: bytes) -> list[str]:
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(f"'{name}' is not a PDF file (it has no PDF header).")
    from pypdf import PdfReader  # only PDF uploads need it

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception:  # noqa: BLE001 - missing crypto support, bad key: same answer
                unlocked = 0
            if not unlocked:
                raise DocumentError(
                    f"'{name}' is protected by a password; upload an unprotected copy."
                )
        return [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except Exception as error:  # noqa: BLE001 - untrusted input: any failure is a bad file
        raise DocumentError(f"'{name}' could not be read as a PDF ({error}).") from error


def _join_pages(pages: list[str]) -> str:
    """The pages' lines in order, without page numbers or a running header/footer
    (a first or last line that is the same on every page of two or more), and with
    words hyphenated across a line break joined."""
    lines_per_page = [[line.strip() for line in page.split("\n") if line.strip()]
                      for page in pages]
    lines_per_page = [[line for line in lines if not PAGE_NUMBER.match(line)]
                      for lines in lines_per_page]
    nonempty = [lines for lines in lines_per_page if lines]
    if len(nonempty) >= 2:
        for edge in (0, -1):
            first = Counter(lines[edge] for lines in nonempty)
            line, count = first.most_common(1)[0]
            if count == len(nonempty):
                for lines in nonempty:
                    if lines and lines[edge] == line:
                        lines.pop(edge)
    text = "\n".join(line for lines in lines_per_page for line in lines)
    return re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", text)


def _title_from_filename(name: str) -> str:
    stem = PurePosixPath(name).stem
    words = re.sub(r"[_\-.]+", " ", stem).split()
    title = " ".join(words) or "Untitled document"
    return title[:1].upper() + title[1:]


# --- Plain text ---------------------------------------------------------------------


def _words(line: str) -> int:
    return len(line.split())


def heading_shaped(line: str) -> bool:
    """Rule 1 of the module's heading rule (a line, stripped)."""
    return _short_line(line) and line.rstrip("?").strip().lower() not in NEVER_HEADINGS


def _short_line(line: str) -> bool:
    """Heading-shaped but for the list of web-page furniture: such a line still
    makes a run of short lines, like a list of links."""
    if not line or _words(line) > MAX_HEADING_WORDS or len(line) > MAX_HEADING_CHARS:
        return False
    if BULLET.match(line):
        return False
    if not (line[0].isupper() or line[0].isdigit()):
        return False
    if not any(char.isalpha() for char in line):
        return False
    return line.rstrip("\"'”’)]")[-1:] not in (".", ",", ";", ":", "!", "…")


def _parse_plain(text: str, fallback_title: str) -> tuple[str, str, list[Section]]:
    lines = [line.strip() for line in text.split("\n")]
    filled = [i for i, line in enumerate(lines) if line]
    title = fallback_title
    if filled and heading_shaped(lines[filled[0]]):
        title = lines[filled[0]]
        filled = filled[1:]
    def wrapped(index: int) -> bool:
        """The line goes on in the next one: it starts with a lower-case letter."""
        return index + 1 < len(lines) and lines[index + 1][:1].islower()

    headings = set()
    for position, index in enumerate(filled):
        if not heading_shaped(lines[index]) or position + 1 >= len(filled):
            continue
        after = filled[position + 1]
        if lines[after][0].islower() or (_short_line(lines[after]) and not wrapped(after)):
            continue  # rule 2
        before = filled[position - 1] if position > 0 else None
        if before == index - 1 and not BULLET.match(lines[before]) \
                and not SENTENCE_END.search(lines[before]):
            continue  # rule 3
        headings.add(index)
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    for index in filled:
        if index in headings:
            blocks.append((lines[index], []))
        else:
            blocks[-1][1].append(index)
    preamble = _body([lines[i] for i in blocks[0][1]], _gaps(lines, blocks[0][1]))
    sections = [
        Section(heading, _body([lines[i] for i in body], _gaps(lines, body)))
        for heading, body in blocks[1:]
    ]
    if not sections:
        return title, "", [Section(title, preamble)]
    return title, preamble, sections


def _gaps(lines: list[str], indexes: list[int]) -> list[bool]:
    """For each line, whether a blank line came just before it."""
    return [i > 0 and not lines[i - 1] for i in indexes]


def _body(lines: list[str], blank_before: list[bool]) -> str:
    """Paragraphs from lines: a blank line or a line ending a sentence ends a
    paragraph, a wrapped line is joined to the one before, list items stay apart."""
    paragraphs: list[list[str]] = []
    open_paragraph = False
    for line, gap in zip(lines, blank_before, strict=True):
        bullet = BULLET.match(line)
        if bullet:
            item = "- " + line[bullet.end():].strip()
            if paragraphs and paragraphs[-1] and paragraphs[-1][-1].startswith("- ") \
                    and not gap:
                paragraphs[-1].append(item)
            else:
                paragraphs.append([item])
            open_paragraph = False
            continue
        if open_paragraph and not gap:
            paragraphs[-1][-1] += " " + line
        else:
            paragraphs.append([line])
        open_paragraph = not SENTENCE_END.search(line)
    return "\n\n".join("\n".join(paragraph) for paragraph in paragraphs)


# --- Markdown -----------------------------------------------------------------------

ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
MD_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
INLINE = (
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),
    (re.compile(r"`+([^`]+)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),
)


def _inline(text: str) -> str:
    for pattern, replacement in INLINE:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _parse_markdown(text: str, fallback_title: str) -> tuple[str, str, list[Section]]:
    raw = text.split("\n")
    front_title = None
    if raw and raw[0].strip() == "---":
        end = next((i for i in range(1, min(len(raw), 60)) if raw[i].strip() in ("---", "...")),
                   None)
        if end is not None:
            for line in raw[1:end]:
                match = re.match(r"^title:\s*(.+?)\s*$", line)
                if match:
                    front_title = match.group(1).strip("\"'")
            raw = raw[end + 1:]
    # Each element: ("heading", level, text) or ("line", text) or ("blank",).
    elements: list[tuple] = []
    in_fence = False
    for line in raw:
        if FENCE.match(line):
            in_fence = not in_fence
            elements.append(("blank",))
            continue
        if in_fence:
            elements.append(("line", line.strip()) if line.strip() else ("blank",))
            continue
        stripped = re.sub(r"^(?:\s*>)+\s?", "", line).strip()
        setext = SETEXT.match(line)
        previous = elements[-1] if elements else ("blank",)
        if setext and previous[0] == "line" and not MD_LIST.match(previous[1]) \
                and (len(elements) < 2 or elements[-2][0] != "line"):
            level = 1 if setext.group(1).startswith("=") else 2
            elements[-1] = ("heading", level, _inline(previous[1]))
            continue
        if not stripped or THEMATIC_BREAK.match(stripped) or LINK_DEFINITION.match(stripped) \
                or TABLE_RULE.match(stripped):
            elements.append(("blank",))
            continue
        atx = ATX.match(stripped)
        if atx:
            heading = _inline(atx.group(2) or "")
            elements.append(("heading", len(atx.group(1)), heading) if heading else ("blank",))
            continue
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            stripped = "; ".join(c for c in cells if c)
        elements.append(("line", stripped))
    headings = [e for e in elements if e[0] == "heading"]
    first = next((e for e in elements if e[0] != "blank"), None)
    title = front_title or fallback_title
    if first is not None and first[0] == "heading" and first[1] == 1 \
            and sum(1 for h in headings if h[1] == 1) == 1:
        title = first[2]
        elements.remove(first)
    blocks: list[tuple[str | None, list[str], list[bool]]] = [(None, [], [])]
    gap = False
    for element in elements:
        if element[0] == "heading":
            blocks.append((element[2], [], []))
            gap = False
        elif element[0] == "blank":
            gap = True
        else:
            line = element[1]
            bullet = MD_LIST.match(line)
            line = "- " + _inline(line[bullet.end():]) if bullet else _inline(line)
            if line and line != "-":
                blocks[-1][1].append(line)
                blocks[-1][2].append(gap)
            gap = False
    preamble = _markdown_body(blocks[0][1], blocks[0][2])
    sections = [Section(h, _markdown_body(lines, gaps)) for h, lines, gaps in blocks[1:]]
    if not sections:
        return title, "", [Section(title, preamble)]
    return title, preamble, sections


def _markdown_body(lines: list[str], blank_before: list[bool]) -> str:
    """Markdown paragraphs: lines are joined until a blank line; list items apart."""
    paragraphs: list[list[str]] = []
    for line, gap in zip(lines, blank_before, strict=True):
        if line.startswith("- "):
            if paragraphs and paragraphs[-1][-1].startswith("- ") and not gap:
                paragraphs[-1].append(line)
            else:
                paragraphs.append([line])
        elif paragraphs and not gap and not paragraphs[-1][-1].startswith("- "):
            paragraphs[-1][-1] += " " + line
        else:
            paragraphs.append([line])
    return "\n\n".join("\n".join(paragraph) for paragraph in paragraphs)


# --- Section names ------------------------------------------------------------------


def _canonical(sections: list[Section], known: tuple[str, ...]) -> list[Section]:
    """Name a heading "Known: subtitle" by the known heading it starts with."""
    if not known:
        return sections
    renamed = []
    for section in sections:
        heading = section.heading
        if heading not in known:
            match = next((k for k in known if heading.startswith(k + ":")), None)
            heading = match or heading
        renamed.append(Section(heading, section.text))
    return renamed


def _distinct(sections: list[Section]) -> list[Section]:
    seen: Counter[str] = Counter()
    distinct = []
    for section in sections:
        seen[section.heading] += 1
        heading = section.heading
        if seen[heading] > 1:
            heading = f"{heading} ({seen[heading]})"
        distinct.append(Section(heading, section.text))
    return distinct
