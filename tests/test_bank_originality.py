"""The copied-wording rule: bank texts must not repeat a source's sentences."""

from __future__ import annotations

from support import BANK_PATH

from quizapp.bank import load_bank
from quizapp.bank.check import copied_wording, read_sources
from quizapp.bank.model import Citation, Option, Question

ARTICLE = ("What is Microneedling?\nThe purpose of the treatment is to wake the skin's own "
           "repair work so that it lays down fresh collagen in the weeks that follow.\n")


def bank_with(stem: str):
    bank, _ = load_bank(BANK_PATH)
    question = Question(
        id="copy-001", topic="mechanism", type="single", stem=stem,
        options=(Option("a", "Collagen", True), Option("b", "Keratin", False, "Not named.")),
        explanation="Our own explanation.", difficulty="easy", safety_critical=False,
        sources=(Citation("doc-000", "What is Microneedling?", "Repair builds collagen."),),
    )
    bank.questions = {question.id: question}
    bank.facts = {}
    bank.origin["copy-001"] = "question_bank/questions/mechanism.yaml"
    return bank


def test_a_copied_run_of_words_is_an_error_naming_the_source():
    bank = bank_with("Why? The treatment is to wake the skin's own repair work so it lays down.")
    problems = copied_wording(bank, {"doc-000": ARTICLE})
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.level, problem.item) == ("error", "copy-001")
    assert problem.file == "question_bank/questions/mechanism.yaml"
    assert "copies the wording of doc-000" in problem.message


def test_own_words_and_quoted_headings_pass():
    bank = bank_with("Which protein does the skin rebuild after the needling, over later weeks?")
    assert copied_wording(bank, {"doc-000": ARTICLE}) == []
    heading = bank_with("Under the heading understanding micro needling the science behind "
                        "the treatment, which protein is rebuilt?")
    assert copied_wording(heading, {"doc-000": "Understanding Micro-Needling: The Science "
                                     "Behind the Treatment\nText."}) == []


def test_sources_are_read_by_their_file_name(tmp_path):
    bank, _ = load_bank(BANK_PATH)
    (tmp_path / bank.documents["doc-000"].file).write_text(ARTICLE)
    assert read_sources(bank, tmp_path) == {"doc-000": ARTICLE}


def test_bank_check_reports_copied_wording_from_the_sources_folder(runner, tmp_path):
    bank, _ = load_bank(BANK_PATH)
    question = next(iter(bank.questions.values()))
    (tmp_path / bank.documents["doc-000"].file).write_text(
        "Intro line.\n" + question.explanation + "\n")
    result = runner.invoke(args=["bank", "check", "--sources", str(tmp_path)])
    assert result.exit_code == 1
    assert "Checked for copied wording against 1 source document(s)." in result.output
    assert f"{question.id}: copies the wording of doc-000" in result.output
