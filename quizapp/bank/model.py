"""The question bank as plain values, independent of files and of the database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from quizapp import exam_rules
from quizapp.question_types import QUESTION_TYPES

__all__ = ["QUESTION_TYPES"]  # the one list of types, owned by quizapp.question_types
DIFFICULTIES = ("easy", "medium", "hard")
STATUSES = ("draft", "review", "published", "retired")


@dataclass(frozen=True)
class Problem:
    """One finding of the checker, located by file and item id."""

    level: str  # "error" or "warning"
    file: str
    item: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.item}" if self.item else self.file
        return f"{self.level}: {where}: {self.message}"


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    correct: bool
    rationale: str = ""


@dataclass(frozen=True)
class Citation:
    document: str
    section: str
    fact: str


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    type: str
    stem: str
    options: tuple[Option, ...]
    explanation: str
    difficulty: str
    safety_critical: bool
    sources: tuple[Citation, ...]
    scenario: bool = False
    # Keep the author's option order (numbers ascending, True before False).
    ordered: bool = False
    status: str = "published"
    # The risk category (from topics.yaml) a safety-critical question guards against.
    risk: str | None = None
    # Drawn in practice exams only, never in the certification exam.
    practice_only: bool = False
    # Questions never to share a form with this one, as the author declared them
    # (the relation is symmetric; see `Bank.enemy_map` for the whole of it).
    enemies: tuple[str, ...] = ()

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)

    def content(self) -> dict:
        """The versioned content: everything but id, topic and status."""
        return {
            "type": self.type,
            "stem": self.stem,
            "options": [
                {"id": o.id, "text": o.text, "correct": o.correct, "rationale": o.rationale}
                for o in self.options
            ],
            "explanation": self.explanation,
            "difficulty": self.difficulty,
            "safety_critical": self.safety_critical,
            "scenario": self.scenario,
            "ordered": self.ordered,
            "risk": self.risk,
            "practice_only": self.practice_only,
            "enemies": list(self.enemies),
            "sources": [
                {"document": c.document, "section": c.section, "fact": c.fact}
                for c in self.sources
            ],
        }

    def content_hash(self) -> str:
        """A fingerprint of the content, so an unchanged question is recognised."""
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_content(cls, id: str, topic: str, status: str, content: dict) -> Question:
        return cls(
            id=id,
            topic=topic,
            status=status,
            type=content["type"],
            stem=content["stem"],
            options=tuple(Option(**o) for o in content["options"]),
            explanation=content["explanation"],
            difficulty=content["difficulty"],
            safety_critical=content["safety_critical"],
            scenario=content.get("scenario", False),
            ordered=content.get("ordered", False),
            # Content stored before these fields existed reads as their defaults.
            risk=content.get("risk"),
            practice_only=content.get("practice_only", False),
            enemies=tuple(content.get("enemies", ())),
            sources=tuple(Citation(**c) for c in content["sources"]),
        )


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    short_title: str
    sections: tuple[str, ...]
    file: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    minimum: int = 0


@dataclass(frozen=True)
class Fact:
    id: str
    topic: str
    document: str
    section: str
    fact: str
    questions: tuple[str, ...] = ()
    risk: str | None = None  # a risk category id; required in contraindications


@dataclass(frozen=True)
class Claim:
    document: str
    section: str
    claim: str
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    id: str
    topic: str
    subject: str
    common_ground: str
    claims: tuple[Claim, ...]


@dataclass
class Bank:
    """Everything in `question_bank/`, parsed."""

    documents: dict[str, Document] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)
    exams: list = field(default_factory=list)  # exam_rules.ExamRules
    # Risk category id -> name, in the order of topics.yaml.
    risk_categories: dict[str, str] = field(default_factory=dict)
    minimum_scenario_share: float = 0.0
    root_name: str = "question_bank"
    # Where each question and fact came from, for messages.
    origin: dict[str, str] = field(default_factory=dict)

    def published(self) -> list[Question]:
        return [q for q in self.questions.values() if q.status == "published"]

    def enemy_map(self) -> dict[str, frozenset[str]]:
        """Question id -> the questions it must never share a form with: those listed
        under one fact with it, and those declared on either side."""
        return exam_rules.enemy_map(
            (fact.questions for fact in self.facts.values()),
            {q.id: q.enemies for q in self.questions.values()},
        )
