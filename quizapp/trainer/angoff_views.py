"""Angoff ratings: trainers judge how a minimally competent practitioner would do on
each question, a topic at a time. The ratings set the pass mark of exams that use the
modified Angoff method (see `quizapp.angoff`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import Optional

from quizapp import angoff
from quizapp.extensions import db
from quizapp.models import utcnow
from quizapp.trainer import bp


def field_name(question_id: str) -> str:
    return f"r-{question_id}"


def _ratings_form(page: angoff.RatingPage) -> FlaskForm:
    """A form with one rating (a whole percent, or empty) per question on the page."""

    class RatingsForm(FlaskForm):
        pass

    for question in page.questions:
        # The range is the service's rule; min and max only help the browser's keypad.
        setattr(RatingsForm, field_name(question.id), IntegerField(
            f"Your rating of {question.id}, in %", validators=[Optional()],
            render_kw={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"}))
    return RatingsForm(data={field_name(q.id): q.own for q in page.questions})


def _page_number() -> int:
    value = request.args.get("page", "1")
    if not value.isdigit() or len(value) > 6:
        abort(400, "'page' must be a whole number.")
    return int(value)


def _page(topic_id: str | None, number: int) -> angoff.RatingPage:
    try:
        return angoff.rating_page(current_user, topic_id, number)
    except angoff.RatingError as error:
        abort(error.status, str(error))


@bp.route("/angoff", methods=["GET", "POST"])
def angoff_ratings():
    topic_id = request.args.get("topic") or None
    page = _page(topic_id, _page_number())
    form = _ratings_form(page)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            ratings = {q.id: form[field_name(q.id)].data for q in page.questions}
            try:
                changed = angoff.save_ratings(current_user, ratings, utcnow())
            except angoff.RatingError as error:
                db.session.rollback()
                flash(str(error), "error")
                if error.question_id is not None:
                    form[field_name(error.question_id)].errors.append(str(error))
                status = error.status
            else:
                db.session.commit()
                flash(f"Saved: {changed} rating{'' if changed == 1 else 's'} changed.",
                      "success")
                return redirect(url_for("trainer.angoff_ratings", topic=page.topic.id,
                                        page=page.page))
        else:
            flash("Some ratings could not be read: give whole numbers from 0 to 100.",
                  "error")
            status = 400
    return render_template("trainer/angoff.html", page=page, form=form,
                           field_name=field_name), status
