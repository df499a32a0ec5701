"""Check a parsed bank as a whole: citations, facts, conflicts, minimums, blueprints
and the item-writing rules. One `check_question` serves the files and the
trainer's form alike.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from quizapp import exam
from quizapp.bank import lint
from quizapp.bank.model import Bank, Problem, Question


def check_question(question: Question, bank: Bank, file: str = "") -> list[Problem]:
    """Everything that can be said of one question against the rest of the bank."""
    file = file or bank.origin.get(question.id, "")
    problems = [
        Problem(level, file, question.id, message)
        for level, message in lint.lint_question(question)
    ]
    if question.scenario and "client" not in question.stem.lower():
        problems.append(Problem(
            "error", file, question.id, "a scenario question must describe a client in its stem"
        ))
    problems += _conflict_problems(question, bank, file)
    return problems


def _conflict_problems(question: Question, bank: Bank, file: str) -> list[Problem]:
    """A figure on which the sources disagree must be attributed to its source."""
    text = " ".join([question.stem, *(o.text for o in question.options)]).lower()
    cited = {c.document for c in question.sources}
    problems = []
    for conflict in bank.conflicts.values():
        for claim in conflict.claims:
            marker = next((m for m in claim.markers if m.lower() in text), None)
            if marker is None:
                continue
            document = bank.documents.get(claim.document)
            named = document is not None and document.short_title.lower() in question.stem.lower()
            if not named or claim.document not in cited:
                problems.append(Problem(
                    "error", file, question.id,
                    f"'{marker}' is one source's figure in the recorded conflict"
                    f" '{conflict.id}'; name {claim.document}"
                    f" ('{document.short_title if document else '?'}') in the stem and cite it,"
                    " or use the common ground: "
                    f"{conflict.common_ground}",
                ))
    return problems


def check_bank(bank: Bank) -> list[Problem]:
    """Cross-check the whole bank; schema problems come from `load_bank`."""
    problems: list[Problem] = []
    for question in bank.questions.values():
        problems += check_question(question, bank)

    published = bank.published()
    bias = lint.longest_correct_bias(published)
    if bias:
        counted, observed, expected = bias
        problems.append(Problem(
            "warning", f"{bank.root_name}/questions", "",
            f"the correct option is the longest in {observed} of {counted} single-answer"
            f" questions, against {expected:.0f} expected by chance",
        ))

    problems += _fact_problems(bank)

    per_topic = Counter(q.topic for q in published)
    for topic in bank.topics.values():
        if per_topic[topic.id] < topic.minimum:
            problems.append(Problem(
                "error", f"{bank.root_name}/topics.yaml", topic.id,
                f"{per_topic[topic.id]} published question(s); the minimum is {topic.minimum}",
            ))
    if published and bank.minimum_scenario_share:
        share = sum(q.scenario for q in published) / len(published)
        if share < bank.minimum_scenario_share:
            problems.append(Problem(
                "error", f"{bank.root_name}/topics.yaml", "",
                f"{share:.0%} of published questions are client scenarios;"
                f" the minimum is {bank.minimum_scenario_share:.0%}",
            ))

    pool = pool_of(published)
    for definition in bank.exams:
        for message in exam.blueprint_problems(
            definition, pool, practice_caps=definition.kind == "practice"
        ):
            problems.append(
                Problem("error", f"{bank.root_name}/exams.yaml", definition.id, message)
            )
    return problems


def _fact_problems(bank: Bank) -> list[Problem]:
    problems = []
    tested: set[str] = set()
    for fact in bank.facts.values():
        file = bank.origin["fact:" + fact.id]
        for qid in fact.questions:
            question = bank.questions.get(qid)
            if question is None:
                problems.append(Problem("error", file, fact.id, f"lists unknown question '{qid}'"))
                continue
            tested.add(qid)
            if not any(
                c.document == fact.document and c.section == fact.section
                for c in question.sources
            ):
                problems.append(Problem(
                    "error", file, fact.id,
                    f"lists question '{qid}', which does not cite"
                    f" {fact.document} / {fact.section}",
                ))
    for fact_id in uncovered_facts(bank):
        problems.append(Problem("warning", bank.origin["fact:" + fact_id], fact_id,
                                "no published question tests it"))
    if bank.facts:
        for question in bank.published():
            if question.id not in tested:
                problems.append(Problem(
                    "error", bank.origin.get(question.id, ""), question.id,
                    "is not listed under any fact in question_bank/facts/",
                ))
    return problems


def pool_of(questions: list[Question]) -> list[exam.PoolItem]:
    """The drawing pool for checking blueprints; keys are positions, not versions."""
    return [
        exam.PoolItem(number, q.id, q.topic, q.safety_critical, tuple(o.id for o in q.options))
        for number, q in enumerate(questions)
    ]


def uncovered_facts(bank: Bank) -> list[str]:
    return [
        fact.id
        for fact in bank.facts.values()
        if not any(
            qid in bank.questions and bank.questions[qid].status == "published"
            for qid in fact.questions
        )
    ]


COPY_RUN_WORDS = 8  # this many words in a row shared with a source counts as copying


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _runs(words: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def copied_wording(
    bank: Bank, source_texts: dict[str, str], size: int = COPY_RUN_WORDS
) -> list[Problem]:
    """Find question and fact texts that repeat a source's wording word for word.

    Section headings and titles are left out: a citation must name them exactly.
    """
    headings = set()
    for document in bank.documents.values():
        for name in (document.title, *document.sections):
            headings |= _runs(_words(name), size)
    copied_from = {}
    for doc_id, text in source_texts.items():
        for run in _runs(_words(text), size) - headings:
            copied_from.setdefault(run, doc_id)

    def check(texts: list[str], file: str, item: str) -> list[Problem]:
        found = []
        for text in texts:
            words = _words(text)
            hits = [i for i in range(len(words) - size + 1)
                    if tuple(words[i : i + size]) in copied_from]
            if hits:
                first = hits[0]
                doc_id = copied_from[tuple(words[first : first + size])]
                found.append(Problem(
                    "error", file, item,
                    f"copies the wording of {doc_id} (\"{' '.join(words[first:first + size])}"
                    " ...\"); write it in our own words",
                ))
        return found

    problems = []
    for question in bank.questions.values():
        texts = [question.stem, question.explanation,
                 *(o.text for o in question.options), *(o.rationale for o in question.options),
                 *(c.fact for c in question.sources)]
        problems += check(texts, bank.origin.get(question.id, ""), question.id)
    for fact in bank.facts.values():
        problems += check([fact.fact], bank.origin["fact:" + fact.id], fact.id)
    return problems


def read_sources(bank: Bank, folder: Path) -> dict[str, str]:
    """The articles' text by document id, from the folder that holds them."""
    return {
        doc.id: (folder / doc.file).read_text(encoding="utf-8")
        for doc in bank.documents.values()
        if doc.file and (folder / doc.file).is_file()
    }
