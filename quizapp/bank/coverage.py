"""What the bank holds: counts, coverage of the documents' facts and of the kinds
of risk, conflicts."""

from __future__ import annotations

from collections import Counter

from quizapp.bank.check import uncovered_facts
from quizapp.bank.model import Bank


def summary(bank: Bank) -> dict:
    questions = list(bank.questions.values())
    published = bank.published()
    per_topic = Counter(q.topic for q in published)
    return {
        "questions": len(questions),
        "published": len(published),
        "per_topic": {
            topic.id: {"name": topic.name, "published": per_topic[topic.id],
                       "minimum": topic.minimum, "met": per_topic[topic.id] >= topic.minimum}
            for topic in bank.topics.values()
        },
        "per_type": dict(sorted(Counter(q.type for q in published).items())),
        "per_difficulty": dict(sorted(Counter(q.difficulty for q in published).items())),
        "per_status": dict(sorted(Counter(q.status for q in questions).items())),
        "safety_critical": sum(q.safety_critical for q in published),
        "practice_only": sum(q.practice_only for q in published),
        # What the certification exam can draw from, by kind of risk.
        "per_risk": {
            category: {
                "name": name,
                "safety_critical": sum(
                    1 for q in published
                    if q.risk == category and q.safety_critical and not q.practice_only
                ),
                "facts": sum(1 for f in bank.facts.values() if f.risk == category),
            }
            for category, name in bank.risk_categories.items()
        },
        "scenario_share": round(sum(q.scenario for q in published) / len(published), 3)
        if published else 0.0,
        "minimum_scenario_share": bank.minimum_scenario_share,
        "facts": len(bank.facts),
        "uncovered_facts": uncovered_facts(bank),
        "conflicts": [
            {"id": c.id, "subject": c.subject, "common_ground": c.common_ground,
             "claims": [{"document": cl.document, "section": cl.section, "claim": cl.claim}
                        for cl in c.claims]}
            for c in bank.conflicts.values()
        ],
    }
