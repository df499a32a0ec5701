"""Questions as CSV, for trainers who write in spreadsheets.

Plain Python, no Flask: `to_csv(questions)` returns the text of a CSV file, and
`from_csv(text, bank)` reads one back into questions and row-level problems. Reading
writes nothing anywhere: the caller writes `CsvImport.questions`, which is empty
unless every row is valid.

One row per question, under a header row that names the columns (in any order; the
names are read without regard to case or surrounding spaces):

| column | holds |
| --- | --- |
| `id` | the question id, e.g. `contra-001` |
| `topic` | a topic id from topics.yaml |
| `type` | `single`, `multiple` or `true_false` |
| `difficulty` | `easy`, `medium` or `hard` |
| `safety_critical` | `true` or `false` |
| `risk` | the risk category of a safety-critical question; empty on the others |
| `practice_only`, `scenario`, `ordered` | `true` or `false`; empty means false |
| `status` | `published`, `draft` or `retired`; empty means published |
| `stem` | the question |
| `option_a` ... `option_f` | 2 to 6 options from `option_a` on, no gaps (true/false: True, False) |
| `rationale_a` ... `rationale_f` | why that option is wrong; required for every wrong option |
| `correct` | the letters of the right options: `b`, or `a;c` for a multiple-response question |
| `explanation` | shown after the question is answered |
| `source_document`, `source_section`, `source_fact` | the citation: document id, section, fact |
| `source2_...`, `source3_...` | a second and third citation (same three columns), or empty |
| `enemies` | ids of questions never to share a form with this one, separated by `;` |

A question with more than three citations is exported with `source4_...` columns
(and so on); on import those extra citation columns are optional, in complete
groups of three. `true`/`false` are read in any case (spreadsheets write TRUE);
lists (`correct`, `enemies`) may be separated by `;`, `,` or spaces. The file is
UTF-8, with or without a byte order mark (a string that starts with one is read the
same); cells are separated by commas (a header separated by `;` or tabs is
recognised too). Write `to_csv`'s text with the encoding `utf-8-sig` so that Excel
opens it as UTF-8.

Each row is checked by the rules the bank files obey, not a copy of them:
`files.parse_question`, with the file's collector, and, given the bank,
`check.check_question` against the bank with the file's questions in it (the
citations are then checked against its documents, the topic against its topics).
What is checked only for the bank as a whole (near-duplicates, blueprints,
guessability) is for the caller to run, with `check_bank`, before writing. Each
problem names its row (as a spreadsheet numbers it: the header is row 1) and, where
it can be told, its column.

Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@`
(or a tab or carriage return before one) as a formula. On export such a cell gets
a leading apostrophe, which spreadsheets read as "this is text"; so does a cell that
already starts with apostrophes followed by one of those characters, so that import
can take exactly one apostrophe off every cell of that shape and give back the
original text.

A cell may not hold characters that the YAML bank files cannot (control characters
other than tab and line breaks, unpaired surrogates, U+FFFE, U+FFFF), nor more than
`CELL_LIMIT` characters; either is a problem of that cell.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from quizapp.bank.check import check_question
from quizapp.bank.files import ID_PATTERN, _Collector, parse_question
from quizapp.bank.model import Bank, Problem, Question

LETTERS = "abcdef"
OPTION_COLUMNS = tuple(f"option_{letter}" for letter in LETTERS)
RATIONALE_COLUMNS = tuple(f"rationale_{letter}" for letter in LETTERS)
HEAD_COLUMNS = (
    "id", "topic", "type", "difficulty", "safety_critical", "risk", "practice_only",
    "scenario", "ordered", "status", "stem",
)
SOURCE_FIELDS = ("document", "section", "fact")
EXPORTED_CITATIONS = 3  # citation column groups always written, filled or not
CELL_LIMIT = 5000  # characters; the longest text a question may hold is 2,000
_SOURCE_COLUMN = re.compile(r"^source(\d*)_(document|section|fact)$")
_NEEDS_APOSTROPHE = re.compile(r"^'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_LIST_SEPARATORS = re.compile(r"[;,\s]+")


def source_prefix(number: int) -> str:
    """The column prefix of the `number`th citation: source, source2, source3, ..."""
    return "source" if number == 1 else f"source{number}"


def columns(citations: int = EXPORTED_CITATIONS) -> tuple[str, ...]:
    """The header of an export with this many citation column groups."""
    sources = tuple(
        f"{source_prefix(n)}_{field}" for n in range(1, citations + 1) for field in SOURCE_FIELDS
    )
    return (*HEAD_COLUMNS, *OPTION_COLUMNS, *RATIONALE_COLUMNS, "correct", "explanation",
            *sources, "enemies")


COLUMNS = columns()
REQUIRED_COLUMNS = columns(1)  # the citation groups after the first are optional


@dataclass(frozen=True)
class RowProblem:
    """A problem with one row (or, with `row` None, with the file as a whole)."""

    row: int | None
    column: str
    message: str
    level: str = "error"
    item: str = ""  # the question id, when the row has one

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.item:
            where += f" ({self.item})"
        return f"{self.level}: {where}: {self.message}"


@dataclass(frozen=True)
class CsvImport:
    """What a CSV file holds. Nothing has been written."""

    # Every row that parsed, as (row number, question), for a preview.
    rows: tuple[tuple[int, Question], ...]
    errors: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def questions(self) -> tuple[Question, ...]:
        """The questions to write: all of them when every row is valid, else none."""
        return tuple(question for _, question in self.rows) if self.ok else ()


# --- Export -----------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (see the module's docstring)."""
    return "'" + cell if _NEEDS_APOSTROPHE.match(cell) else cell


def unneutralise(cell: str) -> str:
    """The exact inverse of `neutralise`."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _row(question: Question, citations: int) -> list[str]:
    letters = tuple(option.id for option in question.options)
    if letters != tuple(LETTERS[: len(letters)]):
        raise ValueError(
            f"{question.id}: options must be a, b, c, ... in order (at most six) to fit the"
            f" CSV columns; they are {', '.join(letters)}"
        )
    cells = {
        "id": question.id, "topic": question.topic, "type": question.type,
        "difficulty": question.difficulty, "safety_critical": _flag(question.safety_critical),
        "risk": question.risk or "", "practice_only": _flag(question.practice_only),
        "scenario": _flag(question.scenario), "ordered": _flag(question.ordered),
        "status": question.status, "stem": question.stem,
        "correct": ";".join(o.id for o in question.options if o.correct),
        "explanation": question.explanation, "enemies": ";".join(question.enemies),
    }
    for option in question.options:
        cells[f"option_{option.id}"] = option.text
        cells[f"rationale_{option.id}"] = option.rationale
    for number, citation in enumerate(question.sources, start=1):
        prefix = source_prefix(number)
        cells[f"{prefix}_document"] = citation.document
        cells[f"{prefix}_section"] = citation.section
        cells[f"{prefix}_fact"] = citation.fact
    return [neutralise(cells.get(name, "")) for name in columns(citations)]


def to_csv(questions: Iterable[Question]) -> str:
    """The questions as CSV text, one row each, under the header row."""
    questions = list(questions)
    citations = max([EXPORTED_CITATIONS, *(len(q.sources) for q in questions)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(citations))
    for question in questions:
        writer.writerow(_row(question, citations))
    return buffer.getvalue()


# --- Import -----------------------------------------------------------------------


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first_line.count)


def _unfit_character(cell: str) -> str | None:
    """Why a cell cannot go into the bank files, if it cannot."""
    for position, char in enumerate(cell, start=1):
        if char in "\t\n\r\x85":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in "\ufffe\uffff":
            kind = "an unpaired surrogate" if category == "Cs" else "the control character"
            return (f"holds {kind} U+{ord(char):04X} at character {position}; retype the"
                    " text or paste it as plain text")
    return None


@dataclass
class _Header:
    names: list[str]  # the column names, in the file's order, lower-cased
    citations: list[str]  # citation prefixes present, in order: source, source2, ...


def _read_header(cells: list[str]) -> tuple[_Header | None, list[RowProblem]]:
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()
    problems = []
    if not names:
        return None, [RowProblem(1, "", "the first row must name the columns")]
    for number, name in enumerate(names, start=1):
        if not name:
            problems.append(RowProblem(1, "", f"column {number} has no name"))
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            problems.append(RowProblem(1, name, "the column is named twice"))
        seen.add(name)
    known = set(COLUMNS)
    groups: dict[int, set[str]] = {}
    unknown = []
    for name in sorted(seen - {""}):
        match = _SOURCE_COLUMN.match(name)
        if match and match.group(1) not in ("", "1") and not match.group(1).startswith("0"):
            groups.setdefault(int(match.group(1)), set()).add(match.group(2))
        elif name not in known:
            unknown.append(name)
    if unknown:
        problems.append(RowProblem(
            1, "", f"unknown column(s): {', '.join(unknown)}; the columns are"
            f" {', '.join(COLUMNS)}",
        ))
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        problems.append(RowProblem(1, "", f"missing column(s): {', '.join(missing)}"))
    for number, fields in sorted(groups.items()):
        if fields != set(SOURCE_FIELDS):
            prefix = source_prefix(number)
            problems.append(RowProblem(
                1, "", f"a citation needs all three columns {prefix}_document,"
                f" {prefix}_section and {prefix}_fact",
            ))
    citations = [source_prefix(n) for n in [1, *sorted(groups)]]
    return (None if problems else _Header(names, citations)), problems


def _flag_value(cell: str) -> bool | str:
    lowered = cell.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return cell  # not a flag: parse_question says so


def _column_of(message: str, letters: list[str], citations: list[str]) -> str:
    """The column a validator's message is about, as near as it can be told."""
    match = re.match(r"option (\d+)\b", message)  # parse_question: "option 2: ..."
    if match:
        number = int(match.group(1))
        letter = letters[number - 1] if number <= len(letters) else "a"
        return ("rationale_" if "'rationale'" in message else "option_") + letter
    match = re.match(r"source (\d+)\b", message)  # parse_question: "source 1: ..."
    if match:
        number = int(match.group(1))
        prefix = citations[number - 1] if number <= len(citations) else "source"
        if "'fact'" in message:
            return f"{prefix}_fact"
        return f"{prefix}_section" if "not a section" in message else f"{prefix}_document"
    match = re.match(r"options? ([a-f])\b", message)  # the linter: "option b uses ..."
    if match:
        return f"option_{match.group(1)}"
    match = re.match(r"'([a-z_]+)'", message)  # "'stem' must be ...", "'risk' belongs ..."
    if match:
        name = {"options": "option_a", "sources": "source_document"}.get(
            match.group(1), match.group(1))
        if name in COLUMNS:
            return name
    for words, column in (
        (("correct option", "one correct and one wrong"), "correct"),
        (("exactly the options",), "option_a"),
        (("practice_only",), "practice_only"),
        (("stem word",), "stem"),  # before "risk": the word quoted may be any word
        (("risk",), "risk"),
        (("stem",), "stem"),
    ):
        if any(word in message for word in words):
            return column
    return ""


def _read_row(
    number: int, cells: dict[str, str], header: _Header, bank: Bank | None,
) -> tuple[Question | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    item = cells.get("id", "").strip()

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(number, column, message, item=item))

    flagged: set[str] = set()  # columns with a problem of their own already
    for name, cell in cells.items():
        if len(cell) > CELL_LIMIT:
            problem(name, f"holds {len(cell):,} characters; a cell may hold at most"
                          f" {CELL_LIMIT:,}")
            flagged.add(name)
            cells[name] = cell[:CELL_LIMIT].strip()  # read on, to find the row's other problems
            continue
        unfit = _unfit_character(cell)
        if unfit:
            problem(name, unfit)
            flagged.add(name)
        cells[name] = cell.strip()

    topic = cells["topic"]
    if not ID_PATTERN.match(topic) or (bank is not None and topic not in bank.topics):
        known = f" ({', '.join(bank.topics)})" if bank is not None else ""
        problem("topic", f"'topic' must name a topic from topics.yaml{known}, not '{topic}'")

    texts = [cells[f"option_{letter}"] for letter in LETTERS]
    last = max((i for i, text in enumerate(texts) if text), default=-1)
    letters = [letter for i, letter in enumerate(LETTERS) if texts[i]]
    for i, letter in enumerate(LETTERS):
        if i < last and not texts[i]:
            problem(f"option_{letter}", "is empty, but a later option is filled: fill the"
                                        " options from option_a on, without gaps")
            flagged.add(f"option_{letter}")
        if not texts[i] and cells[f"rationale_{letter}"]:
            problem(f"rationale_{letter}", f"explains an option that is not there: option_{letter}"
                                           " is empty")
            flagged.add(f"rationale_{letter}")
    correct = set()
    for token in _LIST_SEPARATORS.split(cells["correct"].lower()):
        if not token:
            continue
        if len(token) != 1 or token not in LETTERS:
            problem("correct", f"'{token}' is not an option letter: write the letters of the"
                               " right options, like b or a;c")
            flagged.add("correct")
        elif token not in letters:
            problem("correct", f"names {token}, but option_{token} is empty")
            flagged.add("correct")
        else:
            correct.add(token)

    sources = []
    citations = []
    for prefix in header.citations:
        values = {field: cells[f"{prefix}_{field}"] for field in SOURCE_FIELDS}
        if not any(values.values()):
            continue
        for field in ("document", "section"):
            if not values[field]:
                problem(f"{prefix}_{field}", "is empty: a citation names the document, the"
                                             " section and the fact")
                flagged.add(f"{prefix}_{field}")
        sources.append(values)
        citations.append(prefix)

    raw: dict = {
        "id": cells["id"], "type": cells["type"], "difficulty": cells["difficulty"],
        "safety_critical": _flag_value(cells["safety_critical"]), "stem": cells["stem"],
        "explanation": cells["explanation"], "sources": sources,
        "options": [
            {"id": letter, "text": texts[LETTERS.index(letter)], "correct": letter in correct,
             "rationale": cells[f"rationale_{letter}"]}
            for letter in letters
        ],
    }
    for name in ("practice_only", "scenario", "ordered"):
        if cells[name]:
            raw[name] = _flag_value(cells[name])
    for name in ("risk", "status"):
        if cells[name]:
            raw[name] = cells[name]
    if cells["enemies"]:
        raw["enemies"] = [e for e in _LIST_SEPARATORS.split(cells["enemies"]) if e]

    out = _Collector(f"row {number}")
    question = parse_question(raw, topic, out, bank.documents if bank is not None else None)
    for found in out.problems:
        column = _column_of(found.message, letters, citations)
        if column not in flagged:
            problem(column, found.message)
    if problems:
        return None, problems
    return question, problems


def _problems_from_checker(number: int, found: list[Problem], question: Question):
    letters = [option.id for option in question.options]
    citations = [source_prefix(n) for n in range(1, len(question.sources) + 1)]
    return [
        RowProblem(number, _column_of(p.message, letters, citations), p.message, p.level,
                   question.id)
        for p in found
    ]


def from_csv(text: str | bytes, bank: Bank | None = None) -> CsvImport:
    """Read a CSV file of questions (see the module's docstring); write nothing.

    Given the bank, each question is also checked against it (`check_question`), its
    topic against the bank's topics and its citations against the bank's documents.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = text[: error.start].count(b"\n") + 1
            return CsvImport((), (RowProblem(
                None, "", f"the file is not UTF-8 text (line {line}): save it from the"
                " spreadsheet as \"CSV UTF-8\"",
            ),))
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return CsvImport((), (RowProblem(None, "", "the file is empty"),))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    errors: list[RowProblem] = []
    warnings: list[RowProblem] = []
    header: _Header | None = None
    rows: list[tuple[int, Question]] = []
    first_row_of: dict[str, int] = {}
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            message = str(error)
            if "field larger than field limit" in message:
                message = (f"a cell holds more than {csv.field_size_limit():,} characters"
                           f" (a cell may hold at most {CELL_LIMIT:,})")
            errors.append(RowProblem(number, "", f"{message}; the file was read no further"))
            break
        if header is None:
            header, problems = _read_header(record)
            errors += problems
            if header is None:
                break
            continue
        if not any(cell.strip() for cell in record):
            continue  # a blank row, as spreadsheets leave at the end
        width = len(header.names)
        if any(cell.strip() for cell in record[width:]):
            errors.append(RowProblem(
                number, "", f"the row has {len(record)} cells, but the header names {width}"
                " columns",
            ))
            continue
        record = record[:width] + [""] * (width - len(record))
        cells = {name: cell for name, cell in zip(header.names, record, strict=True) if name}
        for name in (*COLUMNS, *(f"{p}_{f}" for p in header.citations for f in SOURCE_FIELDS)):
            cells.setdefault(name, "")
        question, problems = _read_row(number, {name: unneutralise(c) for name, c in
                                                cells.items()}, header, bank)
        errors += problems
        if question is None:
            continue
        if question.id in first_row_of:
            errors.append(RowProblem(number, "id", f"id already used in row"
                                     f" {first_row_of[question.id]}", item=question.id))
            continue
        first_row_of[question.id] = number
        rows.append((number, question))

    if bank is not None and rows:
        merged = replace(bank, questions={**bank.questions, **{q.id: q for _, q in rows}})
        for number, question in rows:
            for found in _problems_from_checker(
                number, check_question(question, merged, file="csv"), question
            ):
                (errors if found.level == "error" else warnings).append(found)
    errors.sort(key=lambda p: (p.row or 0))
    warnings.sort(key=lambda p: (p.row or 0))
    return CsvImport(tuple(rows), tuple(errors), tuple(warnings))
