"""Accommodations: extra time and attempts for a trainee, granted, changed and removed
by a manager who sees that trainee (`quizapp.accommodations` checks and records them)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from quizapp import accommodations
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.models import Exam, utcnow
from quizapp.validators import clean_text

WHOLE = {"inputmode": "numeric", "min": 0}


class GrantForm(FlaskForm):
    # Ranges and the reason are checked by the service, with messages that say why.
    exam = SelectField("Exam", validate_choice=False)
    extra_time_percent = IntegerField("Extra time, as a percentage of the time limit",
                                      validators=[Optional()], render_kw=WHOLE)
    extra_minutes = IntegerField("or extra time, in minutes", validators=[Optional()],
                                 render_kw=WHOLE)
    extra_attempts = IntegerField("Extra attempts", validators=[Optional()], render_kw=WHOLE)
    reason = TextAreaField("Reason (kept in the trainee's audit trail)", filters=[clean_text])

    def to_grant(self) -> accommodations.Grant:
        return accommodations.Grant(
            exam_id=self.exam.data or "",
            extra_time_percent=self.extra_time_percent.data or 0,
            extra_minutes=self.extra_minutes.data or 0,
            extra_attempts=self.extra_attempts.data or 0,
            reason=self.reason.data or "",
        )


class RemoveForm(FlaskForm):
    # Its own name, so a post of this form is told apart from the grant form.
    remove_exam = HiddenField()


@bp.get("/accommodations")
def accommodations_list():
    return render_template("manager/accommodations.html",
                           rows=accommodations.current(current_user))


def _exam_choices() -> list[SelectChoice]:
    """The exams an accommodation can change: timed, or with a limit on attempts."""
    exams = db.session.scalars(select(Exam).order_by(Exam.position, Exam.id))
    return [SelectChoice(exam.id, exam.title) for exam in exams
            if exam.rules.time_limit is not None or exam.rules.attempts_allowed is not None]


@bp.route("/trainees/<int:user_id>/accommodations", methods=["GET", "POST"])
def trainee_accommodations(user_id: int):
    try:
        person, rows = accommodations.of_trainee(current_user, user_id)
    except accommodations.NotFound as error:
        abort(404, str(error))
    if request.method == "POST" and "remove_exam" in request.form:
        return _remove(user_id)
    form = GrantForm()
    form.exam.choices = _exam_choices()
    chosen = request.form.get("exam") if request.method == "POST" else request.args.get("exam")
    editing = next((r for r in rows if r.exam.id == chosen), None)
    if request.method == "GET" and editing is not None:
        held = editing.accommodation
        form.process(data={"exam": held.exam_id, "extra_time_percent": held.extra_time_percent,
                           "extra_minutes": held.extra_minutes,
                           "extra_attempts": held.extra_attempts, "reason": held.reason})
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                accommodations.grant(current_user, user_id, form.to_grant(), utcnow())
            except accommodations.AccommodationError as error:
                db.session.rollback()
                name = "exam" if error.field in (None, "exam_id") else error.field
                form[name].errors = [*form[name].errors, str(error)]
                status = error.status
            else:
                db.session.commit()
                flash(f"Accommodation saved for {person.name}. It applies to attempts started"
                      " from now on.", "success")
                return redirect(url_for("manager.trainee_accommodations", user_id=user_id))
    return render_template("manager/accommodation.html", person=person, rows=rows, form=form,
                           editing=editing), status


def _remove(user_id: int):
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    try:
        exam = accommodations.remove(current_user, user_id, form.remove_exam.data or "")
    except accommodations.NotFound as error:
        abort(404, str(error))
    db.session.commit()
    flash(f"The accommodation for {exam.title} is removed.", "success")
    return redirect(url_for("manager.trainee_accommodations", user_id=user_id))
