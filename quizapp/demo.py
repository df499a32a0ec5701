"""Demo data: a trainee who failed the certification two days ago, so a new user can
see a study plan and a retake without waiting a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from quizapp import attempts
from quizapp.extensions import db
from quizapp.models import Exam, User


def fail_certification(user: User, now: datetime) -> None:
    """Sit and fail the certification as `user`, finished two days before `now`:
    every question right except one safety-critical question and one topic."""
    certification = db.session.get(Exam, "certification")
    if certification is None:
        return
    began = now - timedelta(days=2, minutes=30)
    attempt = attempts.start(user, certification, began)
    missed = next(i for i in attempt.items if i.version.content["safety_critical"])
    weak_topic = missed.version.question.topic_id
    for item in attempt.items:
        content = item.version.content
        wrong = item is missed or item.version.question.topic_id == weak_topic
        keyed = [o["id"] for o in content["options"] if o["correct"]]
        choice = [next(o["id"] for o in content["options"] if not o["correct"])] if wrong else keyed
        by_id = dict(zip(item.option_order, item.option_tokens, strict=True))
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(by_id[c] for c in choice), item.sequence),
                             began + timedelta(minutes=20), timedelta(0))
    attempts.finish(attempt, began + timedelta(minutes=25))
