"""The shipped bank is fit to certify on: clean, and above the minimums set in the issue.

The minimums are written out here on purpose, not read from topics.yaml, so that
lowering a minimum in topics.yaml cannot make this test pass.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from quizapp.bank import check_bank, load_bank

SHIPPED = Path(__file__).resolve().parent.parent / "question_bank"
MIN_PUBLISHED = 100
MIN_SCENARIO_SHARE = 0.25
TOPIC_MINIMUMS = {
    "mechanism": 12,
    "contraindications": 18,
    "treatment-day": 10,
    "sessions": 10,
    "indications": 10,
    "devices": 8,
    "aftercare": 10,
    "consultation": 6,
}


@pytest.fixture(scope="module")
def checked():
    bank, problems = load_bank(SHIPPED)
    return bank, problems + check_bank(bank)


@pytest.fixture(scope="module")
def bank(checked):
    return checked[0]


def test_bank_check_finds_no_errors(checked):
    """`bank check` on the shipped bank reports no error."""
    _bank, problems = checked
    assert [str(p) for p in problems if p.level == "error"] == []


def test_at_least_100_published_questions(bank):
    """The bank holds at least 100 published questions."""
    assert len(bank.published()) >= MIN_PUBLISHED


@pytest.mark.parametrize(("topic", "minimum"), TOPIC_MINIMUMS.items())
def test_topic_meets_its_minimum(bank, topic, minimum):
    """Each topic has at least the issue's minimum of published questions."""
    published = [q for q in bank.published() if q.topic == topic]
    assert len(published) >= minimum


def test_topics_are_exactly_the_issue_topics(bank):
    """No topic of the issue has been dropped from topics.yaml."""
    assert set(bank.topics) == set(TOPIC_MINIMUMS)


def test_most_contraindication_questions_are_safety_critical(bank):
    """Screening is safety knowledge: most contraindication questions are safety-critical."""
    published = [q for q in bank.published() if q.topic == "contraindications"]
    assert sum(q.safety_critical for q in published) > len(published) / 2


def test_at_least_a_quarter_are_client_scenarios(bank):
    """At least 25% of published questions are client scenarios that mention the client."""
    published = bank.published()
    scenarios = [q for q in published if q.scenario]
    assert len(scenarios) >= MIN_SCENARIO_SHARE * len(published)
    assert all("client" in q.stem.lower() for q in scenarios)


def test_every_fact_has_a_published_question(bank):
    """Every fact in facts/ is tested by at least one published question."""
    published = {q.id for q in bank.published()}
    assert bank.facts
    untested = [f.id for f in bank.facts.values() if not published & set(f.questions)]
    assert untested == []


def test_every_published_question_is_listed_under_a_fact(bank):
    """Every published question tests a recorded fact."""
    listed = {qid for f in bank.facts.values() for qid in f.questions}
    assert [q.id for q in bank.published() if q.id not in listed] == []


def test_every_conflict_has_at_least_two_claims():
    """Each recorded conflict sets at least two differing claims."""
    conflicts = yaml.safe_load((SHIPPED / "conflicts.yaml").read_text(encoding="utf-8"))
    assert conflicts["conflicts"]
    for conflict in conflicts["conflicts"]:
        claims = conflict.get("claims") or []
        assert len(claims) >= 2, conflict["id"]
        # Two documents, or one document at odds with itself (needle-depth).
        assert len({(c["document"], c["claim"]) for c in claims}) >= 2, conflict["id"]
        assert conflict.get("common_ground"), conflict["id"]


def test_every_question_cites_a_known_document_section(bank):
    """Every citation names a document in sources.yaml and one of its listed sections."""
    sources = yaml.safe_load((SHIPPED / "sources.yaml").read_text(encoding="utf-8"))
    sections = {d["id"]: set(d["sections"]) for d in sources["documents"]}
    bad = [
        (q.id, c.document, c.section)
        for q in bank.questions.values()
        for c in q.sources
        if c.section not in sections.get(c.document, set())
    ]
    assert all(q.sources for q in bank.questions.values())
    assert bad == []


def test_question_ids_follow_the_topic_files(bank):
    """Every question file holds questions of its own topic, ids unique across the bank."""
    seen = Counter()
    for path in sorted((SHIPPED / "questions").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["topic"] == path.stem
        seen.update(q["id"] for q in data["questions"])
    assert [qid for qid, n in seen.items() if n > 1] == []
    assert set(seen) == set(bank.questions)
