"""Modified Angoff ratings: trainers judge, per question, the chance (0 to 100%) that a
minimally competent practitioner answers it correctly.

A form's pass mark is computed from these when it is drawn (`exam_rules.form_pass_mark`,
fed by `summaries` in `attempts.start`); this module stores the ratings and shows them
to the judges, a topic at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import AngoffRating, Question, QuestionVersion, Topic, User
from quizapp.paging import pages_of

PAGE_SIZE = 10


class RatingError(ServiceError):
    """A rating that cannot be stored; the message is for the trainer."""

    status = 400

    def __init__(self, message: str, status: int | None = None,
                 question_id: str | None = None):
        super().__init__(message, status)
        self.question_id = question_id


def summaries(question_ids: Iterable[str]) -> dict[str, tuple[float, int]]:
    """Question id -> (mean rating 0..1, number of ratings), in one grouped query;
    questions nobody rated are absent."""
    ids = list(dict.fromkeys(question_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(AngoffRating.question_id, func.avg(AngoffRating.rating), func.count())
        .where(AngoffRating.question_id.in_(ids))
        .group_by(AngoffRating.question_id)
    )
    return {qid: (float(mean), count) for qid, mean, count in rows}


def coverage(question_ids: Iterable[str], min_ratings: int) -> tuple[int, int]:
    """How many of these questions have at least `min_ratings` ratings, of how many."""
    ids = list(dict.fromkeys(question_ids))
    rated = summaries(ids)
    return sum(1 for qid in ids if rated.get(qid, (0, 0))[1] >= min_ratings), len(ids)


@dataclass(frozen=True)
class RatedQuestion:
    id: str
    version: int
    stem: str
    options: tuple[tuple[str, bool], ...]  # (text, correct), in the bank's order
    safety_critical: bool
    own: int | None  # this judge's rating, in percent
    mean: float | None  # mean of all ratings, in percent
    count: int


@dataclass(frozen=True)
class RatingPage:
    topics: tuple[Topic, ...]
    topic: Topic
    questions: tuple[RatedQuestion, ...]
    page: int
    pages: int
    total: int  # published questions in the topic


def rating_page(judge: User, topic_id: str | None, page: int = 1) -> RatingPage:
    """One page of a topic's published questions with their key, this judge's rating,
    and the mean and number of all ratings. Five queries, whatever the data.

    :raise RatingError: (404) no such topic or page."""
    topics = tuple(db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)))
    if not topics:
        raise RatingError("There are no topics yet: import the question bank first.", 404)
    topic = next((t for t in topics if t.id == topic_id), None) if topic_id else topics[0]
    if topic is None:
        raise RatingError(f"There is no topic '{topic_id}'.", 404)
    published = (Question.topic_id == topic.id, Question.status == "published")
    total = db.session.scalar(select(func.count()).select_from(Question).where(*published))
    pages, within = pages_of(total, page, PAGE_SIZE)
    if page != within:
        raise RatingError(f"There is no page {page} of {topic.name}.", 404)
    rows = db.session.execute(
        select(Question.id, QuestionVersion.version, QuestionVersion.content)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.version == Question.current_version))
        .where(*published)
        .order_by(Question.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [qid for qid, _, _ in rows]
    rated = summaries(ids)
    own = dict(db.session.execute(
        select(AngoffRating.question_id, AngoffRating.rating)
        .where(AngoffRating.user_id == judge.id, AngoffRating.question_id.in_(ids))
    ).all())
    questions = tuple(
        RatedQuestion(
            id=qid, version=version, stem=content["stem"],
            options=tuple((o["text"], bool(o["correct"])) for o in content["options"]),
            safety_critical=bool(content["safety_critical"]),
            own=None if qid not in own else round(own[qid] * 100),
            mean=None if qid not in rated else rated[qid][0] * 100,
            count=rated.get(qid, (0.0, 0))[1],
        )
        for qid, version, content in rows
    )
    return RatingPage(topics, topic, questions, page, pages, total)


def save_ratings(judge: User, ratings: Mapping[str, int | None], now: datetime) -> int:
    """Store this judge's ratings, in percent (0 to 100) by question id; None removes
    the judge's rating of that question. Return how many ratings changed. The caller
    commits.

    :raise RatingError: a rating out of range, or a question that is not published."""
    for qid, value in ratings.items():
        if value is not None and not 0 <= value <= 100:
            raise RatingError(f"The rating of {qid} must be from 0 to 100 (it was {value}).",
                              question_id=qid)
    ids = list(ratings)
    published = set(db.session.scalars(
        select(Question.id).where(Question.id.in_(ids), Question.status == "published")))
    unknown = [qid for qid in ids if qid not in published]
    if unknown:
        raise RatingError(f"Only published questions are rated: {', '.join(unknown)}.")
    stored = {row.question_id: row for row in db.session.scalars(
        select(AngoffRating).where(AngoffRating.user_id == judge.id,
                                   AngoffRating.question_id.in_(ids)))}
    changed = 0
    for qid, value in ratings.items():
        row = stored.get(qid)
        if value is None:
            if row is not None:
                db.session.delete(row)
                changed += 1
        elif row is None:
            db.session.add(AngoffRating(question_id=qid, user_id=judge.id,
                                        rating=value / 100, rated_at=now))
            changed += 1
        elif round(row.rating * 100) != value:
            row.rating, row.rated_at = value / 100, now
            changed += 1
    return changed
