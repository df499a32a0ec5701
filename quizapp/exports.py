"""CSV as spreadsheets read it: streamed row by row, with formula injection
neutralised. Every CSV the app or the CLI writes goes through `csv_lines`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

# A cell starting with one of these is run as a formula by Excel, LibreOffice and
# Google Sheets (OWASP "CSV injection"); a leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> object:
    """The value as a spreadsheet should show it: text that would start a formula gets
    a leading apostrophe; numbers (including negative ones) are left as numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text, one line at a time, so a large export never sits in memory.
    The first line starts with a byte-order mark: Excel then reads UTF-8 names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(header)
    for row in rows:
        yield line(row)
