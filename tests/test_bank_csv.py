"""CSV exchange (`quizapp.bank.csv_exchange`): the round trip of the whole shipped
bank, row-level errors from the bank's own validator, formula neutralisation, BOM,
odd unicode, oversized cells and the column set."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from quizapp.bank import load_bank
from quizapp.bank.csv_exchange import (
    CELL_LIMIT,
    COLUMNS,
    from_csv,
    neutralise,
    to_csv,
    unneutralise,
)
from quizapp.bank.model import Citation, Option, Question

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bank():
    bank, problems = load_bank(ROOT / "question_bank")
    assert not problems
    return bank


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_of(rows: list[dict[str, str]], header=COLUMNS, delimiter=",") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\r\n",
                            delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def sample(bank, *ids: str) -> list[Question]:
    return [bank.questions[i] for i in ids]


def make_question(**changes) -> Question:
    fields = dict(
        id="test-001", topic="mechanism", type="single", stem="Which one is right?",
        options=(
            Option("a", "Right", True),
            Option("b", "Wrong", False, "Because it is wrong."),
        ),
        explanation="The explanation.", difficulty="easy", safety_critical=False,
        sources=(Citation("doc-001", "Intro", "A fact."),),
    )
    fields.update(changes)
    return Question(**fields)


def errors_of(result) -> list[tuple[int | None, str]]:
    return [(p.row, p.column) for p in result.errors]


# --- Round trip ---------------------------------------------------------------------


def test_whole_shipped_bank_round_trips(bank):
    questions = list(bank.questions.values())
    text = to_csv(questions)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert len(rows_of(text)) == len(questions) == 138

    alone = from_csv(text)
    assert alone.errors == ()
    assert alone.questions == tuple(questions)
    assert [number for number, _ in alone.rows] == list(range(2, 140))

    checked = from_csv(text, bank)  # checked against the bank as well
    assert checked.errors == ()
    assert checked.questions == tuple(questions)
    assert all(p.level == "warning" for p in checked.warnings)
    assert to_csv(checked.questions) == text  # deterministic


def test_a_cited_question_with_four_citations_gets_more_columns():
    question = make_question(sources=tuple(
        Citation("doc-001", f"Section {n}", f"Fact {n}.") for n in range(1, 5)
    ))
    text = to_csv([question])
    assert "source4_document,source4_section,source4_fact,enemies" in text.splitlines()[0]
    assert from_csv(text).questions == (question,)


def test_export_refuses_options_that_do_not_fit_the_columns():
    question = make_question(options=(
        Option("b", "Right", True), Option("a", "Wrong", False, "No."),
    ))
    with pytest.raises(ValueError, match="a, b, c"):
        to_csv([question])


# --- Row errors ----------------------------------------------------------------------


def test_one_bad_row_among_good_ones_gives_its_errors_and_nothing_to_write(bank):
    questions = sample(bank, "contra-001", "mech-001", "after-001")
    rows = rows_of(to_csv(questions))
    rows[1]["type"] = "essay"
    rows[1]["stem"] = ""
    result = from_csv(csv_of(rows), bank)

    assert not result.ok
    assert result.questions == ()  # nothing to write
    assert errors_of(result) == [(3, "type"), (3, "stem")]
    assert all(p.item == "mech-001" for p in result.errors)
    assert [q.id for _, q in result.rows] == ["contra-001", "after-001"]  # for a preview
    assert "row 3, column type (mech-001): 'type' must be one of" in str(result.errors[0])


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"stem": "x" * 1200}, "stem", "the limit is 1000"),
        ({"type": "essay"}, "type", "'type' must be one of"),
        ({"difficulty": "Medium"}, "difficulty", "'difficulty' must be one of"),
        ({"safety_critical": "yes"}, "safety_critical", "must be true or false"),
        ({"scenario": "maybe"}, "scenario", "must be true or false"),
        ({"id": "Mech 1"}, "id", "'id' must be lower-case"),
        ({"explanation": ""}, "explanation", "must be non-empty text"),
        ({"option_c": ""}, "option_c", "without gaps"),
        ({"option_d": "", "rationale_d": "", "correct": "d"}, "correct", "option_d is empty"),
        ({"correct": "z"}, "correct", "not an option letter"),
        ({"correct": ""}, "correct", "exactly one correct option"),
        ({"correct": "a;b"}, "correct", "exactly one correct option"),
        ({"rationale_a": ""}, "rationale_a", "needs a 'rationale'"),
        ({"option_b": "y" * 400}, "option_b", "the limit is 300"),
        ({"source_fact": ""}, "source_fact", "'fact' must be non-empty"),
        ({"source_document": ""}, "source_document", "a citation names the document"),
        ({"enemies": "mech-002;Not An Id"}, "enemies", "'enemies' must be a list"),
        ({"risk": "Medication!"}, "risk", "'risk' must be an id"),
        ({"status": "live"}, "status", "'status' must be one of"),
        ({"topic": ""}, "topic", "'topic' must name a topic"),
        ({"option_e": "", "rationale_e": "Why not."}, "rationale_e", "not there"),
    ],
)
def test_row_errors_name_the_column(bank, change, column, words):
    question = bank.questions["mech-001"]  # single, four options, key b
    assert question.correct_ids == {"b"} and len(question.options) == 4
    row = rows_of(to_csv([question]))[0]
    row.update(change)
    result = from_csv(csv_of([row]))
    assert result.questions == ()
    matching = [p for p in result.errors if p.column == column and words in p.message]
    assert matching, [str(p) for p in result.errors]
    assert all(p.row == 2 for p in result.errors)


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"source_document": "doc-999"}, "source_document", "unknown document 'doc-999'"),
        ({"source_section": "No Such Heading"}, "source_section", "is not a section"),
        ({"topic": "knitting"}, "topic", "must name a topic from topics.yaml"),
        ({"risk": "medication"}, "risk", "'risk' belongs only on a safety-critical"),
        ({"enemies": "mech-999"}, "enemies", "unknown question 'mech-999'"),
        ({"safety_critical": "true"}, "risk", "needs 'risk'"),
        ({"option_c": "All of the above"}, "option_c", "uses 'All of the above'"),
    ],
)
def test_with_the_bank_rows_are_checked_against_it(bank, change, column, words):
    row = rows_of(to_csv([bank.questions["mech-001"]]))[0]
    row.update(change)
    assert from_csv(csv_of([row])).ok  # without the bank, none of this can be told
    result = from_csv(csv_of([row]), bank)
    assert result.questions == ()
    assert any(p.column == column and words in p.message for p in result.errors), [
        str(p) for p in result.errors
    ]


def test_enemies_may_name_a_question_of_the_same_file(bank):
    first = make_question(id="new-001", enemies=("new-002",))
    second = make_question(id="new-002", stem="Which other one is right?")
    text = to_csv([
        dataclasses.replace(q, sources=bank.questions["mech-001"].sources)
        for q in (first, second)
    ])
    result = from_csv(text, bank)
    assert not [p for p in result.errors if p.column == "enemies"], result.errors


def test_an_id_used_twice_in_the_file(bank):
    row = rows_of(to_csv([bank.questions["mech-001"]]))[0]
    result = from_csv(csv_of([row, dict(row)]))
    assert errors_of(result) == [(3, "id")]
    assert "already used in row 2" in result.errors[0].message
    assert result.questions == ()


def test_row_numbers_count_records_not_lines(bank):
    rows = rows_of(to_csv(sample(bank, "mech-001", "mech-002", "mech-003")))
    rows[0]["explanation"] = "First line.\nSecond line.\r\nThird line."
    rows[2]["type"] = "essay"
    result = from_csv(csv_of(rows))
    assert {p.row for p in result.errors} == {4}


def test_blank_and_short_rows(bank):
    text = to_csv([bank.questions["mech-001"]])
    result = from_csv(text + ",,,,\r\n\r\n")
    assert result.ok and len(result.questions) == 1
    header, line = text.rstrip("\r\n").split("\r\n")
    assert line.endswith(",")  # no enemies: the last cell is empty
    short = f"{header}\r\n{line[:-1]}\r\n"  # left off, as some tools do
    assert from_csv(short).questions == (bank.questions["mech-001"],)
    long = text.rstrip("\r\n") + ",surplus\r\n"
    result = from_csv(long)
    assert errors_of(result) == [(2, "")] and "cells" in result.errors[0].message


def test_flags_and_lists_are_read_leniently(bank):
    question = bank.questions["contra-001"]
    row = rows_of(to_csv([question]))[0]
    row.update(safety_critical="TRUE", scenario="True", practice_only="", ordered="FALSE",
               status="", correct=f" {row['correct'].upper()} ")
    assert from_csv(csv_of([row])).questions == (question,)
    multiple = next(q for q in bank.questions.values() if q.type == "multiple")
    row = rows_of(to_csv([multiple]))[0]
    row["correct"] = ", ".join(sorted(multiple.correct_ids))
    assert from_csv(csv_of([row])).questions == (multiple,)


# --- Formula injection -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"), ("-5 mm", "'-5 mm"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("'=1", "''=1"), ("''-2", "'''-2"),
        ("plain", "plain"), ("'quoted'", "'quoted'"), ("a=b", "a=b"), ("", ""),
    ],
)
def test_neutralise_and_its_exact_inverse(cell, exported):
    assert neutralise(cell) == exported
    assert unneutralise(exported) == cell


def test_formula_cells_are_neutralised_on_export_and_restored_on_import():
    question = make_question(
        stem="=HYPERLINK(\"http://evil.example\", \"Click\") is it safe?",
        options=(
            Option("a", "-5 mm", True, "@once"),
            Option("b", "+5 mm", False, "'=not a formula either"),
        ),
        explanation="'-already quoted",
        sources=(Citation("doc-001", "- Risks", "=1+1 is a fact."),),
    )
    text = to_csv([question])
    row = rows_of(text)[0]
    assert row["stem"].startswith("'=HYPERLINK")
    assert row["option_a"] == "'-5 mm" and row["option_b"] == "'+5 mm"
    assert row["rationale_a"] == "'@once" and row["rationale_b"] == "''=not a formula either"
    assert row["explanation"] == "''-already quoted"
    assert row["source_section"] == "'- Risks" and row["source_fact"] == "'=1+1 is a fact."
    for name, cell in row.items():
        assert not cell or cell[0] not in "=+-@\t\r", name
    assert from_csv(text).questions == (question,)


def test_a_formula_typed_in_a_spreadsheet_is_only_text(bank):
    row = rows_of(to_csv([bank.questions["mech-001"]]))[0]
    row["stem"] = "=1+1 What does it say?"
    result = from_csv(csv_of([row]))
    assert result.questions[0].stem == "=1+1 What does it say?"


# --- Encoding, unicode, sizes, columns --------------------------------------------------


def test_byte_order_mark_and_bytes(bank):
    questions = sample(bank, "mech-001", "contra-001")
    text = to_csv(questions)
    assert from_csv("\ufeff" + text).questions == tuple(questions)
    assert from_csv(text.encode("utf-8-sig")).questions == tuple(questions)
    assert from_csv(text.encode("utf-8")).questions == tuple(questions)


def test_not_utf8_is_a_file_error(bank):
    data = to_csv(sample(bank, "mech-001", "mech-002")).encode("utf-8")
    second_line = data.index(b"\r\n") + 2
    data = data[:second_line] + b"caf\xe9" + data[second_line:]  # Latin-1, not UTF-8
    result = from_csv(data)
    assert errors_of(result) == [(None, "")]
    assert "not UTF-8" in result.errors[0].message and result.questions == ()


def test_odd_unicode_round_trips():
    question = make_question(
        stem="Café crème — “quotes”, ½ mm, 😀, עברית, e\u0301 (combining), \u200b?",
        options=(Option("a", "Ünïcödé", True), Option("b", "日本語", False, "Ω ≠ µ")),
    )
    assert from_csv(to_csv([question])).questions == (question,)
    assert from_csv(to_csv([question]).encode("utf-8-sig")).questions == (question,)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\ud800", "\uffff"])
def test_characters_the_bank_files_cannot_hold_are_cell_errors(bank, char):
    row = rows_of(to_csv([bank.questions["mech-001"]]))[0]
    row["option_c"] = f"Heat{char}ed"
    result = from_csv(csv_of([row]))
    assert errors_of(result) == [(2, "option_c")]
    assert f"U+{ord(char):04X}" in result.errors[0].message


def test_oversized_cells(bank):
    row = rows_of(to_csv([bank.questions["mech-001"]]))[0]
    row["source_section"] = "s" * (CELL_LIMIT + 1)
    result = from_csv(csv_of([row]))
    assert errors_of(result) == [(2, "source_section")]
    assert f"{CELL_LIMIT + 1:,} characters" in result.errors[0].message

    good = rows_of(to_csv(sample(bank, "mech-002", "mech-003")))
    row["source_section"] = "s" * 200_000  # beyond what the csv module reads at all
    result = from_csv(csv_of([good[0], row, good[1]]))
    assert errors_of(result) == [(3, "")]
    assert "read no further" in result.errors[0].message
    assert result.questions == ()


def test_a_semicolon_separated_file_is_read(bank):
    questions = sample(bank, "mech-001", "contra-001")
    text = csv_of(rows_of(to_csv(questions)), delimiter=";")
    assert from_csv(text).questions == tuple(questions)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ([c for c in COLUMNS if c != "stem"], "missing column(s): stem"),
        ([*COLUMNS, "notes"], "unknown column(s): notes"),
        ([*COLUMNS, "stem"], "named twice"),
        ([*COLUMNS, "source4_document", "source4_fact"], "source4_section"),
        ([c for c in COLUMNS if not c.startswith("source3_")], None),  # optional group
        ([c.upper() for c in COLUMNS], None),  # names are read without regard to case
    ],
)
def test_the_column_set(bank, header, words):
    question = bank.questions["mech-001"]
    row = {name: value for name, value in rows_of(to_csv([question]))[0].items()}
    cells = {name: row.get(name.lower(), "") for name in header}
    text = csv_of([cells], header=header)
    result = from_csv(text)
    if words is None:
        assert result.questions == (question,)
    else:
        assert result.questions == ()
        assert [p.row for p in result.errors] == [1]
        assert words in result.errors[0].message


def test_an_empty_file():
    assert errors_of(from_csv("")) == [(None, "")]
    assert errors_of(from_csv("\ufeff\r\n")) == [(None, "")]
    only_header = from_csv(",".join(COLUMNS) + "\r\n")
    assert only_header.ok and only_header.questions == ()
