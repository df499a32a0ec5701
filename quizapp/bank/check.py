"""Check a parsed bank as a whole: citations, facts, conflicts, minimums, blueprints,
risk categories, practice-only questions, enemies and near-duplicates, where the
keys sit, guessability, and the item-writing rules. One `check_question` serves the
files and the trainer's form alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from quizapp import exam_rules
from quizapp.bank import balance, drafting, guess, lint, similar
from quizapp.bank.model import Bank, Document, Problem, Question
from quizapp.question_types import QUESTION_TYPES

# Facts of these topics say who must not be treated, so each names its kind of risk.
RISK_REQUIRED_FACT_TOPICS = ("contraindications",)
# Phrases by which a stem points at an article rather than at practice.
SOURCE_PHRASES = ("according to", "the article")


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
    problems += [
        Problem("error", file, question.id, message)
        for message in (
            *_risk_messages(question, bank.risk_categories),
            *_practice_only_messages(question, bank.documents.values()),
            *_enemy_messages(question, bank.questions),
            # A draft made from a document keeps its placeholders until rewritten.
            *drafting.draft_markers(question),
        )
    ]
    return problems


def _known_categories(categories: Mapping[str, str]) -> str:
    return ", ".join(categories) or "none: add risk_categories to topics.yaml"


def _risk_messages(question: Question, categories: Mapping[str, str]) -> list[str]:
    if question.risk is None:
        if question.safety_critical:
            return ["a safety-critical question needs 'risk', the kind of risk it guards"
                    f" against: one of {_known_categories(categories)}"]
        return []
    if not question.safety_critical:
        return ["'risk' belongs only on a safety-critical question"]
    if question.risk not in categories:
        return [f"unknown risk category '{question.risk}'"
                f" (risk_categories in topics.yaml: {_known_categories(categories)})"]
    return []


def names_a_source(stem: str, documents: Iterable[Document]) -> str | None:
    """The phrase by which `stem` names a source document, if it does: a document's
    short title or title, "according to" or "the article"."""
    phrases = [*SOURCE_PHRASES]
    for document in documents:
        phrases += [document.short_title, document.title]
    for phrase in phrases:
        if phrase and re.search(rf"\b{re.escape(phrase)}\b", stem, re.I):
            return phrase
    return None


def _practice_only_messages(question: Question, documents: Iterable[Document]) -> list[str]:
    """True/false items are guessed half the time, and "which article said it" tests
    the articles, not practice: the certification exam draws neither."""
    if question.practice_only:
        return []
    question_type = QUESTION_TYPES.get(question.type)
    if question_type is not None and question_type.practice_only:
        return [f"a {question_type.name.replace('_', '/')} question is for practice only:"
                " add 'practice_only: true'"]
    phrase = names_a_source(question.stem, documents)
    if phrase:
        return [f"the stem names a source ('{phrase}'), so it asks which article said what:"
                " add 'practice_only: true', or ask about practice without naming it"]
    return []


def _enemy_messages(question: Question, questions: Mapping[str, Question]) -> list[str]:
    messages = []
    for other in question.enemies:
        if other == question.id:
            messages.append("'enemies' lists the question itself")
        elif other not in questions:
            messages.append(f"'enemies' lists unknown question '{other}'")
    return messages


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
    problems += _key_spread_problems(bank, published)
    problems += near_duplicate_problems(bank)
    problems += guessability_problems(bank)

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

    pool = pool_of(published, bank.enemy_map())
    for rules in bank.exams:
        for message in exam_rules.blueprint_problems(
            rules, pool, practice_caps=rules.kind == "practice"
        ):
            problems.append(
                Problem("error", f"{bank.root_name}/exams.yaml", rules.id, message)
            )
    return problems


def _fact_problems(bank: Bank) -> list[Problem]:
    problems = []
    tested: set[str] = set()
    for fact in bank.facts.values():
        file = bank.origin["fact:" + fact.id]
        if fact.risk is None and fact.topic in RISK_REQUIRED_FACT_TOPICS:
            problems.append(Problem(
                "error", file, fact.id,
                f"a {fact.topic} fact needs 'risk', the kind of risk it is about: one of"
                f" {_known_categories(bank.risk_categories)}",
            ))
        elif fact.risk is not None and fact.risk not in bank.risk_categories:
            problems.append(Problem(
                "error", file, fact.id,
                f"unknown risk category '{fact.risk}'"
                f" (risk_categories in topics.yaml: {_known_categories(bank.risk_categories)})",
            ))
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


def pool_of(
    questions: list[Question], enemies: Mapping[str, frozenset[str]] | None = None
) -> list[exam_rules.PoolItem]:
    """The drawing pool for checking blueprints; keys are positions, not versions.

    `enemies` is `Bank.enemy_map()`; without it only the enemies the questions
    declare count (the facts that link questions are not at hand).
    """
    if enemies is None:
        enemies = exam_rules.enemy_map((), {q.id: q.enemies for q in questions})
    return [
        exam_rules.PoolItem(
            number, q.id, q.topic, q.safety_critical, tuple(o.id for o in q.options),
            ordered=q.ordered, risk=q.risk, practice_only=q.practice_only,
            enemies=enemies.get(q.id, frozenset()),
        )
        for number, q in enumerate(questions)
    ]


def _key_spread_problems(bank: Bank, published: list[Question]) -> list[Problem]:
    """Warn where the keys lean on some letters, or on one place in ordered lists:
    over the whole bank, then topic by topic (a topic is one file)."""
    groups = [(f"{bank.root_name}/questions", "", published)]
    for topic in bank.topics:
        in_topic = [q for q in published if q.topic == topic]
        if in_topic:
            file = bank.origin.get(in_topic[0].id, f"{bank.root_name}/questions")
            groups.append((file, topic, in_topic))
    problems = []
    for file, item, questions in groups:
        for message in (balance.letter_warning(balance.letter_spread(questions)),
                        balance.position_warning(balance.position_spread(questions))):
            if message:
                problems.append(Problem("warning", file, item, message))
    return problems


def near_duplicate_problems(bank: Bank) -> list[Problem]:
    """Two published questions that read alike must be enemies, or one rewritten."""
    enemies = bank.enemy_map()
    titles = [name for d in bank.documents.values() for name in (d.short_title, d.title)]
    problems = []
    for pair in similar.similar_pairs(bank.published(), ignore_phrases=titles):
        if pair.second in enemies.get(pair.first, frozenset()):
            continue
        problems.append(Problem(
            "error", bank.origin.get(pair.first, ""), pair.first,
            f"near-duplicate of {pair.second}: {pair.similarity:.0%} of the words of their"
            f" stems and keys are shared ({', '.join(pair.shared)}; the limit is"
            f" {similar.NEAR_DUPLICATE_THRESHOLD:.0%}); rewrite one, or declare them"
            " enemies",
        ))
    return problems


def guessability_problems(bank: Bank) -> list[Problem]:
    """A test-wise examinee who knows nothing of the subject must not beat chance by
    more than the limit, on the certification pool or on its safety-critical items."""
    problems = []
    for report in guess.guessability(bank.questions.values()):
        if report.too_guessable:
            best = report.best
            problems.append(Problem(
                "error", f"{bank.root_name}/questions", "",
                f"guessability: on the {report.name} questions ({report.questions}), a"
                " test-wise examinee who knows nothing of the subject scores"
                f" {100 * best.score:.1f}% ({best.strategy}) against"
                f" {100 * report.chance:.1f}% by chance; the limit is chance +"
                f" {guess.LIMIT_POINTS} points. Take away the cue (question_bank/README.md)",
            ))
    return problems


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
