"""Drafting questions from a stored document: figures give single-best-answer drafts,
lists of conditions multiple-response drafts; deterministic, cited, never publishable
as they stand."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import BANK_PATH

from quizapp.bank import load_bank
from quizapp.bank.check import check_question
from quizapp.bank.documents import read_document
from quizapp.bank.drafting import (
    DRAFT_MARKER,
    KEY_POSITIONS,
    draft_markers,
    draft_questions,
    find_figures,
    find_lists,
)
from quizapp.bank.files import _Collector, parse_question, question_to_file_form
from quizapp.bank.model import Bank, Citation, Document

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = Path(os.environ.get("SOURCE_DOCUMENTS_PATH",
                              ROOT.parent / "shared" / "source-documents"))
BRIEF_TEXT = (
    "Apply the numbing cream 30 to 45 minutes before treatment. Space sessions four to six"
    " weeks apart. Clients with eczema, psoriasis or active cold sores are not treated."
)


def protocol():
    return read_document("numbing_protocol.txt", (FIXTURES / "numbing_protocol.txt").read_bytes())


def protocol_drafts():
    return draft_questions(protocol(), "doc-900", "treatment-day", 41, id_prefix="day")


def options(draft):
    return [(o.text, o.correct) for o in draft.question.options]


def one_sentence(sentence: str):
    return draft_questions(read_document("t.txt", sentence.encode()), "doc-9", "sessions", 1)


# --- The expected drafts ------------------------------------------------------------


def test_drafts_from_the_protocol_are_the_expected_ones():
    drafts = protocol_drafts()
    assert [(d.question.id, d.question.type, d.kind) for d in drafts] == [
        ("day-041", "single", "figure"),
        ("day-042", "multiple", "list"),
        ("day-043", "single", "figure"),
        ("day-044", "single", "figure"),
        ("day-045", "single", "figure"),
    ]
    numbing, conditions, spacing, results, makeup = drafts

    assert numbing.question.stem == (
        "Apply the numbing cream ____ before treatment. Which figure completes the statement?"
    )
    assert options(numbing) == [
        ("15 to 30 minutes", False), ("30 to 45 minutes", True),
        ("45 to 60 minutes", False), ("60 to 90 minutes", False),
    ]
    assert numbing.sentence == "Apply the numbing cream 30 to 45 minutes before treatment."
    assert numbing.citation == Citation(
        "doc-900", "Before the Session",
        "DRAFT: rewrite as the fact in your own words: Apply the numbing cream 30 to 45"
        " minutes before treatment.",
    )
    assert numbing.question.sources == (numbing.citation,)

    assert conditions.question.stem == (
        "Clients with ____ are not treated. Which of these complete the statement?"
        " Choose all that apply."
    )
    assert sorted(options(conditions)) == [
        ("Active cold sores", True), ("Eczema", True), ("Psoriasis", True),
        ("Stretch marks", False), ("Sun damage", False),
    ]
    assert conditions.citation.section == "Who We Do Not Treat"
    assert not conditions.question.ordered

    assert options(spacing) == [
        ("Four to six days", False), ("One to two weeks", False),
        ("Two to four weeks", False), ("Four to six weeks", True),
    ]
    assert options(results) == [
        ("Three to six months", True), ("Six to nine months", False),
        ("Nine to twelve months", False), ("Three to six years", False),
    ]
    assert results.citation.section == spacing.citation.section == "Spacing and Results"
    assert options(makeup) == [
        ("24 minutes", False), ("12 hours", False), ("24 hours", True), ("48 hours", False),
    ]
    assert makeup.question.stem.startswith("Keep make-up off for ____.")

    for draft in drafts:
        question = draft.question
        assert question.status == "draft"
        assert question.topic == "treatment-day"
        assert draft.citation.fact.startswith(DRAFT_MARKER)
        assert draft.sentence in draft.citation.fact
        assert all(o.rationale.startswith(DRAFT_MARKER) for o in question.options
                   if not o.correct)
        assert question.explanation.startswith(DRAFT_MARKER)
        assert question.ordered == (question.type == "single")


def test_the_briefs_three_sentences_give_three_drafts():
    document = read_document("notes.txt", BRIEF_TEXT.encode())
    drafts = draft_questions(document, "doc-901", "sessions", 7, id_prefix="sess")
    assert [d.question.id for d in drafts] == ["sess-007", "sess-008", "sess-009"]
    assert [d.citation.section for d in drafts] == ["Notes"] * 3
    assert [o.text for o in drafts[0].question.options if o.correct] == ["30 to 45 minutes"]
    assert [o.text for o in drafts[1].question.options if o.correct] == ["Four to six weeks"]
    assert sorted(o.text for o in drafts[2].question.options if o.correct) == [
        "Active cold sores", "Eczema", "Psoriasis"]


def test_the_keys_place_varies_between_numeric_drafts():
    figures = [d for d in protocol_drafts() if d.kind == "figure"]
    positions = [[o.correct for o in d.question.options].index(True) for d in figures]
    assert positions == list(KEY_POSITIONS) == [1, 3, 0, 2]
    for draft in figures:
        texts = [o.text for o in draft.question.options]
        assert len(texts) == 4 == len(set(texts))


# --- Figures and their distractors --------------------------------------------------


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Apply it 30 to 45 minutes before.", [("30 to 45 minutes", 30, 45, "minute")]),
    ("Book them every four to six weeks.", [("four to six weeks", 4, 6, "week")]),
    ("Results show in three to six months.", [("three to six months", 3, 6, "month")]),
    ("Redness fades in 5 days.", [("5 days", 5, 5, "day")]),
    ("It lasts between 30 and 60 minutes.", [("30 and 60 minutes", 30, 60, "minute")]),
    ("It takes about 30 minutes to an hour.", [("30 minutes to an hour", 30, 1, "hour")]),
    ("Use 0.5 mm needles, and 3–5 sessions.",
     [("0.5 mm", 0.5, 0.5, "mm"), ("3–5 sessions", 3, 5, "session")]),
    ("Three to six sessions spaced three to eight weeks apart.",
     [("Three to six sessions", 3, 6, "session"), ("three to eight weeks", 3, 8, "week")]),
    # Vague quantities are never made precise, not even at one end of a range.
    ("It settles within a few hours to a couple of days.", []),
    ("It takes from 15 minutes to a couple hours.", []),
    ("Two proteins and a month of waiting, 5 and 10 days.", []),
])
def test_figures_are_found_with_their_unit(sentence, expected):
    found = [(f.text, f.low, f.high, f.unit) for f in find_figures(sentence)]
    assert found == expected


def test_a_single_value_is_halved_and_doubled_and_changes_unit():
    (draft,) = one_sentence("Wait 5 days before the next peel.")
    assert options(draft) == [
        ("2.5 days", False), ("5 days", True), ("10 days", False), ("5 weeks", False),
    ]
    rules = [o.rationale for o in draft.question.options if not o.correct]
    assert rules == [
        "DRAFT: explain why this is wrong (made by rule: the figure halved).",
        "DRAFT: explain why this is wrong (made by rule: the figure doubled).",
        "DRAFT: explain why this is wrong (made by rule: the same numbers in weeks).",
    ]


def test_a_range_is_shifted_and_the_unit_changed_only_where_sensible():
    (draft,) = one_sentence("Apply the cream 30 to 45 minutes ahead.")
    texts = [o.text for o in draft.question.options]
    assert not any("hour" in text for text in texts)  # "30 to 45 hours" is not sensible
    (draft,) = one_sentence("Leave 3-5 days between peels.")
    assert options(draft) == [
        ("1-3 days", False), ("3-5 days", True), ("5-7 days", False), ("3-5 weeks", False),
    ]


def test_distractors_are_written_as_the_key_is_and_never_overlap_it():
    (words,) = one_sentence("Space sessions four to six weeks apart.")
    assert all(not any(c.isdigit() for c in o.text) for o in words.question.options)
    (between,) = one_sentence("It lasts between 30 and 60 minutes.")
    assert "60 and 90 minutes" in [o.text for o in between.question.options]
    (mixed,) = one_sentence("The visit lasts 30 minutes to an hour.")
    assert options(mixed) == [
        ("15 to 30 minutes", False), ("30 minutes to an hour", True),
        ("60 to 90 minutes", False), ("90 to 120 minutes", False),
    ]
    (depth,) = one_sentence("Use needles 0.5 mm long.")
    assert options(depth) == [
        ("0.25 mm", False), ("0.5 mm", True), ("0.75 mm", False), ("1 mm", False),
    ]


# --- Lists of conditions ------------------------------------------------------------


@pytest.mark.parametrize(("sentence", "items"), [
    ("Clients with eczema, psoriasis or active cold sores are not treated.",
     ("eczema", "psoriasis", "active cold sores")),
    ("Avoid treating skin conditions such as rosacea, keloids and sunburn.",
     ("rosacea", "keloids", "sunburn")),
    ("Persons with eczema or psoriasis should wait.", ("eczema", "psoriasis")),
    ("It softens acne scars, stretch marks, and fine lines.",
     ("acne scars", "stretch marks", "fine lines")),
    # Not lists of conditions, or of mixed kinds, or two items not both known:
    ("Use a mild cleanser and a broad-spectrum sunscreen.", None),
    ("It treats fine lines but not eczema or wrinkles.", None),
    ("Hyperhidrosis or excessive sweating responds.", None),
    ("Collagen and elastin are made.", None),
])
def test_lists_of_conditions_are_found(sentence, items):
    found = find_lists(sentence)
    assert (found[0].items if found else None) == items


def test_list_distractors_come_from_the_document_first_and_are_never_of_the_keys_kind():
    text = (
        "Protocol\n\nWhat It Treats\nMicroneedling softens acne scars, stretch marks and fine"
        " lines.\n\nWho Waits\nClients with eczema, psoriasis or active cold sores are not"
        " treated. Rosacea or sunburn also rule treatment out.\n"
    )
    drafts = draft_questions(read_document("p.txt", text.encode()), "doc-9", "contra", 1)
    by_keys = {tuple(sorted(o.text for o in d.question.options if o.correct)): d
               for d in drafts}
    conditions = by_keys[("Active cold sores", "Eczema", "Psoriasis")]
    wrong = [o.text for o in conditions.question.options if not o.correct]
    assert len(wrong) == 2
    assert set(wrong) <= {"Acne scars", "Stretch marks", "Fine lines"}
    assert all("listed elsewhere in the document" in o.rationale
               for o in conditions.question.options if not o.correct)
    treated = by_keys[("Acne scars", "Fine lines", "Stretch marks")]
    wrong = {o.text for o in treated.question.options if not o.correct}
    assert len(wrong) == 2
    assert wrong <= {"Eczema", "Psoriasis", "Active cold sores", "Rosacea", "Sunburn"}
    pair = by_keys[("Rosacea", "Sunburn")]
    assert len(pair.question.options) == 5  # two keys, three wrong options


def test_a_list_falls_back_to_the_built_in_items():
    (draft,) = one_sentence("Persons with eczema or psoriasis should wait.")
    wrong = [o for o in draft.question.options if not o.correct]
    assert len(wrong) == 3
    assert all("from the built-in list" in o.rationale for o in wrong)


# --- Determinism, ids, validity -----------------------------------------------------


def test_the_same_document_always_gives_the_same_drafts():
    assert protocol_drafts() == protocol_drafts()


def test_drafts_do_not_depend_on_the_hash_seed():
    script = (
        "import json, sys; sys.path.insert(0, 'tests');"
        "from test_drafting import protocol_drafts;"
        "print(json.dumps([d.question.content_hash() for d in protocol_drafts()]))"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True)
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0] == [d.question.content_hash() for d in protocol_drafts()]


def test_ids_follow_the_start_number_and_prefix():
    drafts = draft_questions(protocol(), "doc-9", "treatment-day", 1)
    assert [d.question.id for d in drafts][:2] == ["treatment-day-001", "treatment-day-002"]
    with pytest.raises(ValueError, match="question id"):
        draft_questions(protocol(), "doc-9", "Treatment Day", 1)
    with pytest.raises(ValueError, match="start_number"):
        draft_questions(protocol(), "doc-9", "sessions", 0)


def test_drafts_are_valid_bank_questions_citing_the_documents_sections():
    document = protocol()
    known = {"doc-900": Document("doc-900", document.title, "the protocol", document.headings)}
    for draft in protocol_drafts():
        out = _Collector("studio")
        raw = question_to_file_form(draft.question)
        assert raw["status"] == "draft"
        parsed = parse_question(raw, "treatment-day", out, known)
        assert out.problems == []
        assert parsed == draft.question


# --- Never publishable as they stand ------------------------------------------------


def rewritten(question):
    """The draft after the trainer has done the writing the placeholders ask for."""
    return dataclasses.replace(
        question,
        options=tuple(
            dataclasses.replace(o, rationale="" if o.correct else f"Not what we teach ({o.id}).")
            for o in question.options
        ),
        explanation="Our protocol gives this figure; the others are too short or too long.",
        sources=tuple(dataclasses.replace(c, fact="Our own statement of the protocol's rule.")
                      for c in question.sources),
    )


def test_draft_markers_name_everything_left_to_rewrite():
    for draft in protocol_drafts():
        markers = draft_markers(draft.question)
        wrong = sum(not o.correct for o in draft.question.options)
        assert len(markers) == wrong + 2  # each rationale, the explanation, the fact
        assert "the fact of source 1 is still the draft's placeholder: rewrite it" in markers
        assert draft_markers(rewritten(draft.question)) == []


def test_the_checker_refuses_every_unedited_draft():
    bank, _ = load_bank(BANK_PATH)
    for draft in protocol_drafts() + one_sentence(BRIEF_TEXT):
        errors = [p for p in check_question(draft.question, bank) if p.level == "error"]
        assert errors, draft.question.id


def test_a_rewritten_draft_passes_the_item_writing_checks():
    for draft in protocol_drafts():
        problems = check_question(rewritten(draft.question), Bank())
        assert [p for p in problems if p.level == "error"] == [], draft.question.id


def test_a_rewritten_draft_in_words_passes_the_item_writing_checks():
    for draft in protocol_drafts():
        if any(c.isdigit() for o in draft.question.options for c in o.text):
            continue  # see the expected failure above
        problems = check_question(rewritten(draft.question), Bank())
        assert [p for p in problems if p.level == "error"] == [], draft.question.id


# --- The shipped articles -----------------------------------------------------------


@pytest.mark.skipif(not SOURCES.is_dir(), reason=f"the source articles are not in {SOURCES}")
def test_drafts_from_an_article_cite_its_sections():
    bank, _ = load_bank(BANK_PATH)
    doc = bank.documents["doc-001"]
    parsed = read_document(doc.file, (SOURCES / doc.file).read_bytes(),
                           known_headings=doc.sections)
    drafts = draft_questions(parsed, "doc-001", "contraindications", 1, id_prefix="contra")
    assert {d.citation.section for d in drafts} <= set(doc.sections)
    keyed = {tuple(sorted(o.text for o in d.question.options if o.correct)): d for d in drafts}
    assert keyed[("30 to 45 minutes",)].citation.section == "What the Procedure Looks Like"
    assert keyed[("Eczema", "Psoriasis")].citation.section == "Who Should Skip It"
    assert keyed[("Three to six months",)].citation.section == "Recovery and Results"
    assert draft_questions(parsed, "doc-001", "contraindications", 1,
                           id_prefix="contra") == drafts
