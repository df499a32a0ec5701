"""The bank checker: schema errors located by file and id, cross-file rules, blueprints.

Each test writes a small bank under tmp_path/question_bank (sources and conflicts
copied from the shipped bank; topics, exams, questions and facts written here) and
reads it with `load_bank` + `check_bank`, as `flask bank check` does.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from quizapp.bank import check_bank, load_bank, write_questions
from quizapp.bank.check import pool_of
from quizapp.bank.coverage import summary
from quizapp.bank.files import question_to_file_form
from quizapp.bank.model import Question

SHIPPED = Path(__file__).resolve().parent.parent / "question_bank"
TOPICS = ("mechanism", "devices")
SECTION = "How Does Microneedling Work?"
QFILE = "question_bank/questions/mechanism.yaml"
FFILE = "question_bank/facts/mechanism.yaml"


RISK_CATEGORIES = [
    {"id": "medication", "name": "Medicines"},
    {"id": "infection", "name": "Active infection and recurrent cold sores"},
    {"id": "screening", "name": "General screening and referral"},
]
# Each fixture question asks something different, so that two of them in one bank
# are not near-duplicates: (stem, key, wrong option, wrong option).
WORDINGS = {
    "mech-901": ("What does the healing response after needling produce?",
                 "New collagen and elastin", "Extra melanin pigment",
                 "A thicker layer of dead cells"),
    "mech-902": ("What kind of injury does the device make?",
                 "Tiny controlled punctures", "A shallow burn from heat",
                 "A deep cut that needs stitches"),
    "mech-903": ("Which process repairs the punctures afterwards?",
                 "The body's own wound healing", "A layer of applied wax",
                 "Freezing of the upper cells"),
    "dev-901": ("Which tool makes the punctures?",
                "A pen or roller fitted with fine needles", "A heated metal plate",
                "A suction cup"),
}


def make_question(qid: str = "mech-901", **changes) -> dict:
    """A question that passes every schema and item-writing rule."""
    stem, key, wrong, other = WORDINGS.get(qid, WORDINGS["mech-901"])
    question = {
        "id": qid,
        "type": "single",
        "difficulty": "easy",
        "safety_critical": False,
        "stem": stem,
        "options": [
            {"id": "a", "text": key, "correct": True},
            {"id": "b", "text": wrong,
             "rationale": "Tempting to a beginner, but not what the sources describe."},
            {"id": "c", "text": other,
             "rationale": "Sounds plausible, but the treatment does not work that way."},
        ],
        "explanation": "The repair of the micro-injuries lays down collagen and elastin.",
        "sources": [{"document": "doc-000", "section": SECTION,
                     "fact": "The micro-injuries set off the skin's healing response."}],
    }
    if changes.get("safety_critical") and "options" not in changes:
        # A safety-critical question needs two wrong options that sound careful.
        question["options"][1]["text"] = "Postpone, then: " + wrong
        question["options"][2]["text"] = "Check first, then: " + other
    question.update(changes)
    return question


def true_false(qid: str = "mech-902", **changes) -> dict:
    question = make_question(
        qid,
        type="true_false",
        practice_only=True,
        stem="The needles make controlled micro-injuries that the skin repairs.",
        options=[
            {"id": "a", "text": "True", "correct": True},
            {"id": "b", "text": "False", "rationale": "The treatment relies on that repair."},
        ],
    )
    question.update(changes)
    return question


def multiple(qid: str = "mech-903", **changes) -> dict:
    question = make_question(
        qid,
        type="multiple",
        stem="Which proteins does the repair produce? Choose all that apply.",
        options=[
            {"id": "a", "text": "Collagen", "correct": True},
            {"id": "b", "text": "Elastin", "correct": True},
            {"id": "c", "text": "Melanin", "rationale": "Melanin is pigment, not repair."},
        ],
    )
    question.update(changes)
    return question


def fact(fid: str, questions: list[str], document: str = "doc-000",
         section: str = SECTION) -> dict:
    return {"id": fid, "document": document, "section": section,
            "fact": "The micro-injuries set off the skin's healing response.",
            "questions": questions}


def _dump(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_bank(
    tmp_path: Path,
    questions: dict[str, list[dict]] | None = None,
    facts: dict[str, list[dict]] | None = None,
    minimums: dict[str, int] | None = None,
    scenario_share: float = 0,
    exams: dict | None = None,
    risk_categories: list[dict] | None = None,
    topics: tuple[str, ...] = TOPICS,
) -> Path:
    """Write a bank folder; `questions`/`facts` map a topic to its items."""
    root = tmp_path / "question_bank"
    root.mkdir(parents=True)
    shutil.copy(SHIPPED / "sources.yaml", root / "sources.yaml")
    shutil.copy(SHIPPED / "conflicts.yaml", root / "conflicts.yaml")
    minimums = minimums or {}
    _dump(root / "topics.yaml", {
        "minimum_scenario_share": scenario_share,
        "topics": [{"id": t, "name": t.title(), "minimum": minimums.get(t, 0)} for t in topics],
        "risk_categories": RISK_CATEGORIES if risk_categories is None else risk_categories,
    })
    _dump(root / "exams.yaml", exams if exams is not None else {"exams": []})
    if questions is None:
        questions = {"mechanism": [make_question()]}
    for topic, items in questions.items():
        _dump(root / "questions" / f"{topic}.yaml", {"topic": topic, "questions": items})
    for topic, items in (facts or {}).items():
        _dump(root / "facts" / f"{topic}.yaml", {"topic": topic, "facts": items})
    return root


def all_problems(root: Path):
    bank, problems = load_bank(root)
    return problems + check_bank(bank)


def errors(problems):
    return [p for p in problems if p.level == "error"]


def find(problems, fragment: str, item: str | None = None, level: str = "error"):
    """The problems whose message holds `fragment` (and at `item`, when given)."""
    return [p for p in problems if p.level == level and fragment in p.message
            and (item is None or p.item == item)]


# --- the baseline -------------------------------------------------------------------


def test_minimal_valid_bank_has_no_problems(tmp_path):
    """The small bank every other test breaks is itself clean, facts and all."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question(), true_false(), multiple()]},
        facts={"mechanism": [fact("mech-healing", ["mech-901", "mech-902", "mech-903"])]},
        minimums={"mechanism": 3},
    )
    bank, problems = load_bank(root)
    assert problems + check_bank(bank) == []
    assert set(bank.questions) == {"mech-901", "mech-902", "mech-903"}


# --- one schema error per kind ------------------------------------------------------


def _without(key):
    def change(q):
        del q[key]
    return change


def _set(key, value):
    def change(q):
        q[key] = value
    return change


def _option(number, **values):
    def change(q):
        q["options"][number - 1].update(values)
    return change


def _drop_option_key(number, key):
    def change(q):
        del q["options"][number - 1][key]
    return change


def _source(**values):
    def change(q):
        q["sources"][0].update(values)
    return change


def _options(count):
    def change(q):
        q["options"] = [
            {"id": letter, "text": f"Choice {letter}", "correct": letter == "a",
             **({} if letter == "a" else {"rationale": "Not this one."})}
            for letter in "abcdefg"[:count]
        ]
    return change


SCHEMA_CASES = [
    pytest.param(make_question, _without("explanation"), "mech-901",
                 "missing field 'explanation'", id="missing-field"),
    pytest.param(make_question, _set("colour", "red"), "mech-901",
                 "unknown field 'colour'", id="unknown-field"),
    pytest.param(make_question, _set("id", "Mech_901"), "Mech_901",
                 "'id' must be lower-case letters, digits and hyphens", id="bad-id"),
    pytest.param(make_question, _set("type", "essay"), "mech-901",
                 "'type' must be one of single, multiple, true_false", id="bad-type"),
    pytest.param(make_question, _set("difficulty", "tricky"), "mech-901",
                 "'difficulty' must be one of easy, medium, hard", id="bad-difficulty"),
    pytest.param(make_question, _set("status", "archived"), "mech-901",
                 "'status' must be one of draft, review, published, retired", id="bad-status"),
    pytest.param(make_question, _set("safety_critical", "yes"), "mech-901",
                 "'safety_critical' must be true or false", id="mistyped-flag"),
    pytest.param(make_question, _option(2, correct=True), "mech-901",
                 "a 'single' question needs exactly one correct option", id="single-two-correct"),
    pytest.param(make_question, _option(1, correct=False, rationale="x"), "mech-901",
                 "a 'single' question needs exactly one correct option", id="single-no-correct"),
    pytest.param(true_false, _option(2, correct=True), "mech-902",
                 "a 'true_false' question needs exactly one correct option",
                 id="true-false-two-correct"),
    pytest.param(multiple, _option(3, correct=True), "mech-903",
                 "a 'multiple' question needs at least one correct and one wrong option",
                 id="multiple-all-correct"),
    pytest.param(multiple, lambda q: [o.update(correct=False, rationale="x")
                                      for o in q["options"]], "mech-903",
                 "a 'multiple' question needs at least one correct and one wrong option",
                 id="multiple-none-correct"),
    pytest.param(true_false, lambda q: (q["options"][0].update(text="Yes"),
                                        q["options"][1].update(text="No")), "mech-902",
                 "exactly the options 'True' then 'False'", id="true-false-yes-no"),
    pytest.param(true_false, lambda q: (q["options"][0].update(text="False"),
                                        q["options"][1].update(text="True")), "mech-902",
                 "exactly the options 'True' then 'False'", id="true-false-wrong-order"),
    pytest.param(make_question, _drop_option_key(2, "rationale"), "mech-901",
                 "option 2 is wrong, so it needs a 'rationale'", id="wrong-without-rationale"),
    pytest.param(make_question, _options(1), "mech-901",
                 "'options' must be a list of 2 to 6 options", id="too-few-options"),
    pytest.param(make_question, _options(7), "mech-901",
                 "'options' must be a list of 2 to 6 options", id="too-many-options"),
    pytest.param(make_question, _option(2, id="a"), "mech-901",
                 "option ids must be unique within the question", id="duplicate-option-ids"),
    pytest.param(make_question, _set("stem", "Why " + "x" * 996 + "?"), "mech-901",
                 "'stem' is 1001 characters; the limit is 1000", id="stem-too-long"),
    pytest.param(make_question, _source(document="doc-999"), "mech-901",
                 "source 1: unknown document 'doc-999'", id="unknown-document"),
    pytest.param(make_question, _source(section="Nowhere At All"), "mech-901",
                 "'Nowhere At All' is not a section of doc-000", id="unknown-section"),
]


@pytest.mark.parametrize(("build", "change", "item", "fragment"), SCHEMA_CASES)
def test_schema_error_is_reported_with_file_and_id(tmp_path, build, change, item, fragment):
    """Every kind of schema error names the file, the question id and what is wrong."""
    raw = build()
    change(raw)
    root = write_bank(tmp_path, questions={"mechanism": [raw]})
    bank, problems = load_bank(root)
    found = find(problems, fragment)
    assert found, [str(p) for p in problems]
    assert all((p.file, p.item) == (QFILE, item) for p in found)
    # The question is held back rather than loaded half-valid.
    assert item not in bank.questions


def test_stem_of_exactly_the_limit_is_accepted(tmp_path):
    """The 1,000-character stem limit is inclusive."""
    stem = "Why " + "x" * 995 + "?"
    assert len(stem) == 1000
    root = write_bank(tmp_path, questions={"mechanism": [make_question(stem=stem)]})
    bank, problems = load_bank(root)
    assert problems == []
    assert "mech-901" in bank.questions


def test_unquoted_true_false_options_are_an_error(tmp_path):
    """Unquoted True/False read as booleans, so the option texts are rejected."""
    root = write_bank(tmp_path, questions={"mechanism": []})
    text = yaml.safe_dump({"topic": "mechanism", "questions": [true_false()]}, sort_keys=False)
    text = text.replace("'True'", "True").replace("'False'", "False")
    (root / "questions" / "mechanism.yaml").write_text(text, encoding="utf-8")
    _bank, problems = load_bank(root)
    assert find(problems, "exactly the options 'True' then 'False'", item="mech-902")
    assert all(p.file == QFILE for p in problems)


def test_duplicate_question_id_across_files(tmp_path):
    """An id used in two topic files is an error in the second, naming the first."""
    root = write_bank(tmp_path, questions={
        "devices": [make_question("mech-901")],
        "mechanism": [make_question("mech-901")],
    })
    bank, problems = load_bank(root)
    assert [(p.level, p.file, p.item, p.message) for p in problems] == [
        ("error", QFILE, "mech-901", "id already used in question_bank/questions/devices.yaml"),
    ]
    assert bank.questions["mech-901"].topic == "devices"


def test_invalid_yaml_names_the_file(tmp_path):
    """A file that is not YAML is reported by name and the rest is still read."""
    root = write_bank(tmp_path, questions={"devices": [make_question("dev-901")]})
    (root / "questions" / "mechanism.yaml").write_text(
        "topic: mechanism\nquestions: [\n  - id: mech-901\n", encoding="utf-8")
    bank, problems = load_bank(root)
    assert len(problems) == 1
    assert problems[0].level == "error"
    assert problems[0].file == QFILE
    assert problems[0].message.startswith("not valid YAML")
    assert "dev-901" in bank.questions


def test_topic_file_naming_unknown_topic(tmp_path):
    """A question file's `topic` must be one of topics.yaml."""
    root = write_bank(tmp_path, questions={"mechanism": [make_question()]})
    _dump(root / "questions" / "mechanism.yaml",
          {"topic": "astrology", "questions": [make_question()]})
    _bank, problems = load_bank(root)
    assert find(problems, "'topic' must name a topic from topics.yaml, not 'astrology'")


# --- facts ---------------------------------------------------------------------------


def test_fact_listing_unknown_question(tmp_path):
    """A fact that lists a question id that does not exist is an error at the fact."""
    root = write_bank(tmp_path, facts={"mechanism": [fact("mech-healing", ["mech-901",
                                                                           "mech-999"])]})
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        (FFILE, "mech-healing", "lists unknown question 'mech-999'"),
    ]


def test_fact_listing_question_that_does_not_cite_it(tmp_path):
    """Each question a fact lists must cite that fact's document and section."""
    other = fact("mech-other-doc", ["mech-901"], document="doc-001",
                 section="How Microneedling Works")
    root = write_bank(tmp_path, facts={"mechanism": [fact("mech-healing", ["mech-901"]), other]})
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        (FFILE, "mech-other-doc",
         "lists question 'mech-901', which does not cite doc-001 / How Microneedling Works"),
    ]


def test_fact_citing_unknown_section(tmp_path):
    """A fact's own citation must name a known document section."""
    bad = fact("mech-healing", ["mech-901"], section="Nowhere At All")
    root = write_bank(tmp_path, facts={"mechanism": [bad]})
    _bank, problems = load_bank(root)
    assert [(p.file, p.item, p.message) for p in problems] == [
        (FFILE, "mech-healing", "'Nowhere At All' is not a section of doc-000 (sections:"
                                " What is Microneedling?; How Does Microneedling Work?;"
                                " The Benefits of Microneedling; The Microneedling Process;"
                                " Aftercare and Results; Is Microneedling Right for You?)"),
    ]


def test_published_question_not_listed_under_any_fact(tmp_path):
    """Every published question needs a fact; a draft does not."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question("mech-901"), make_question("mech-902"),
                                 make_question("mech-903", status="draft")]},
        facts={"mechanism": [fact("mech-healing", ["mech-901"])]},
    )
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        (QFILE, "mech-902", "is not listed under any fact in question_bank/facts/"),
    ]


def test_fact_without_published_question_is_a_warning(tmp_path):
    """A fact only a draft tests is flagged as uncovered, not an error."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question("mech-901"),
                                 make_question("mech-902", status="draft")]},
        facts={"mechanism": [fact("mech-healing", ["mech-901"]),
                             fact("mech-drafted", ["mech-902"])]},
    )
    problems = all_problems(root)
    assert errors(problems) == []
    assert [(p.file, p.item) for p in find(problems, "no published question tests it",
                                           level="warning")] == [(FFILE, "mech-drafted")]


# --- bank-wide minimums ---------------------------------------------------------------


def test_topic_below_its_minimum(tmp_path):
    """Published questions on a topic must reach its minimum; drafts do not count."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question("mech-901"),
                                 make_question("mech-902", status="draft")]},
        minimums={"mechanism": 2},
    )
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        ("question_bank/topics.yaml", "mechanism",
         "1 published question(s); the minimum is 2"),
    ]


def test_topic_at_its_minimum_passes(tmp_path):
    """Exactly the minimum is enough."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question("mech-901"), make_question("mech-902")]},
        minimums={"mechanism": 2},
    )
    assert errors(all_problems(root)) == []


def scenario(qid: str, **changes) -> dict:
    return make_question(
        qid, scenario=True,
        stem="A client asks what her skin makes while it heals. What does it produce?",
        **changes,
    )


def test_too_few_client_scenarios(tmp_path):
    """The share of scenario questions must reach minimum_scenario_share."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [scenario("mech-901"), make_question("mech-902"),
                                 make_question("mech-903")]},
        scenario_share=0.5,
    )
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        ("question_bank/topics.yaml", "",
         "33% of published questions are client scenarios; the minimum is 50%"),
    ]


def test_enough_client_scenarios_passes(tmp_path):
    """Half the questions as scenarios meets a 50% minimum."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [scenario("mech-901"), make_question("mech-902")]},
        scenario_share=0.5,
    )
    assert errors(all_problems(root)) == []


def test_scenario_stem_must_mention_the_client(tmp_path):
    """A question marked `scenario` must describe a client in its stem."""
    root = write_bank(tmp_path, questions={"mechanism": [
        make_question("mech-901", scenario=True,
                      stem="A patient asks what the skin makes while healing. What is it?"),
        scenario("mech-902"),
    ]})
    problems = all_problems(root)
    assert [(p.file, p.item, p.message) for p in errors(problems)] == [
        (QFILE, "mech-901", "a scenario question must describe a client in its stem"),
    ]


# --- recorded conflicts ----------------------------------------------------------------


REDNESS = {"document": "doc-001", "section": "Recovery and Results",
           "fact": "Redness and swelling may last for some days."}


def _redness(qid: str, stem: str, sources: list[dict], **changes) -> dict:
    return make_question(
        qid, stem=stem, sources=sources, **changes,
        options=[
            {"id": "a", "text": "Up to five days", "correct": True},
            {"id": "b", "text": "About one hour", "rationale": "Too short for this source."},
            {"id": "c", "text": "About six weeks", "rationale": "Far longer than described."},
        ],
    )


def test_conflict_marker_without_naming_the_document(tmp_path):
    """One source's figure needs its document named in the stem and cited."""
    unnamed = _redness("mech-901", "How long may redness last after treatment?", [REDNESS])
    # Two versions of one question: enemies, and the one naming an article is practice only.
    uncited = _redness(
        "mech-902",
        "According to the article on fine lines and acne scarring, how long may redness last?",
        [make_question()["sources"][0]], practice_only=True, enemies=["mech-901"],
    )
    root = write_bank(tmp_path, questions={"mechanism": [unnamed, uncited]})
    problems = errors(all_problems(root))
    assert [(p.file, p.item) for p in problems] == [(QFILE, "mech-901"), (QFILE, "mech-902")]
    for problem in problems:
        assert "'five days' is one source's figure in the recorded conflict" in problem.message
        assert "'redness-duration'" in problem.message
        assert "name doc-001 ('the article on fine lines and acne scarring')" in problem.message


def test_conflict_marker_with_named_and_cited_document_passes(tmp_path):
    """Naming the document by its short title and citing it makes the figure fair."""
    named = _redness(
        "mech-901",
        "According to the article on fine lines and acne scarring, how long may redness last?",
        [REDNESS], practice_only=True,
    )
    root = write_bank(tmp_path, questions={"mechanism": [named]})
    assert errors(all_problems(root)) == []


# --- exam blueprints ------------------------------------------------------------------


def _exam(topics: dict[str, int], min_safety: int = 0) -> dict:
    return {"exams": [{"id": "cert", "title": "Certification",
                       "blueprint": {"min_safety_critical": min_safety, "topics": topics}}]}


def _pool() -> dict[str, list[dict]]:
    return {"mechanism": [make_question("mech-901", safety_critical=True, risk="screening"),
                          make_question("mech-902"),
                          make_question("mech-903", safety_critical=True, risk="screening",
                                        status="draft")],
            "devices": [make_question("dev-901")]}


def test_blueprint_wanting_more_than_the_pool_names_the_topic(tmp_path):
    """An exam that needs more published questions on a topic than exist is refused."""
    root = write_bank(tmp_path, questions=_pool(), exams=_exam({"mechanism": 3, "devices": 1}))
    problems = errors(all_problems(root))
    assert [(p.file, p.item) for p in problems] == [("question_bank/exams.yaml", "cert")]
    assert "topic 'mechanism'" in problems[0].message
    assert "needs 3 question(s)" in problems[0].message
    assert "bank has 2 published" in problems[0].message


def test_blueprint_the_pool_can_fill_passes(tmp_path):
    """A blueprint within the published pool raises nothing."""
    root = write_bank(tmp_path, questions=_pool(), exams=_exam({"mechanism": 2, "devices": 1}))
    assert errors(all_problems(root)) == []


def test_blueprint_safety_minimum_unreachable(tmp_path):
    """min_safety_critical above what the blueprint's topics can supply is refused."""
    root = write_bank(tmp_path, questions=_pool(),
                      exams=_exam({"mechanism": 2, "devices": 1}, min_safety=2))
    problems = errors(all_problems(root))
    assert [(p.file, p.item, p.message) for p in problems] == [
        ("question_bank/exams.yaml", "cert",
         "exam 'cert' needs 2 safety-critical question(s) but its topics can supply only 1"),
    ]


def test_practice_exam_needs_a_non_empty_topic(tmp_path):
    """Practice takes what a topic has, but a topic with no published question fails."""
    questions = copy.deepcopy(_pool())
    questions["devices"] = [make_question("dev-901", status="draft")]
    root = write_bank(tmp_path, questions=questions, exams={"exams": [],
                                                            "practice": {"questions": 10}})
    problems = errors(all_problems(root))
    assert [(p.file, p.item) for p in problems] == [("question_bank/exams.yaml",
                                                     "practice-devices")]
    assert "topic 'devices'" in problems[0].message


def test_exam_naming_unknown_topic(tmp_path):
    """A blueprint topic missing from topics.yaml is reported at the exam."""
    root = write_bank(tmp_path, exams=_exam({"astrology": 1}))
    _bank, problems = load_bank(root)
    assert [(p.file, p.item, p.message) for p in problems] == [
        ("question_bank/exams.yaml", "cert", "blueprint names unknown topic 'astrology'"),
    ]


# --- risk categories, practice-only questions, enemies (issue 6) -------------------------


def test_new_fields_are_read_into_the_question_and_its_content(tmp_path):
    """risk, practice_only and enemies reach the Question, its versioned content and
    back to the file form, which leaves the defaults out."""
    root = write_bank(tmp_path, questions={"mechanism": [
        make_question("mech-901", safety_critical=True, risk="infection",
                      enemies=["mech-903"]),
        true_false("mech-902"),
        make_question("mech-903"),
    ]})
    bank, problems = load_bank(root)
    assert problems == []
    first, second, third = (bank.questions[q] for q in ("mech-901", "mech-902", "mech-903"))
    assert (first.risk, first.practice_only, first.enemies) == ("infection", False,
                                                                ("mech-903",))
    assert (second.risk, second.practice_only, second.enemies) == (None, True, ())
    assert (third.risk, third.practice_only, third.enemies) == (None, False, ())
    content = first.content()
    assert (content["risk"], content["practice_only"], content["enemies"]) == (
        "infection", False, ["mech-903"])
    assert Question.from_content("mech-901", "mechanism", "published", content) == first

    written = [question_to_file_form(q) for q in (first, second, third)]
    assert (written[0]["risk"], written[0]["enemies"]) == ("infection", ["mech-903"])
    assert "practice_only" not in written[0]
    assert written[1]["practice_only"] is True
    assert not {"risk", "practice_only", "enemies"} & set(written[2])


def test_content_stored_before_the_new_fields_still_loads():
    """A version stored without risk, practice_only and enemies reads as their defaults."""
    old = {
        "type": "single", "stem": "What does the healing response after needling produce?",
        "options": [{"id": "a", "text": "Collagen", "correct": True, "rationale": ""},
                    {"id": "b", "text": "Melanin", "correct": False, "rationale": "No."}],
        "explanation": "The repair lays down collagen.", "difficulty": "easy",
        "safety_critical": False, "scenario": False, "ordered": False,
        "sources": [{"document": "doc-000", "section": SECTION, "fact": "Repair."}],
    }
    question = Question.from_content("mech-901", "mechanism", "published", old)
    assert (question.risk, question.practice_only, question.enemies) == (None, False, ())


def test_written_questions_read_back_the_same(tmp_path):
    """write_questions keeps the new fields: writing and reading again changes nothing."""
    root = write_bank(tmp_path, questions={"mechanism": [
        make_question("mech-901", safety_critical=True, risk="medication",
                      enemies=["mech-902"]),
        true_false("mech-902"),
    ]})
    bank, _problems = load_bank(root)
    copy_root = tmp_path / "copy" / "question_bank"
    shutil.copytree(root, copy_root, ignore=shutil.ignore_patterns("questions"))
    write_questions(list(bank.questions.values()), copy_root)
    again, problems = load_bank(copy_root)
    assert problems == []
    assert again.questions == bank.questions


def test_risk_categories_are_kept_in_order(tmp_path):
    """topics.yaml's risk_categories become Bank.risk_categories: id -> name, in order."""
    categories = [{"id": "screening", "name": "General screening"},
                  {"id": "bleeding", "name": "Blood and bleeding disorders"},
                  {"id": "medication", "name": "Medicines"}]
    bank, problems = load_bank(write_bank(tmp_path, risk_categories=categories))
    assert problems == []
    assert list(bank.risk_categories.items()) == [
        ("screening", "General screening"), ("bleeding", "Blood and bleeding disorders"),
        ("medication", "Medicines")]


@pytest.mark.parametrize(("categories", "item", "fragment"), [
    pytest.param({"medication": "Medicines"}, "risk_categories",
                 "'risk_categories' must be a list of {id, name}", id="not-a-list"),
    pytest.param([{"id": "Bad Id", "name": "x"}], "Bad Id",
                 "a risk category id must be lower-case letters", id="bad-id"),
    pytest.param([{"id": "medication"}], "medication", "'name' must be non-empty text",
                 id="no-name"),
    pytest.param([{"id": "medication", "name": "a"}, {"id": "medication", "name": "b"}],
                 "medication", "risk category id used twice", id="twice"),
    pytest.param([{"id": "medication", "name": "a", "colour": "red"}], "medication",
                 "unknown field 'colour'", id="unknown-field"),
])
def test_risk_category_errors_name_topics_yaml(tmp_path, categories, item, fragment):
    """A malformed risk_categories list is an error in topics.yaml at the category."""
    _bank, problems = load_bank(write_bank(tmp_path, risk_categories=categories))
    found = find(problems, fragment)
    assert found, [str(p) for p in problems]
    assert all((p.file, p.item) == ("question_bank/topics.yaml", item) for p in found)


@pytest.mark.parametrize(("change", "fragment"), [
    pytest.param(_set("risk", "Not An Id"), "'risk' must be an id", id="risk-not-an-id"),
    pytest.param(_set("risk", ["medication"]), "'risk' must be an id", id="risk-a-list"),
    pytest.param(_set("practice_only", "yes"), "'practice_only' must be true or false",
                 id="practice-only-mistyped"),
    pytest.param(_set("enemies", "mech-902"), "'enemies' must be a list of question ids",
                 id="enemies-not-a-list"),
    pytest.param(_set("enemies", ["Mech 902"]), "'enemies' must be a list of question ids",
                 id="enemy-not-an-id"),
])
def test_mistyped_new_field_holds_the_question_back(tmp_path, change, fragment):
    """A new field of the wrong type is a schema error at the question, which is not loaded."""
    raw = make_question(safety_critical=True, risk="medication")
    change(raw)
    bank, problems = load_bank(write_bank(tmp_path, questions={"mechanism": [raw]}))
    assert [(p.file, p.item) for p in find(problems, fragment)] == [(QFILE, "mech-901")]
    assert "mech-901" not in bank.questions


def _question_errors(tmp_path, *questions, **bank_options):
    root = write_bank(tmp_path, questions={"mechanism": list(questions)}, **bank_options)
    return [(p.item, p.message) for p in errors(all_problems(root))]


def test_safety_critical_question_needs_a_risk(tmp_path):
    """Every safety-critical question names the kind of risk it guards against."""
    assert _question_errors(tmp_path, make_question(safety_critical=True)) == [
        ("mech-901", "a safety-critical question needs 'risk', the kind of risk it guards"
                     " against: one of medication, infection, screening"),
    ]


def test_risk_on_a_question_that_is_not_safety_critical(tmp_path):
    """A risk category on an ordinary question is an error (it would skew the coverage)."""
    assert _question_errors(tmp_path, make_question(risk="medication")) == [
        ("mech-901", "'risk' belongs only on a safety-critical question"),
    ]


def test_unknown_risk_category(tmp_path):
    """The risk must be one of topics.yaml's risk_categories."""
    assert _question_errors(tmp_path, make_question(safety_critical=True, risk="astrology")) == [
        ("mech-901", "unknown risk category 'astrology' (risk_categories in topics.yaml:"
                     " medication, infection, screening)"),
    ]


def test_risk_without_any_categories_says_where_to_add_them(tmp_path):
    """With no risk_categories in topics.yaml, the message says to add them."""
    found = _question_errors(tmp_path, make_question(safety_critical=True, risk="medication"),
                             risk_categories=[])
    assert found == [("mech-901", "unknown risk category 'medication' (risk_categories in"
                                  " topics.yaml: none: add risk_categories to topics.yaml)")]


def test_safety_critical_question_with_a_known_risk_passes(tmp_path):
    assert _question_errors(tmp_path, make_question(safety_critical=True,
                                                    risk="medication")) == []


def test_true_false_question_must_be_practice_only(tmp_path):
    """True/false items are guessed half the time: they are for practice only."""
    question = true_false("mech-902")
    del question["practice_only"]
    assert _question_errors(tmp_path, question) == [
        ("mech-902", "a true/false question is for practice only: add 'practice_only: true'"),
    ]
    assert _question_errors(tmp_path / "marked", true_false("mech-902")) == []


@pytest.mark.parametrize(("stem", "phrase"), [
    ("According to Beyond the Surface, what does the repair produce?", "according to"),
    ("What does Beyond the Surface say the repair produces?", "Beyond the Surface"),
    ("What does understanding the process of microneedling say the repair makes?",
     "Understanding the Process of Microneedling"),
    ("Which product of the repair does the article on fine lines and acne scarring name?",
     "the article"),
    ("What does the article say the repair produces?", "the article"),
])
def test_stem_naming_a_source_must_be_practice_only(tmp_path, stem, phrase):
    """A stem that names a document (short title or title, "according to", "the
    article") asks which article said what: practice only."""
    assert _question_errors(tmp_path, make_question(stem=stem)) == [
        ("mech-901", f"the stem names a source ('{phrase}'), so it asks which article said"
                     " what: add 'practice_only: true', or ask about practice without"
                     " naming it"),
    ]
    marked = make_question(stem=stem, practice_only=True)
    assert _question_errors(tmp_path / "marked", marked) == []


def test_stem_about_the_articles_in_general_is_not_a_source_question(tmp_path):
    """'The articles' (all of them) is common ground, not one article: no rule applies."""
    stem = "What do the articles all agree the healing response produces?"
    assert _question_errors(tmp_path, make_question(stem=stem)) == []


def test_enemies_must_name_other_existing_questions(tmp_path):
    """Each enemy is a question of the bank, and not the question itself."""
    found = _question_errors(
        tmp_path,
        make_question("mech-901", enemies=["mech-902", "mech-999"]),
        make_question("mech-902", enemies=["mech-902"]),
    )
    assert found == [
        ("mech-901", "'enemies' lists unknown question 'mech-999'"),
        ("mech-902", "'enemies' lists the question itself"),
    ]


def test_enemy_may_be_a_draft(tmp_path):
    """An enemy that exists but is a draft is still a known question."""
    assert _question_errors(tmp_path, make_question("mech-901", enemies=["mech-902"]),
                            make_question("mech-902", status="draft")) == []


CONTRA_FILE = "question_bank/facts/contraindications.yaml"


def _contra_bank(tmp_path, contra_fact: dict) -> list:
    root = write_bank(
        tmp_path, topics=(*TOPICS, "contraindications"),
        questions={"mechanism": [make_question()]},
        facts={"mechanism": [fact("mech-healing", ["mech-901"])],
               "contraindications": [contra_fact]},
    )
    return errors(all_problems(root))


def test_contraindications_fact_needs_a_risk(tmp_path):
    """Every fact in the contraindications file names its kind of risk; others need not."""
    found = _contra_bank(tmp_path, fact("contra-acne", []))
    assert [(p.file, p.item, p.message) for p in found] == [
        (CONTRA_FILE, "contra-acne", "a contraindications fact needs 'risk', the kind of"
                                     " risk it is about: one of medication, infection,"
                                     " screening"),
    ]


def test_fact_with_unknown_risk(tmp_path):
    found = _contra_bank(tmp_path, {**fact("contra-acne", []), "risk": "astrology"})
    assert [(p.file, p.item, p.message) for p in found] == [
        (CONTRA_FILE, "contra-acne", "unknown risk category 'astrology' (risk_categories in"
                                     " topics.yaml: medication, infection, screening)"),
    ]


def test_contraindications_fact_with_a_known_risk_passes(tmp_path):
    found = _contra_bank(tmp_path, {**fact("contra-acne", []), "risk": "infection"})
    assert found == []
    bank, _problems = load_bank(tmp_path / "question_bank")
    assert bank.facts["contra-acne"].risk == "infection"
    assert bank.facts["mech-healing"].risk is None


def test_fact_risk_of_the_wrong_type_is_a_schema_error(tmp_path):
    root = write_bank(tmp_path, facts={"mechanism": [{**fact("mech-healing", ["mech-901"]),
                                                      "risk": 3}]})
    _bank, problems = load_bank(root)
    assert [(p.file, p.item) for p in find(problems, "'risk' must be an id")] == [
        (FFILE, "mech-healing")]


# --- enemies: one map for the checker and the drawing --------------------------------------


def test_enemy_map_joins_facts_and_declarations_both_ways(tmp_path):
    """Questions under one fact are enemies, and so are declared pairs, symmetrically."""
    root = write_bank(
        tmp_path,
        questions={"mechanism": [make_question("mech-901"), make_question("mech-902"),
                                 make_question("mech-903", enemies=["dev-901"])],
                   "devices": [make_question("dev-901")]},
        facts={"mechanism": [fact("mech-healing", ["mech-901", "mech-902"]),
                             fact("mech-other", ["mech-903"])],
               "devices": [fact("dev-tools", ["dev-901"])]},
    )
    bank, _problems = load_bank(root)
    enemies = bank.enemy_map()
    assert enemies["mech-901"] == {"mech-902"}
    assert enemies["mech-902"] == {"mech-901"}
    assert enemies["mech-903"] == {"dev-901"}
    assert enemies["dev-901"] == {"mech-903"}


def test_pool_carries_risk_practice_only_ordered_and_enemies(tmp_path):
    """The checker's drawing pool holds what exam_rules.draw_form needs of each question."""
    root = write_bank(tmp_path, questions={"mechanism": [
        make_question("mech-901", safety_critical=True, risk="medication", ordered=True),
        true_false("mech-902", enemies=["mech-901"]),
    ]}, facts={"mechanism": [fact("mech-healing", ["mech-901"]),
                             fact("mech-injury", ["mech-902"])]})
    bank, _problems = load_bank(root)
    first, second = pool_of(bank.published(), bank.enemy_map())
    assert (first.question_id, first.risk, first.practice_only, first.ordered,
            first.enemies) == ("mech-901", "medication", False, True, {"mech-902"})
    assert (second.question_id, second.risk, second.practice_only, second.enemies) == (
        "mech-902", None, True, {"mech-901"})
    # Without the bank's map only the declared enemies are known.
    assert pool_of(bank.published())[0].enemies == {"mech-902"}


# --- near-duplicates -----------------------------------------------------------------------


def _near_duplicates(**bank_options):
    return [(p.file, p.item, p.message) for p in
            find(all_problems(write_bank(**bank_options)), "near-duplicate")]


def _twin(qid: str, **changes) -> dict:
    """Nearly the same question as mech-901, asked another way."""
    return make_question("mech-901", id=qid,
                         stem="What does the needling's healing response produce?", **changes)


def test_near_duplicate_questions_are_an_error(tmp_path):
    """Two published questions with nearly the same stem and key fail the check."""
    found = _near_duplicates(tmp_path=tmp_path, questions={"mechanism": [
        make_question("mech-901"), _twin("mech-903")]})
    assert found == [(QFILE, "mech-901",
                      "near-duplicate of mech-903: 100% of the words of their stems and keys"
                      " are shared (collagen, elastin, healing, needling, new, produce,"
                      " response; the limit is 25%); rewrite one, or declare them enemies")]


def test_declared_enemies_may_be_near_duplicates(tmp_path):
    """Declared on one side is enough: the two never share a form."""
    assert _near_duplicates(tmp_path=tmp_path, questions={"mechanism": [
        make_question("mech-901"), _twin("mech-903", enemies=["mech-901"])]}) == []


def test_questions_under_one_fact_may_be_near_duplicates(tmp_path):
    """Listed under the same fact, they are enemies already."""
    assert _near_duplicates(
        tmp_path=tmp_path,
        questions={"mechanism": [make_question("mech-901"), _twin("mech-903")]},
        facts={"mechanism": [fact("mech-healing", ["mech-901", "mech-903"])]},
    ) == []


def test_a_draft_is_not_compared(tmp_path):
    """Only published questions reach a form, so only they are compared."""
    assert _near_duplicates(tmp_path=tmp_path, questions={"mechanism": [
        make_question("mech-901"), _twin("mech-903", status="draft")]}) == []


def test_fixture_questions_are_not_near_duplicates_of_each_other(tmp_path):
    """The fixture's different questions stay below the threshold (a false alarm check)."""
    assert _near_duplicates(tmp_path=tmp_path, questions={
        "mechanism": [make_question(q) for q in ("mech-901", "mech-902", "mech-903")],
        "devices": [make_question("dev-901")]}) == []


def test_stats_count_the_certification_questions_of_each_risk(tmp_path):
    """`bank stats` shows, per risk category, the safety-critical questions the
    certification exam can draw and the facts on that kind of risk."""
    root = write_bank(
        tmp_path, topics=(*TOPICS, "contraindications"),
        questions={"mechanism": [
            make_question("mech-901", safety_critical=True, risk="medication"),
            make_question("mech-902", safety_critical=True, risk="medication",
                          practice_only=True),
            make_question("mech-903", safety_critical=True, risk="infection", status="draft"),
        ]},
        facts={"contraindications": [{**fact("contra-acne", ["mech-901"]),
                                      "risk": "medication"}]},
    )
    bank, _problems = load_bank(root)
    stats = summary(bank)
    assert stats["practice_only"] == 1
    assert stats["per_risk"] == {
        "medication": {"name": "Medicines", "safety_critical": 1, "facts": 1},
        "infection": {"name": "Active infection and recurrent cold sores",
                      "safety_critical": 0, "facts": 0},
        "screening": {"name": "General screening and referral", "safety_critical": 0,
                      "facts": 0},
    }
