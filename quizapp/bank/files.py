"""Read and write the bank files in `question_bank/`.

Reading never stops at the first mistake: every schema problem is collected with
its file and item id, so an author sees them all at once.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import yaml

from quizapp import exam_rules
from quizapp.bank.model import (
    DIFFICULTIES,
    QUESTION_TYPES,
    STATUSES,
    Bank,
    Citation,
    Claim,
    Conflict,
    Document,
    Fact,
    Option,
    Problem,
    Question,
    Topic,
)

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
OPTION_ID_PATTERN = re.compile(r"^[a-z]$")
LIMITS = {"stem": 1000, "option": 300, "rationale": 600, "explanation": 2000, "fact": 600}
QUESTION_KEYS = {
    "id", "type", "stem", "options", "explanation", "difficulty", "safety_critical",
    "sources", "scenario", "ordered", "status", "risk", "practice_only", "enemies",
}
REQUIRED_QUESTION_KEYS = QUESTION_KEYS - {
    "scenario", "ordered", "status", "risk", "practice_only", "enemies",
}
FACT_KEYS = {"id", "document", "section", "fact", "questions", "risk"}


class _Collector:
    """Gathers problems while a file is read."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def error(self, item: str, message: str) -> None:
        self.problems.append(Problem("error", self.file, item, message))


# What a YAML text parses to, by the text's digest, for the whole process: the same
# files are read again and again (the shipped bank at start-up and by `bank check`, the
# live bank's files for each upload's check), and parsing is the slow part of reading.
# Kept pickled, so each reader gets data of its own; a text that does not parse is not
# kept (its error is raised again).
_PARSED: OrderedDict[bytes, bytes] = OrderedDict()
_PARSED_KEPT = 512
_PARSED_LOCK = threading.Lock()


def _parse_yaml(text: str):
    """`yaml.safe_load(text)`, remembered (see `_PARSED`)."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    with _PARSED_LOCK:
        kept = _PARSED.get(key)
        if kept is not None:
            _PARSED.move_to_end(key)
    if kept is not None:
        return pickle.loads(kept)
    data = yaml.safe_load(text)
    try:
        blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, RecursionError):
        return data
    with _PARSED_LOCK:
        _PARSED[key] = blob
        while len(_PARSED) > _PARSED_KEPT:
            _PARSED.popitem(last=False)
    return data


def _load_yaml(path: Path, root: Path, problems: list[Problem]) -> dict | None:
    name = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    try:
        data = _parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem("error", name, "", "file is missing"))
        return None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems.append(Problem("error", name, "", f"not valid YAML: {error}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem("error", name, "", "the file must hold a mapping at the top"))
        return None
    return data


def _text(
    raw: Mapping, key: str, where: str, out: _Collector, limit: int | None = None,
    label: str = "",
) -> str:
    prefix = f"{label}: " if label else ""
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        out.error(where, f"{prefix}'{key}' must be non-empty text")
        return ""
    value = " ".join(value.split())
    if limit and len(value) > limit:
        out.error(where, f"{prefix}'{key}' is {len(value)} characters; the limit is {limit}")
    return value


def _flag(raw: Mapping, key: str, where: str, out: _Collector, default: bool | None = None):
    value = raw.get(key, default)
    if not isinstance(value, bool):
        out.error(where, f"'{key}' must be true or false")
        return False
    return value


def _optional_id(raw: Mapping, key: str, where: str, out: _Collector) -> str | None:
    """An optional field holding one id (whether the id is known is checked later)."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        out.error(where, f"'{key}' must be an id: lower-case letters, digits and hyphens")
        return None
    return value


def _id_list(raw: Mapping, key: str, where: str, out: _Collector) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and ID_PATTERN.match(v) for v in value
    ):
        out.error(where, f"'{key}' must be a list of question ids")
        return ()
    return tuple(dict.fromkeys(value))  # an id listed twice means the same as once


def parse_question(
    raw: object, topic: str, out: _Collector, documents: Mapping[str, Document] | None = None
) -> Question | None:
    """Validate one question's fields; return it, or None when it is unusable."""
    if not isinstance(raw, Mapping):
        out.error("", "each question must be a mapping of fields")
        return None
    qid = raw.get("id")
    where = str(qid) if qid else "(question without id)"
    before = len(out.problems)
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        out.error(where, "'id' must be lower-case letters, digits and hyphens, like 'mech-001'")
    for key in sorted(REQUIRED_QUESTION_KEYS - set(raw)):
        out.error(where, f"missing field '{key}'")
    for key in sorted(set(raw) - QUESTION_KEYS):
        out.error(where, f"unknown field '{key}'")
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        out.error(where, f"'type' must be one of {', '.join(QUESTION_TYPES)}")
    difficulty = raw.get("difficulty")
    if difficulty not in DIFFICULTIES:
        out.error(where, f"'difficulty' must be one of {', '.join(DIFFICULTIES)}")
    status = raw.get("status", "published")
    if status not in STATUSES:
        out.error(where, f"'status' must be one of {', '.join(STATUSES)}")
    stem = _text(raw, "stem", where, out, LIMITS["stem"])
    explanation = _text(raw, "explanation", where, out, LIMITS["explanation"])
    safety = _flag(raw, "safety_critical", where, out)
    scenario = _flag(raw, "scenario", where, out, default=False)
    ordered = _flag(raw, "ordered", where, out, default=False)
    practice_only = _flag(raw, "practice_only", where, out, default=False)
    risk = _optional_id(raw, "risk", where, out)
    enemies = _id_list(raw, "enemies", where, out)
    options = _parse_options(raw.get("options"), qtype, where, out)
    sources = _parse_sources(raw.get("sources"), where, out, documents)
    if len(out.problems) > before:
        return None
    return Question(
        id=qid, topic=topic, type=qtype, stem=stem, options=options, explanation=explanation,
        difficulty=difficulty, safety_critical=safety, sources=sources, scenario=scenario,
        ordered=ordered, status=status, risk=risk, practice_only=practice_only,
        enemies=enemies,
    )


def _parse_options(raw, qtype, where: str, out: _Collector) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= 6:
        out.error(where, "'options' must be a list of 2 to 6 options")
        return ()
    options = []
    for number, item in enumerate(raw, start=1):
        label = f"option {number}"
        if not isinstance(item, Mapping):
            out.error(where, f"{label} must be a mapping with id, text and correct")
            continue
        for key in sorted(set(item) - {"id", "text", "correct", "rationale"}):
            out.error(where, f"{label}: unknown field '{key}'")
        oid = item.get("id")
        if not isinstance(oid, str) or not OPTION_ID_PATTERN.match(oid):
            out.error(where, f"{label}: 'id' must be one lower-case letter")
        text = _text(item, "text", where, out, LIMITS["option"], label)
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            out.error(where, f"{label}: 'correct' must be true or false")
            correct = False
        rationale = item.get("rationale", "")
        if not correct and (not isinstance(rationale, str) or not rationale.strip()):
            out.error(where, f"{label} is wrong, so it needs a 'rationale' saying why")
            rationale = ""
        rationale = " ".join(str(rationale).split())
        if len(rationale) > LIMITS["rationale"]:
            out.error(where, f"{label}: 'rationale' is longer than {LIMITS['rationale']}")
        options.append(Option(str(oid), text, correct, rationale))
    ids = [o.id for o in options]
    if len(set(ids)) != len(ids):
        out.error(where, "option ids must be unique within the question")
    question_type = QUESTION_TYPES.get(qtype)
    if question_type is not None:
        for problem in (
            question_type.key_problem(sum(o.correct for o in options), len(options)),
            question_type.options_problem(o.text for o in options),
        ):
            if problem:
                out.error(where, problem)
    return tuple(options)


def _parse_sources(raw, where: str, out: _Collector, documents) -> tuple[Citation, ...]:
    if not isinstance(raw, list) or not raw:
        out.error(where, "'sources' must list at least one citation")
        return ()
    citations = []
    for number, item in enumerate(raw, start=1):
        label = f"source {number}"
        if not isinstance(item, Mapping):
            out.error(where, f"{label} must be a mapping with document, section and fact")
            continue
        document = item.get("document")
        section = item.get("section")
        fact = _text(item, "fact", where, out, LIMITS["fact"], label)
        if documents is not None:
            _check_citation(documents, document, section, where, out, label)
        citations.append(Citation(str(document), str(section), fact))
    return tuple(citations)


def _relative(path: Path, root: Path) -> str:
    return str(Path(root.name) / path.relative_to(root))


def load_bank(root: Path | str) -> tuple[Bank, list[Problem]]:
    """Read every bank file under `root`; return the bank and the schema problems."""
    root = Path(root)
    problems: list[Problem] = []
    bank = Bank(root_name=root.name)

    sources = _load_yaml(root / "sources.yaml", root, problems) or {}
    out = _Collector(_relative(root / "sources.yaml", root))
    for raw in sources.get("documents") or []:
        doc_id = raw.get("id", "")
        document = Document(
            id=doc_id,
            title=_text(raw, "title", doc_id, out),
            short_title=_text(raw, "short_title", doc_id, out),
            sections=tuple(raw.get("sections") or ()),
            file=raw.get("file", ""),
        )
        if not document.sections:
            out.error(doc_id, "a document needs its list of 'sections'")
        bank.documents[doc_id] = document
    problems += out.problems

    topics = _load_yaml(root / "topics.yaml", root, problems) or {}
    out = _Collector(_relative(root / "topics.yaml", root))
    share = topics.get("minimum_scenario_share", 0)
    if not isinstance(share, int | float) or not 0 <= share <= 1:
        out.error("", "'minimum_scenario_share' must be a fraction between 0 and 1")
        share = 0
    bank.minimum_scenario_share = float(share)
    for raw in topics.get("topics") or []:
        topic_id = raw.get("id", "")
        if not isinstance(topic_id, str) or not ID_PATTERN.match(topic_id):
            out.error(str(topic_id), "a topic id must be lower-case letters, digits and hyphens")
            continue
        minimum = raw.get("minimum", 0)
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
            out.error(topic_id, "'minimum' must be a whole number ≥ 0")
            minimum = 0
        bank.topics[topic_id] = Topic(topic_id, _text(raw, "name", topic_id, out), minimum)
    bank.risk_categories = _risk_categories(topics.get("risk_categories"), out)
    problems += out.problems

    for path in sorted((root / "questions").glob("*.yaml")):
        _read_topic_file(path, root, bank, problems, kind="questions")
    for path in sorted((root / "facts").glob("*.yaml")):
        _read_topic_file(path, root, bank, problems, kind="facts")

    conflicts = _load_yaml(root / "conflicts.yaml", root, problems) or {}
    out = _Collector(_relative(root / "conflicts.yaml", root))
    for raw in conflicts.get("conflicts") or []:
        conflict_id = raw.get("id", "")
        claims = tuple(
            Claim(c.get("document", ""), c.get("section", ""), c.get("claim", ""),
                  tuple(c.get("markers") or ()))
            for c in raw.get("claims") or ()
        )
        if len(claims) < 2:
            out.error(conflict_id, "a conflict needs at least two differing claims")
        for claim in claims:
            _check_citation(bank.documents, claim.document, claim.section, conflict_id, out)
        bank.conflicts[conflict_id] = Conflict(
            conflict_id, raw.get("topic", ""), _text(raw, "subject", conflict_id, out),
            _text(raw, "common_ground", conflict_id, out), claims,
        )
    problems += out.problems

    exams = _load_yaml(root / "exams.yaml", root, problems) or {}
    out = _Collector(_relative(root / "exams.yaml", root))
    for raw in exams.get("exams") or []:
        try:
            bank.exams.append(exam_rules.parse_exam(raw, list(bank.topics)))
        except exam_rules.ExamRulesError as error:
            out.error(str(raw.get("id", "(exam without id)")), str(error))
    if "practice" in exams:
        try:
            names = {t.id: t.name for t in bank.topics.values()}
            bank.exams += exam_rules.practice_exams(exams["practice"] or {}, names)
        except exam_rules.ExamRulesError as error:
            out.error("practice", str(error))
    problems += out.problems
    return bank, problems


def _risk_categories(raw, out: _Collector) -> dict[str, str]:
    """`risk_categories` of topics.yaml: a list of {id, name}, kept in its order."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        out.error("risk_categories", "'risk_categories' must be a list of {id, name}")
        return {}
    categories: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, Mapping):
            out.error("risk_categories", "each risk category must be a mapping with id and name")
            continue
        category_id = item.get("id")
        if not isinstance(category_id, str) or not ID_PATTERN.match(category_id):
            out.error(str(category_id),
                      "a risk category id must be lower-case letters, digits and hyphens")
            continue
        for key in sorted(set(item) - {"id", "name"}):
            out.error(category_id, f"unknown field '{key}'")
        name = _text(item, "name", category_id, out)
        if category_id in categories:
            out.error(category_id, "risk category id used twice")
            continue
        categories[category_id] = name
    return categories


def _check_citation(documents: Mapping[str, Document], document: str, section: str, item: str,
                    out: _Collector, label: str = ""):
    """The one check that a citation names a known document and one of its sections."""
    prefix = f"{label}: " if label else ""
    if document not in documents:
        out.error(item, f"{prefix}unknown document '{document}'")
    elif section not in documents[document].sections:
        out.error(item, f"{prefix}'{section}' is not a section of {document}"
                        f" (sections: {'; '.join(documents[document].sections)})")


def _read_topic_file(path: Path, root: Path, bank: Bank, problems: list[Problem], kind: str):
    data = _load_yaml(path, root, problems)
    if data is None:
        return
    name = _relative(path, root)
    out = _Collector(name)
    topic = data.get("topic")
    if topic not in bank.topics:
        out.error("", f"'topic' must name a topic from topics.yaml, not '{topic}'")
    items = data.get(kind)
    if not isinstance(items, list):
        out.error("", f"the file needs a list '{kind}'")
        items = []
    for raw in items:
        if kind == "questions":
            question = parse_question(raw, topic, out, bank.documents)
            if question is None:
                continue
            if question.id in bank.questions:
                out.error(question.id, f"id already used in {bank.origin[question.id]}")
                continue
            bank.questions[question.id] = question
            bank.origin[question.id] = name
        else:
            fact = _parse_fact(raw, topic, out, bank)
            if fact is None:
                continue
            if fact.id in bank.facts:
                out.error(fact.id, f"fact id already used in {bank.origin['fact:' + fact.id]}")
                continue
            bank.facts[fact.id] = fact
            bank.origin["fact:" + fact.id] = name
    problems += out.problems


def _parse_fact(raw, topic: str, out: _Collector, bank: Bank) -> Fact | None:
    if not isinstance(raw, Mapping):
        out.error("", "each fact must be a mapping")
        return None
    fact_id = raw.get("id")
    where = str(fact_id)
    before = len(out.problems)
    if not isinstance(fact_id, str) or not ID_PATTERN.match(fact_id):
        out.error(where, "a fact 'id' must be lower-case letters, digits and hyphens")
    for key in sorted(set(raw) - FACT_KEYS):
        out.error(where, f"unknown field '{key}'")
    risk = _optional_id(raw, "risk", where, out)
    text = _text(raw, "fact", where, out, LIMITS["fact"])
    _check_citation(bank.documents, raw.get("document"), raw.get("section"), where, out)
    questions = raw.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        out.error(where, "'questions' must be a list of question ids")
        questions = []
    if len(out.problems) > before:
        return None
    return Fact(fact_id, topic, raw["document"], raw["section"], text, tuple(questions), risk)


# --- Writing ------------------------------------------------------------------------


class _BlockDumper(yaml.SafeDumper):
    """Write long text as folded blocks so the files read well in a diff."""


def _represent_text(dumper: yaml.SafeDumper, value: str):
    style = ">" if len(value) > 70 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_text)


def question_to_file_form(question: Question) -> dict:
    """A question as it is written in a topic file (defaults left out)."""
    form: dict = {"id": question.id}
    content = question.content()
    form["type"] = content["type"]
    form["difficulty"] = content["difficulty"]
    form["safety_critical"] = content["safety_critical"]
    if question.risk is not None:
        form["risk"] = question.risk
    if question.scenario:
        form["scenario"] = True
    if question.ordered:
        form["ordered"] = True
    if question.practice_only:
        form["practice_only"] = True
    if question.status != "published":
        form["status"] = question.status
    if question.enemies:
        form["enemies"] = list(question.enemies)
    form["stem"] = content["stem"]
    form["options"] = [
        {k: v for k, v in option.items() if k != "rationale" or v}
        for option in content["options"]
    ]
    form["explanation"] = content["explanation"]
    form["sources"] = content["sources"]
    return form


def write_questions(questions: list[Question], root: Path | str) -> list[Path]:
    """Write questions back to one file per topic; return the files written."""
    root = Path(root)
    (root / "questions").mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[Question]] = {}
    for question in questions:
        by_topic.setdefault(question.topic, []).append(question)
    written = []
    for topic, items in sorted(by_topic.items()):
        path = root / "questions" / f"{topic}.yaml"
        document = {"topic": topic, "questions": [question_to_file_form(q) for q in items]}
        path.write_text(
            yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
                      width=88),
            encoding="utf-8",
        )
        written.append(path)
    return written
