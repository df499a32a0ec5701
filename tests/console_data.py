"""A small world worked out by hand for the console's reports (dashboard, exports),
and attempts made in bulk with the models for their query counts.

Topics Alpha (a1, a2) and Beta (b1, b2); a certification exam of those four questions
(two attempts allowed) and a practice quiz on Alpha. Cohort North (Maya Manager):
Tessa and Oscar; cohort South (Mo Manager): Sam.

| trainee | finished (2025)  | exam  | score | passed | marks a1 a2 b1 b2 |
| Tessa   | 3 Mar 10:00      | cert  | 50    | no     | 1 0 0 1           |
| Tessa   | 12 Mar 09:00     | cert  | 100   | yes    | 1 1 1 1           |
| Oscar   | 4 Mar 11:00      | cert  | 75    | no     | 1 1 1 0           |
| Oscar   | 5 Mar 12:00      | cert  | 25    | no     | 0 0 1 0           |
| Sam     | 4 Mar 15:00      | cert  | 90    | yes    | 1 1 1 1 (approx.) |
| Tessa   | 6 Mar 08:00      | prac  | 60    |        | 1 0               |

Tessa's certificate expires in 30 days; Sam's in 90. Oscar has used both attempts
and holds no certificate: locked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from support import PASSWORD

from quizapp import exam_rules
from quizapp.accounts import create_user
from quizapp.attempts import record_topic_marks
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Certificate,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
    utcnow,
)

CERT, PRACTICE = "console-cert", "console-practice"
QUESTIONS = {"a1": "alpha", "a2": "alpha", "b1": "beta", "b2": "beta"}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def _content(qid: str) -> dict:
    return {"type": "single", "stem": f"Question {qid}?",
            "options": [{"id": o, "text": f"Option {o}", "correct": o == "a", "rationale": ""}
                        for o in "abcd"],
            "explanation": "Because.", "difficulty": "medium", "safety_critical": False,
            "scenario": False, "ordered": False, "risk": None, "practice_only": False,
            "enemies": [], "sources": []}


def _exam(exam_id: str, kind: str, topics: dict, attempts_allowed=None) -> Exam:
    rules = exam_rules.ExamRules(
        id=exam_id, title=f"Console {kind}", kind=kind,
        blueprint=exam_rules.Blueprint(topics), pass_mark_percent=80,
        attempts_allowed=attempts_allowed,
        certificate_validity_months=24 if kind == "certification" else None)
    return Exam(id=exam_id, title=rules.title, kind=kind, rules_data=rules.to_dict(),
                position=0 if kind == "certification" else 1)


@dataclass
class World:
    maya: User  # manages North
    mo: User  # manages South
    admin: User
    tessa: User
    oscar: User
    sam: User
    north: Cohort
    south: Cohort
    versions: dict[str, int]  # question id -> version id


def person(email: str, name: str, *roles: str) -> User:
    return create_user(email, name, PASSWORD, list(roles) or ["trainee"])


def build_world() -> World:
    db.session.add_all([Topic(id="alpha", name="Alpha", position=0),
                        Topic(id="beta", name="Beta", position=1)])
    for qid, topic in QUESTIONS.items():
        db.session.add(Question(id=qid, topic_id=topic, status="published", current_version=1,
                                versions=[QuestionVersion(version=1, content=_content(qid),
                                                          content_hash=qid)]))
    db.session.add_all([_exam(CERT, "certification", {"alpha": 2, "beta": 2}, 2),
                        _exam(PRACTICE, "practice", {"alpha": 2})])
    maya = person("maya@example.com", "Maya Manager", "manager")
    mo = person("mo@example.com", "Mo Manager", "manager")
    admin = person("alex@example.com", "Alex Admin", "admin")
    tessa = person("tessa@example.com", "Tessa Trainee")
    oscar = person("oscar@example.com", "Oscar Other")
    sam = person("sam@example.com", "Sam South")
    north, south = Cohort(name="North"), Cohort(name="South")
    db.session.add_all([north, south])
    db.session.flush()
    db.session.add_all([
        CohortManager(cohort_id=north.id, user_id=maya.id),
        CohortManager(cohort_id=south.id, user_id=mo.id),
        CohortMember(cohort_id=north.id, user_id=tessa.id),
        CohortMember(cohort_id=north.id, user_id=oscar.id),
        CohortMember(cohort_id=south.id, user_id=sam.id),
    ])
    db.session.flush()
    versions = dict(db.session.execute(
        select(QuestionVersion.question_id, QuestionVersion.id)).all())
    world = World(maya, mo, admin, tessa, oscar, sam, north, south, versions)
    take(world, tessa, CERT, at(3), 50, False, {"a1": 1, "a2": 0, "b1": 0, "b2": 1}, 1)
    first_pass = take(world, tessa, CERT, at(12, 9), 100, True,
                      {"a1": 1, "a2": 1, "b1": 1, "b2": 1}, 2)
    take(world, oscar, CERT, at(4, 11), 75, False, {"a1": 1, "a2": 1, "b1": 1, "b2": 0}, 1)
    take(world, oscar, CERT, at(5, 12), 25, False, {"a1": 0, "a2": 0, "b1": 1, "b2": 0}, 2)
    sams = take(world, sam, CERT, at(4, 15), 90, True, {"a1": 1, "a2": 1, "b1": 1, "b2": 0.6}, 1)
    take(world, tessa, PRACTICE, at(6, 8), 60, None, {"a1": 1, "a2": 0}, 1)
    now = utcnow()
    certificate(tessa, first_pass, "TESSACODE0000000000000001", now + timedelta(days=30))
    certificate(sam, sams, "SAMCODE000000000000000001", now + timedelta(days=90))
    db.session.commit()
    return world


def take(world: World, user: User, exam_id: str, finished: datetime, score: float,
         passed: bool | None, marks: dict[str, float], number: int) -> Attempt:
    """A finished attempt as `attempts.finish` leaves one, made directly."""
    exam = db.session.get(Exam, exam_id)
    attempt = Attempt(user_id=user.id, exam_id=exam_id, state="finished", seed=1,
                      rules_data=exam.rules_data, number=number, started_at=finished
                      - timedelta(minutes=20), finished_at=finished, score_percent=score,
                      passed=passed, pass_mark_percent=80.0, pass_mark_method="fixed")
    attempt.items = [
        AttemptItem(position=n, question_version_id=world.versions[qid],
                    option_order=list("abcd"), option_tokens=["t1", "t2", "t3", "t4"],
                    response=["a"], mark=mark)
        for n, (qid, mark) in enumerate(marks.items(), start=1)
    ]
    db.session.add(attempt)
    db.session.flush()
    record_topic_marks([attempt.id])
    return attempt


def certificate(user: User, attempt: Attempt, code: str, expires: datetime,
                **fields) -> Certificate:
    made = Certificate(code=code, user_id=user.id, exam_id=attempt.exam_id,
                       attempt_id=attempt.id, holder_name=user.name, title="Console cert",
                       issued_at=attempt.finished_at, expires_at=expires, **fields)
    db.session.add(made)
    return made


def bulk_attempts(world: World, count: int, user: User | None = None,
                  exam_id: str = PRACTICE) -> None:
    """`count` more finished attempts with their items, inserted in bulk (practice by
    default, so who is certified or locked out stays as the world has it)."""
    user = user or world.tessa
    exam = db.session.get(Exam, exam_id)
    first = (db.session.scalar(select(Attempt.id).order_by(Attempt.id.desc()).limit(1)) or 0) + 1
    qids = ["a1", "a2"] if exam_id == PRACTICE else list(QUESTIONS)
    attempts, items = [], []
    for n in range(count):
        finished = at(1 + n % 28, 8 + n % 10)
        attempt_id = first + n
        attempts.append({"id": attempt_id, "user_id": user.id, "exam_id": exam_id,
                         "state": "finished", "seed": n, "rules_data": exam.rules_data,
                         "number": 10 + n, "exam_version": 1, "started_at": finished
                         - timedelta(minutes=5), "finished_at": finished,
                         "score_percent": float(n % 101), "passed": n % 3 == 0,
                         "pass_mark_percent": 80.0, "pass_mark_method": "fixed"})
        for position, qid in enumerate(qids, start=1):
            items.append({"attempt_id": attempt_id, "position": position,
                          "question_version_id": world.versions[qid],
                          "option_order": list("abcd"), "option_tokens": list("wxyz"),
                          "response": ["a"], "mark": float((n + position) % 2)})
    db.session.execute(insert(Attempt), attempts)
    db.session.execute(insert(AttemptItem), items)
    record_topic_marks([row["id"] for row in attempts])
    db.session.commit()
    _fix_sequences()


def _fix_sequences() -> None:
    """On PostgreSQL, ids inserted by hand leave the sequence behind; catch it up."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text(
            "SELECT setval(pg_get_serial_sequence('attempt', 'id'),"
            " (SELECT max(id) FROM attempt))"))
        db.session.commit()
