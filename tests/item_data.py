"""Finished attempts made in bulk with the models, for the item-analysis tests: fast
enough for a thousand attempts, with the response matrix kept to check against."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from quizapp import item_stats
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    User,
    UserRole,
)

FINISHED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)




class Sittings:
    """Finished attempts made in bulk with the models (thousands in a second), each by
    a trainee of its own unless told, on forms drawn at random from the pool."""

    def __init__(self, exam_id: str = "certification", form_size: int = 6, pool: int = 10):
        self.exam = db.session.get(Exam, exam_id)
        versions = db.session.execute(
            select(QuestionVersion.id, QuestionVersion.question_id, QuestionVersion.content)
            .join(Question, Question.id == QuestionVersion.question_id)
            .where(Question.topic_id.in_(list(self.exam.rules.blueprint.topics)),
                   QuestionVersion.content["type"].as_string() == "single")
            .order_by(QuestionVersion.question_id).limit(pool)).all()
        self.pool = [(vid, qid, [o["id"] for o in content["options"]],
                      next(o["id"] for o in content["options"] if o["correct"]))
                     for vid, qid, content in versions]
        self.form_size = form_size
        self.next_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
        self.next_attempt = (db.session.scalar(select(func.max(Attempt.id))) or 0) + 1
        self.matrix: list[item_stats.Responses] = []

    def add(self, count: int, rng: random.Random, cohort: Cohort | None = None,
            number: int = 1, finished_at: datetime = FINISHED, user_ids=None) -> list[int]:
        users, attempts, items, members = [], [], [], []
        for n in range(count):
            user_id = user_ids[n] if user_ids else self.next_user
            if not user_ids:
                self.next_user += 1
                users.append({"id": user_id, "email": f"t{user_id}@example.com",
                              "name": f"Trainee {user_id}", "password_hash": "x"})
                if cohort is not None:
                    members.append({"cohort_id": cohort.id, "user_id": user_id})
            attempt_id = self.next_attempt
            self.next_attempt += 1
            ability = rng.gauss(0, 1)
            marks, choices = {}, {}
            for position, (vid, qid, options, key) in enumerate(
                    rng.sample(self.pool, self.form_size), start=1):
                right = rng.random() < 1 / (1 + 2.718 ** -(ability + 1))
                chosen = key if right else rng.choice([o for o in options if o != key])
                marks[qid], choices[qid] = float(right), [chosen]
                items.append({"attempt_id": attempt_id, "position": position,
                              "question_version_id": vid, "option_order": options,
                              "option_tokens": options, "response": [chosen],
                              "mark": float(right)})
            attempts.append({
                "id": attempt_id, "user_id": user_id, "exam_id": self.exam.id,
                "state": "finished", "seed": 1, "rules_data": self.exam.rules_data,
                "number": number, "started_at": finished_at - timedelta(minutes=30),
                "finished_at": finished_at,
                "score_percent": 100 * sum(marks.values()) / len(marks)})
            self.matrix.append(item_stats.Responses(marks, choices))
        if users:
            db.session.execute(insert(User), users)
            db.session.execute(insert(UserRole),
                               [{"user_id": u["id"], "role": "trainee"} for u in users])
        if members:
            db.session.execute(insert(CohortMember), members)
        db.session.execute(insert(Attempt), attempts)
        db.session.execute(insert(AttemptItem), items)
        db.session.commit()
        return [a["user_id"] for a in attempts]


def cohort(name: str, manager: User | None = None) -> Cohort:
    made = Cohort(name=name)
    db.session.add(made)
    db.session.flush()
    if manager is not None:
        db.session.add(CohortManager(cohort_id=made.id, user_id=manager.id))
    db.session.commit()
    return made
