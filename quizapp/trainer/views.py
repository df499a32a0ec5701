from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from quizapp.citations import citation_labels
from quizapp.extensions import db
from quizapp.models import Question, Topic
from quizapp.trainer import bp


@bp.get("/questions")
def questions():
    topics = db.session.scalars(select(Topic).order_by(Topic.position)).all()
    rows = db.session.scalars(select(Question).order_by(Question.id)).all()
    by_topic = {t.id: [q for q in rows if q.topic_id == t.id] for t in topics}
    return render_template("trainer/questions.html", topics=topics, by_topic=by_topic)


@bp.get("/questions/<question_id>")
def question(question_id: str):
    row = db.get_or_404(Question, question_id)
    return render_template("trainer/question.html", question=row,
                           citations=citation_labels(row.latest.content))
