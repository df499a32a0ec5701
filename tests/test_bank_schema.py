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

from quizapp.bank import check_bank, load_bank

SHIPPED = Path(__file__).resolve().parent.parent / "question_bank"
TOPICS = ("mechanism", "devices")
SECTION = "How Does Microneedling Work?"
QFILE = "question_bank/questions/mechanism.yaml"
FFILE = "question_bank/facts/mechanism.yaml"


def make_question(qid: str = "mech-901", **changes) -> dict:
    """A question that passes every schema and item-writing rule."""
    question = {
        "id": qid,
        "type": "single",
        "difficulty": "easy",
        "safety_critical": False,
        "stem": "What does the healing response after needling produce?",
        "options": [
            {"id": "a", "text": "New collagen and elastin", "correct": True},
            {"id": "b", "text": "Extra melanin pigment",
             "rationale": "Pigment is not what the repair lays down."},
            {"id": "c", "text": "A thicker layer of dead cells",
             "rationale": "Repair builds new fibres rather than dead surface cells."},
        ],
        "explanation": "The repair of the micro-injuries lays down collagen and elastin.",
        "sources": [{"document": "doc-000", "section": SECTION,
                     "fact": "The micro-injuries set off the skin's healing response."}],
    }
    question.update(changes)
    return question


def true_false(qid: str = "mech-902", **changes) -> dict:
    question = make_question(
        qid,
        type="true_false",
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
) -> Path:
    """Write a bank folder; `questions`/`facts` map a topic to its items."""
    root = tmp_path / "question_bank"
    root.mkdir()
    shutil.copy(SHIPPED / "sources.yaml", root / "sources.yaml")
    shutil.copy(SHIPPED / "conflicts.yaml", root / "conflicts.yaml")
    minimums = minimums or {}
    _dump(root / "topics.yaml", {
        "minimum_scenario_share": scenario_share,
        "topics": [{"id": t, "name": t.title(), "minimum": minimums.get(t, 0)} for t in TOPICS],
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
                 "'status' must be one of published, draft, retired", id="bad-status"),
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
        (FFILE, "mech-healing", "'Nowhere At All' is not a section of doc-000"),
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


def _redness(qid: str, stem: str, sources: list[dict]) -> dict:
    return make_question(
        qid, stem=stem, sources=sources,
        options=[
            {"id": "a", "text": "Up to five days", "correct": True},
            {"id": "b", "text": "About one hour", "rationale": "Too short for this source."},
            {"id": "c", "text": "About six weeks", "rationale": "Far longer than described."},
        ],
    )


def test_conflict_marker_without_naming_the_document(tmp_path):
    """One source's figure needs its document named in the stem and cited."""
    unnamed = _redness("mech-901", "How long may redness last after treatment?", [REDNESS])
    uncited = _redness(
        "mech-902",
        "According to the article on fine lines and acne scarring, how long may redness last?",
        [make_question()["sources"][0]],
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
        [REDNESS],
    )
    root = write_bank(tmp_path, questions={"mechanism": [named]})
    assert errors(all_problems(root)) == []


# --- exam blueprints ------------------------------------------------------------------


def _exam(topics: dict[str, int], min_safety: int = 0) -> dict:
    return {"exams": [{"id": "cert", "title": "Certification",
                       "blueprint": {"min_safety_critical": min_safety, "topics": topics}}]}


def _pool() -> dict[str, list[dict]]:
    return {"mechanism": [make_question("mech-901", safety_critical=True),
                          make_question("mech-902"),
                          make_question("mech-903", safety_critical=True, status="draft")],
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
